"""What every test folder shares as fixtures: the async backend and a clock moved by hand. Everything else a test
needs is imported from tests/harness.py (MCP sessions, subprocess servers) or tests/pages.py (reading a page)."""

from __future__ import annotations

import pytest

from tests.harness import FakeClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
