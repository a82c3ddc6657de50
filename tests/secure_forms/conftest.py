"""The in-memory store every secure form test starts from, on the hand-moved clock."""

from __future__ import annotations

import pytest

from integrations_mcp.secure_forms.store import SecureFormStore
from tests.harness import FakeClock


@pytest.fixture
def store(clock: FakeClock) -> SecureFormStore:
    return SecureFormStore(clock=clock)
