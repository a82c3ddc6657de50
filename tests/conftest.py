"""What every test folder shares as fixtures: the async backend and a clock moved by hand. Everything else a test
needs is imported from tests/harness.py (MCP sessions, subprocess servers) or tests/pages.py (reading a page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations_mcp.guardrails.outputs import forget_configured_secrets
from tests.harness import FakeClock


@pytest.fixture(autouse=True)
def one_servers_secrets() -> Iterator[None]:
    """The output filter's configured secrets are process-wide (one server a process in real use): each test starts
    with none, so keys configured by earlier tests cannot mask parts of this test's random ids."""
    forget_configured_secrets()
    yield


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
