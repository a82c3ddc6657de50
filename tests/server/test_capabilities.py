"""The server advertises the same capabilities in both protocol eras, and only what it does."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.harness import both_settings, make_server

pytestmark = pytest.mark.anyio


async def test_capabilities_are_the_same_in_both_eras_and_promise_no_list_changes() -> None:
    server = make_server(both_settings())
    seen = {}
    for mode in ("auto", "legacy"):
        async with Client(server, mode=mode) as client:
            seen[mode] = client.server_capabilities.model_dump(exclude_none=True)
    assert seen["auto"] == seen["legacy"]
    assert seen["auto"]["tools"] == {"list_changed": False}
    assert seen["auto"]["resources"] == {"subscribe": False, "list_changed": False}
