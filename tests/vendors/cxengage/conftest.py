"""The CxEngage tool tests' fixtures: a fresh emulator, and a session on a server serving CxEngage alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from tests.harness import Session, connect, cxengage_settings


@pytest.fixture
def emu() -> CxEngageEmulator:
    return CxEngageEmulator()


@pytest.fixture
async def cx(emu: CxEngageEmulator) -> AsyncIterator[Session]:
    async with connect(cxengage_settings(), cxengage=emu) as c:
        yield c
