"""The RevCent tool tests' fixtures: a fresh emulator, and a client on a server serving RevCent alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import connect, revcent_emulator, revcent_settings


@pytest.fixture
def revcent() -> RevCentEmulator:
    return revcent_emulator()


@pytest.fixture
async def client(revcent: RevCentEmulator) -> AsyncIterator[Client]:
    async with connect(revcent_settings(), revcent=revcent) as session:
        yield session.client
