"""Issue 18 item 5, by screenshot review in real Chromium: the person sees the whole write in words for a person,
for each kind of change a write can need them for (through a real MCP session, policy `person`, a client without
elicitation, so the question is the approval page). Screenshots: /tmp/approval-pages/<kind>.png."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from playwright.async_api import expect

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.server import SecureFormServer
from tests.browser import needs_chromium, open_page
from tests.harness import DESTINATIONS, Session, both_settings, connect
from tests.vendors.revcent.helpers import completed_form, static_single_select

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]

SHOTS = Path("/tmp/approval-pages")
MODEL_WORDS = ("Edit", "Check with the user", "confirm_", "approval_id", "_id", "Refused", "call again", "tool")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def link(refusal: str) -> str:
    found = re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", refusal)
    assert found, refusal
    return found.group(1)


async def approve(url: str) -> None:
    """The person presses Approve on the page."""
    with anyio.fail_after(30):
        async with open_page(url) as page:
            await page.get_by_role("button", name="Approve").click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")


async def look(url: str, kind: str) -> tuple[str, list[str]]:
    """Open the approval page as the person does; save a screenshot; its heading and the change lines."""
    SHOTS.mkdir(exist_ok=True)
    with anyio.fail_after(30):
        async with open_page(url) as page:
            heading = await page.get_by_role("heading", level=1).inner_text()
            lines = await page.get_by_role("listitem").all_inner_texts()
            text = await page.locator("main").inner_text()
            await page.screenshot(path=str(SHOTS / f"{kind}.png"), full_page=True)
            await expect(page.get_by_role("button", name="Approve")).to_be_visible()
            await expect(page.get_by_role("button", name="Reject")).to_be_visible()
    for word in MODEL_WORDS:
        assert word not in text, (kind, word, text)
    assert not UUID.search(text), text
    assert "Saved → proposed" not in text and "type the values again" not in text
    return heading, lines


async def zendesk(s: Session, name: str = "Support Desk") -> str:
    form = await s.form("zendesk", {"password": "pw-1"})
    created = await s.ok("CreateCxEngageIntegration", name=name, type="zendesk", secure_form_id=form, active=True,
                         properties=DESTINATIONS["zendesk"])
    return created["integration"]["id"] if "integration" in created else created["verified"]["integration"]["id"]


async def test_each_kind_of_change_reads_as_a_question_for_a_person() -> None:
    settings = both_settings(confirmation=ConfirmationPolicy.PERSON)
    async with connect(settings, forms=SecureFormServer()) as s:
        desk = await zendesk(s)

        # A deactivation that also changes the description and two properties: every line, once.
        refusal = await s.refused("EditCxEngageIntegration", "needs the user's approval", integration_id=desk,
                                  active=False, description="Paused for the audit",
                                  properties={"workItems": True, "interactionFieldId": "4411"})
        heading, lines = await look(link(refusal), "deactivate")
        assert heading == "Turn off the CxEngage Zendesk integration 'Support Desk'?"
        assert "Active: true → false" in lines and "Description: (not set) → “Paused for the audit”" in lines
        assert "Work items: false → true" in lines and "Interaction field id: (not set) → “4411”" in lines

        # Where the saved secrets go: the destination's diff once.
        refusal = await s.refused("EditCxEngageIntegration", "needs the user's approval", integration_id=desk,
                                  properties={"endpointPrefix": "https://other.example.invalid/api/v2/"})
        heading, lines = await look(link(refusal), "destination")
        assert heading == ("Replace saved settings of the CxEngage Zendesk integration 'Support Desk' and use its "
                           "saved secrets somewhere else?")
        assert [line for line in lines if line.startswith("API URI")] == [
            "API URI: “https://desk.example.invalid/api/v2/” → “https://other.example.invalid/api/v2/”"]

        # A secret replaced through a new secure form: set/replaced, never the value.
        form = await s.form("zendesk", {"password": "pw-2-secret"}, integration_id=desk)
        refusal = await s.refused("EditCxEngageIntegration", "needs the user's approval", integration_id=desk,
                                  secure_form_id=form)
        heading, lines = await look(link(refusal), "secret")
        assert "Password: replaced (the value is not shown)" in lines and "pw-2-secret" not in " ".join(lines)

        # A rename of an active integration.
        refusal = await s.refused("EditCxEngageIntegration", "needs the user's approval", integration_id=desk,
                                  name="Support Desk EU")
        heading, lines = await look(link(refusal), "rename")
        assert heading == "Rename the CxEngage Zendesk integration 'Support Desk'?"
        assert lines == ["Name: “Support Desk” → “Support Desk EU”"]

        # RevCent: an option value replaced, by the site's own names.
        emu = s.revcent
        form_id = await completed_form(s.client, emu)
        uid = (await s.ok("CreateUserThirdPartyIntegration", name="Tax main", site_third_party_integration=emu.site_id(
            "tax"), secure_form_id=form_id))["user_third_party_integration_id"]
        option, field, values = static_single_select(emu)
        edit = {"user_third_party_integration_id": uid}
        await s.ok("EditUserThirdPartyIntegration", edit, third_party_options=[
            {"id": option, "fields": [{"id": field, "value": [values[0]]}]}])
        refusal = await s.refused("EditUserThirdPartyIntegration", "needs the user's approval", **edit,
                                  third_party_options=[{"id": option, "fields": [{"id": field, "value": [values[1]]}]}])
        heading, lines = await look(link(refusal), "overwrite")
        assert heading == "Replace saved settings of the RevCent tax integration 'Tax main'?"
        assert lines == [f"Tax settings: Commit transactions: “{values[0]}” → “{values[1]}”"]

        # Undoing a journaled change: a revert asks exactly when the same edit would, so undo the overwrite once the
        # person approved it on the page.
        await approve(link(refusal))
        approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", refusal)
        assert approval_id, refusal
        await s.ok("EditUserThirdPartyIntegration", edit, approval_id=approval_id.group(1),
                   third_party_options=[{"id": option, "fields": [{"id": field, "value": [values[1]]}]}])
        changes = (await s.ok("GetIntegrationChanges", limit=1))["results"]
        refusal = await s.refused("RevertIntegrationChange", "needs the user's approval", change_id=changes[0]["id"])
        heading, lines = await look(link(refusal), "revert")
        assert heading == "Undo an earlier change to the RevCent tax integration 'Tax main'?"
        assert lines == [f"Tax settings: Commit transactions: “{values[1]}” → “{values[0]}”"]
