"""A vendor's tools object (its client, models and write path) and the write pipeline are made by the first call
that needs them, from the shipped schema files (cold start): once per server, also when first calls come at once,
and a revert works as the first call of a fresh server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import pytest

from integrations_mcp.once import Once
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from tests.harness import both_settings, connect, revcent_emulator
from tests.vendors.cxengage.helpers import ZENDESK

pytestmark = pytest.mark.anyio

READS = [("GetSiteThirdPartyIntegrations", {}), ("GetUserThirdPartyIntegrations", {}),
         ("GetCxEngageIntegrations", {}), ("GetIntegrationChanges", {}), ("GetSiteThirdPartyIntegrations", {"page": 2}),
         ("GetCxEngageIntegrations", {"limit": 5}), ("GetIntegrationGuide", {"guide": "common/guardrails"})]


async def test_first_calls_at_once_make_each_tools_object_once() -> None:
    async with connect(both_settings()) as s:
        specs = s.server.tool_specs
        assert not any(spec.tool.fn_metadata._built for spec in specs.values())  # nothing made by listing
        answers: list[bool] = []

        async def call(tool: str, arguments: dict[str, object]) -> None:
            answers.append(not (await s.call(tool, arguments)).is_error)

        async with anyio.create_task_group() as group:
            for tool, arguments in READS:
                group.start_soon(call, tool, arguments)
        assert answers == [True] * len(READS)
        owners: dict[str, set[int]] = {}
        for spec in specs.values():  # every tool of one object resolves to a method of that one object
            method = spec.tool.fn_metadata._resolve()
            owners.setdefault(type(method.__self__).__name__, set()).add(id(method.__self__))
        assert set(owners) == {"RevCentTools", "CxEngageTools", "JournalTools", "GuideTools"}
        assert all(len(ids) == 1 for ids in owners.values()), owners


def test_once_makes_its_value_once_when_threads_ask_together() -> None:
    made: list[int] = []

    def make() -> object:
        made.append(1)
        time.sleep(0.05)  # the others ask meanwhile
        return object()

    once = Once(make)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(once())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1] and len(seen) == 8 and all(value is seen[0] for value in seen)


async def test_a_revert_is_the_first_call_of_a_fresh_server(tmp_path: Path) -> None:
    """The journal's revert hook of a vendor whose tools no call has made yet makes them."""
    settings = both_settings(state_url=f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}")
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    async with connect(settings, revcent=revcent, cxengage=cxengage) as s:
        form_id = await s.form("zendesk", {"password": "pw-typed-in-the-form"})
        created = await s.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                             secure_form_id=form_id)
        iid = created["integration_id"]
        await s.ok("EditCxEngageIntegration", integration_id=iid, description="Tickets", name="Help desk",
                   confirm_overwrite=True)
        edit = (await s.ok("GetIntegrationChanges", vendor="cxengage"))["results"][0]
    async with connect(settings, revcent=revcent, cxengage=cxengage) as fresh:
        assert fresh.server.tool_specs["RevertIntegrationChange"].tool.fn_metadata._built is None
        await fresh.ok("RevertIntegrationChange", change_id=edit["id"], confirm_revert=True)
        record = (await fresh.ok("GetCxEngageIntegration", integration_id=iid))["integration"]
        assert record["name"] == "Desk" and record["description"] in (None, "")
