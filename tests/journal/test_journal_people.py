"""Issue 21, the journal for people: who approved each change and how (in the client, on the approval page, by the
model's confirmation token), principals named (os:<user> under stdio and in process), a page that fits a screen
(one line per change, ISO-8601 UTC times), one change in full on request, keyset paging, and a count that stops at
COUNT_CAP (so a page does not read the whole table on PostgreSQL). Through real MCP client sessions."""

from __future__ import annotations

import getpass
import re
import time

import pytest

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.server.journal_tools import Change, ChangePage
from integrations_mcp.state import StateStore
from integrations_mcp.state import journal as journal_module
from integrations_mcp.state.journal import ChangeFilter, ChangeRow, JournalTable
from tests.harness import both_settings, connect, text_of
from tests.pipeline.test_person_decides import (
    EDIT,
    World,
    answering,
    decide_on_page,
    integration_with_option,
    ok,
    refused,
    session,
    token_in,
)
from tests.vendors.cxengage.helpers import ZENDESK

pytestmark = pytest.mark.anyio

ME = f"os:{getpass.getuser()}"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def journal(c, **filters) -> dict:  # noqa: ANN001
    return await ok(c, "GetIntegrationChanges", {"limit": 50, **filters})


async def test_an_approval_in_the_client_is_recorded_with_who_and_how() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON, mode="legacy",
                       elicitation_callback=answering(world, "accept", True)) as c:
        _, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))  # a first fill needs nobody
        await ok(c, EDIT, edit(1))  # an overwrite: the person approves in the client
        newest, first_fill, create = (await journal(c))["results"]
    assert newest["approved"] == f"{ME} in the client" and first_fill["approved"] is None
    assert create["principal"] == ME and ISO.match(newest["at"])


async def test_an_approval_on_the_page_is_recorded_as_such() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON) as c:
        _, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        message = await refused(c, EDIT, edit(1), "needs the user's approval")
        url = re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", message).group(1)
        assert (await decide_on_page(url, "approve")).status_code == 200
        await ok(c, EDIT, edit(1, approval_id=token_in(message, "approval_id")))
        rows = (await journal(c))["results"]
        assert rows[0]["approved"] == f"{ME} on the approval page" and rows[0]["outcome"] == "written and verified"
        assert rows[1]["outcome"] == "refused" and rows[1]["approved"] is None  # the call that asked
        full = await ok(c, "GetIntegrationChanges", {"change_id": rows[0]["id"]})
        text = text_of(await c.call_tool("GetIntegrationChanges", {"change_id": rows[0]["id"]}))
    assert full["results"][0]["changes"][0]["overwrites"] is True
    assert f"Approved by {ME} on the approval page." in text and "Changed (saved → proposed):" in text


async def test_a_model_confirmation_is_recorded_as_the_models() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.MODEL) as c:
        _, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        message = await refused(c, EDIT, edit(1, confirm_overwrite=True))
        await ok(c, EDIT, edit(1, confirm_overwrite=True, confirmation_id=token_in(message, "confirmation_id")))
        page = await c.call_tool("GetIntegrationChanges", {})
    assert page.structured_content["results"][0]["approved"] == f"{ME} by the model's confirmation token"
    assert text_of(page).splitlines()[2].endswith("✓model")


def row(n: int, at: float) -> ChangeRow:
    return ChangeRow(principal=["alice", "bob", "os:carol"][n % 3], tool="EditUserThirdPartyIntegration",
                     vendor="revcent", target=f"Tax main {n % 4}", outcome="written and verified",
                     integration=f"{n:024x}", approved_by="alice" if n % 2 else None,
                     approved_how="in the client" if n % 2 else None, at=at,
                     changes=[{"field": "third_party_options.tax_rate.rate", "saved": "1", "proposed": "2",
                               "overwrites": True}, {"field": "description", "saved": None, "proposed": "d",
                                                     "overwrites": False}])


async def test_a_page_of_twenty_fits_a_screen_and_pages_by_id() -> None:
    store = StateStore("sqlite+aiosqlite:///:memory:")
    table = JournalTable(store)
    now = 1_800_000_000.0  # 2027-01-15T08:00Z: every row on one day
    for n in range(45):
        await table.add(row(n, now - (45 - n) * 60))
    rows, total, more = await table.find(ChangeFilter(), limit=20)
    page = ChangePage(count=len(rows), total=total, has_more=more, next_before=rows[-1].id,
                      results=[Change.of(r, full=False) for r in rows])
    text = page.answer()
    assert len(text) <= 1500, len(text)
    lines = text.splitlines()
    assert lines[-1] == f"Older: before={rows[-1].id}." and sum(line.startswith("#") for line in lines) == 20
    assert re.match(r"^\d{4}-\d\d-\d\d$", lines[1]) and lines[1] == page.results[0].at[:10]  # the date, then
    assert re.match(r"^#45 T\d\d:\d\dZ os:carol Tax main 0 \(rate, description\): verified$", lines[2]), lines[2]
    assert lines[3].startswith("#44 ") and lines[3].endswith(": verified ✓client")
    older, _, _ = await table.find(ChangeFilter(), limit=20, before=rows[-1].id)
    assert [r.id for r in older] == list(range(25, 5, -1))
    last, _, more = await table.find(ChangeFilter(), limit=20, before=6)
    assert [r.id for r in last] == [5, 4, 3, 2, 1] and more is False


async def test_the_count_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "COUNT_CAP", 7)
    table = JournalTable(StateStore("sqlite+aiosqlite:///:memory:"))
    for n in range(12):
        await table.add(row(n, time.time()))
    rows, total, more = await table.find(ChangeFilter(), limit=5)
    assert (len(rows), total, more) == (5, 7, True)
    assert (await table.find(ChangeFilter(principal="alice"), limit=5))[1] == 4


async def test_days_filters_and_an_empty_page_says_so() -> None:
    async with connect(both_settings()) as s:
        result = await s.call("GetIntegrationChanges", days=7)
    assert text_of(result) == "No changes match." and result.structured_content["total"] == 0


# --- a revert asks exactly when the same edit would, and lists only what it could not restore ------------------

LONG_CONSUMER_KEY = "3MVG9lKcPoNINVBIPJjdw1J9LLM82HnFVVX19KY1uA5mu0QqLWDRmnmoVLuVTHQcL9bKs7f"


async def test_reverting_a_deactivation_asks_nobody_as_activating_would_not() -> None:
    async with connect(both_settings()) as s:
        form_id = await s.form("zendesk", {"password": "pw-for-the-desk"})
        created = await s.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                             secure_form_id=form_id, active=True)
        iid = created["integration_id"]
        await s.ok("EditCxEngageIntegration", integration_id=iid, active=False, confirm_deactivate=True)
        deactivation = (await s.ok("GetIntegrationChanges", vendor="cxengage"))["results"][0]
        assert deactivation["approved"] == f"{ME} by the model's confirmation token"
        reverted = await s.ok("RevertIntegrationChange", change_id=deactivation["id"])  # no confirm_revert
        assert reverted["result"]["mismatches"] == [] and reverted["not_restored"] == []
        assert (await s.ok("GetCxEngageIntegration", integration_id=iid))["integration"]["active"] is True
        # Reverting the revert deactivates again: that, as the edit would, needs the confirmation.
        newest = (await s.ok("GetIntegrationChanges", vendor="cxengage"))["results"][0]
        await s.refused("RevertIntegrationChange", "confirm_revert", change_id=newest["id"])


async def test_a_masked_value_the_change_did_not_touch_is_not_listed_as_not_restored() -> None:
    destination = {"username": "sf@example.invalid", "consumerKey": LONG_CONSUMER_KEY}
    async with connect(both_settings()) as s:
        form_id = await s.form("salesforce", {"password": "pw-sf", "consumerSecret": "cs-sf-secret",
                                              "securityToken": "tok-sf"}, destination=destination)
        created = await s.ok("CreateCxEngageIntegration", name="CRM", type="salesforce", properties=destination,
                             secure_form_id=form_id)
        iid = created["integration_id"]
        await s.ok("EditCxEngageIntegration", integration_id=iid, description="Cases")
        edit = (await s.ok("GetIntegrationChanges", vendor="cxengage"))["results"][0]
        full = (await s.ok("GetIntegrationChanges", change_id=edit["id"]))["results"][0]
        assert full["before"]["properties.consumerKey"] == "[redacted]"  # kept masked: it looks like a key
        reverted = await s.ok("RevertIntegrationChange", change_id=edit["id"], confirm_revert=True)
    assert reverted["not_restored"] == [] and reverted["result"]["mismatches"] == []
