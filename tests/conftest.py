"""Shared fixtures: emulators in-process (over a real ASGI path) and an MCP client session on the server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr

from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.vendors.revcent.settings import RevCentSettings

REVCENT_TEST_URL = "http://revcent.test/v2"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CLOCK_START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class FakeClock:
    """A clock tests move by hand: `clock.now += 3600`."""

    def __init__(self) -> None:
        self.now = CLOCK_START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def revcent() -> RevCentEmulator:
    return RevCentEmulator(api_key=SANDBOX_API_KEY)


def revcent_settings(**overrides: Any) -> Settings:
    return Settings(vendors={"revcent": RevCentSettings(SecretStr(SANDBOX_API_KEY), REVCENT_TEST_URL)}, **overrides)


@asynccontextmanager
async def connect(emulator: RevCentEmulator, **settings: Any) -> AsyncIterator[Client]:
    server = build_server(revcent_settings(**settings),
                          transports={"revcent": httpx2.ASGITransport(app=emulator.app)})
    async with Client(server, raise_exceptions=True) as client:
        yield client


@pytest.fixture
async def client(revcent: RevCentEmulator) -> AsyncIterator[Client]:
    async with connect(revcent) as c:
        yield c


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, arguments: dict[str, Any], *needles: str) -> str:
    """Call a tool that must be refused; check the message names each needle; return the message."""
    result = await client.call_tool(tool, arguments)
    message = text_of(result)
    assert result.is_error, f"{tool} was not refused: {message}"
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"
    return message


WritesCounter = Callable[[], int]
