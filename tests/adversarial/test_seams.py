"""Seams between the journal, revert, the guardrails and the state database: each test crosses two features that
were built and tested apart."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2
import pytest
from mcp.types import PromptReference

from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from tests.harness import Session, both_settings, connect, revcent_emulator, text_of
from tests.journal.test_journal import changes, database_text, rc_integration
from tests.journal.test_journal import db as db  # noqa: F401 (the fixtures: a state file, a session on it)
from tests.journal.test_journal import s as s  # noqa: F401
from tests.vendors.cxengage.helpers import T, create_zendesk
from tests.vendors.revcent.helpers import completed_form

pytestmark = pytest.mark.anyio

NESTED_SECRET = "nested-Authorization-canary-3c9e"
CX_SECRET = "cx-typed-password-canary-71d4"
RANDOM_SECRET = "Vq8mZt3LkR9wXy2NbP7sJd4HfG6cQ"  # random letters and digits
KEY_LIKE = "sk_live_Hk29xQmZ81LpVt4RwY7cNe3B"
DRIFT_TOKEN = "sk_live_Vq8mZt3LkR9wXy2NbP7sJd4H"  # a key by its look


MASKED_BEFORE = {  # type, saved properties, the edit's properties
    "nested secret key": ("twilio", {"accountSid": "AC1", "region": "ie1",
                                     "globalDialParams": {"Authorization": NESTED_SECRET, "x": "1"}},
                          {"globalDialParams": {"x": "2"}}),
    "URL password in a plain property": ("rest", {"endpointPrefix": f"https://svc:{NESTED_SECRET}@x.invalid/"},
                                         {"endpointPrefix": "https://x.invalid/"}),
}


@pytest.mark.parametrize("case", MASKED_BEFORE)
async def test_a_revert_never_sends_a_masked_secret_as_a_value(s: Session, db: Path, case: str) -> None:
    """A before-image holding a secret inside a plain property is journaled with the mask in it ({"Authorization":
    "[redacted]"}, "https://svc:[redacted]@..."): reverting must not write the mask over the real secret."""
    kind, saved, edit = MASKED_BEFORE[case]
    iid = s.cxengage.add_integration(T, kind, f"Masked {case}", {})
    s.cxengage.integrations[T][iid].properties.update(saved)
    await s.ok("EditCxEngageIntegration", integration_id=iid, properties=edit, confirm_overwrite=True)
    change = (await changes(s, vendor="cxengage"))[0]
    assert NESTED_SECRET not in database_text(db)
    writes = len(s.cxengage.writes())
    result = await s.call("RevertIntegrationChange", change_id=change["id"], confirm_revert=True)
    sent = [w.json() for w in s.cxengage.writes()[writes:]]
    assert all("[redacted]" not in repr(body) for body in sent), sent
    assert result.is_error and "secure form" in text_of(result), text_of(result)
    assert s.cxengage.integrations[T][iid].properties[next(iter(edit))] == edit[next(iter(edit))]


async def test_a_revert_never_enables_a_revcent_integration_now_missing_credentials(s: Session) -> None:
    form_id = await completed_form(s.client, s.revcent, "offline_payment", secret="pay-later-canary")
    uid = (await s.ok("CreateUserThirdPartyIntegration", name="Pay later", secure_form_id=form_id,
                      site_third_party_integration=s.revcent.site_id("offline_payment"))
           )["user_third_party_integration_id"]
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, enabled=True, confirm_enable=True)
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, enabled=False,
               confirm_disable=True)
    disable = (await changes(s))[0]
    s.revcent.user_integrations[uid].credentials = {}  # someone cleared them in RevCent since
    writes = len(s.revcent.writes())
    await s.refused("RevertIntegrationChange", "credentials", change_id=disable["id"], confirm_revert=True)
    assert len(s.revcent.writes()) == writes
    assert s.revcent.user_integrations[uid].enabled is False


async def test_a_revert_never_activates_an_incomplete_cxengage_integration(s: Session) -> None:
    created = await create_zendesk(s, name="Desk", active=True)
    iid = created["integration_id"]
    await s.ok("EditCxEngageIntegration", integration_id=iid, active=False, confirm_deactivate=True)
    deactivate = (await changes(s, vendor="cxengage"))[0]
    s.cxengage.integrations[T][iid].properties["endpointPrefix"] = ""  # emptied in the vendor's UI since
    writes = len(s.cxengage.writes())
    await s.refused("RevertIntegrationChange", "endpointPrefix", change_id=deactivate["id"], confirm_revert=True)
    assert len(s.cxengage.writes()) == writes and s.cxengage.integrations[T][iid].active is False


async def test_a_cxengage_revert_leaves_replaced_secrets_to_a_new_form(s: Session, db: Path) -> None:
    created = await create_zendesk(s, name="Desk", password=CX_SECRET)
    iid = created["integration_id"]
    form_id = await s.form("zendesk", {"password": CX_SECRET + "-new"}, integration_id=iid)
    await s.ok("EditCxEngageIntegration", integration_id=iid, name="Desk 2", secure_form_id=form_id,
               confirm_overwrite=True)
    both = (await changes(s, vendor="cxengage"))[0]
    assert both["secrets"] == ["properties.password"]
    reverted = await s.ok("RevertIntegrationChange", change_id=both["id"], confirm_revert=True)
    assert reverted["not_restored"] == ["properties.password"]
    saved = s.cxengage.integrations[T][iid]
    assert saved.name == "Desk" and saved.properties["password"] == CX_SECRET + "-new"
    shown = database_text(db) + repr(await changes(s, change_id=both["id"])) + repr(s.seen)
    assert CX_SECRET not in shown


async def test_a_revert_refused_for_drift_never_shows_a_secret_saved_since(s: Session, db: Path) -> None:
    """The drift refusal quotes the current values: one that is a secret by its look (someone pasted a token into a
    plain field in RevCent) must be masked there and in the journal, as a read masks it."""
    uid = await rc_integration(s)
    field = {"user_third_party_integration_id": uid}
    await s.ok("EditUserThirdPartyIntegration", field,
               third_party_options=[{"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["12345"]}]}])
    change = (await changes(s))[0]
    saved = s.revcent.user_integrations[uid].options["tax_settings"]
    saved["origin_zip"] = [DRIFT_TOKEN]
    read = await s.call("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
    assert DRIFT_TOKEN not in text_of(read)  # a read masks it
    refusal = await s.refused("RevertIntegrationChange", "changed since", change_id=change["id"],
                              confirm_revert=True)
    assert DRIFT_TOKEN not in refusal
    assert DRIFT_TOKEN not in repr(await changes(s)) and DRIFT_TOKEN not in database_text(db)


async def test_a_revcent_write_answer_redacts_secret_named_option_fields_as_a_read_does(s: Session) -> None:
    """The read-back in an edit's answer is the view a read gives: a field whose id names a secret is redacted even
    when its value looks like nothing in particular (a random token)."""
    tax = s.revcent.site_integrations[s.revcent.site_id("tax")]
    next(o for o in tax["third_party_options"] if o["id"] == "tax_settings")["fields"].append(
        {"id": "webhook_secret", "name": "Webhook secret", "field_type": "input", "required": False})
    uid = s.revcent.add_user_integration(name="Tax hooks", site_id=s.revcent.site_id("tax"), options_saved=[
        {"id": "tax_settings", "fields": [{"id": "webhook_secret", "value": [RANDOM_SECRET]}]}])
    read = await s.call("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
    assert RANDOM_SECRET not in text_of(read) + repr(read.structured_content)
    edited = await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="hooks")
    assert not edited.is_error, text_of(edited)
    assert RANDOM_SECRET not in text_of(edited) + repr(edited.structured_content)
    saved = edited.structured_content["verified"]["integration"]["third_party_options_saved"]
    assert saved == [{"id": "tax_settings", "fields": [{"id": "webhook_secret", "value": ["[redacted]"]}]}]


async def test_what_the_person_is_asked_to_approve_holds_no_secret() -> None:
    """A saved value that is a secret by its look, in the diff the person approves: masked in the elicitation
    message (no output filter on that channel), on the approval page and in the approvals table."""
    from integrations_mcp.pipeline.confirm import ConfirmationPolicy
    from tests.pipeline.test_person_decides import World, answering, session

    world = World()
    uid = world.revcent.add_user_integration(name=f"Tax {KEY_LIKE}", site_id=world.revcent.site_id("tax"),
                                             options_saved=[{"id": "tax_settings", "fields": [
                                                 {"id": "origin_zip", "value": [KEY_LIKE]}]}])
    edit = {"user_third_party_integration_id": uid, "third_party_options": [
        {"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["12345"]}]}]}
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode="legacy",
                       elicitation_callback=answering(world, "accept", False, seen)) as c:
        await c.call_tool("EditUserThirdPartyIntegration", edit)
    assert seen and "What changes:" in seen[0] and KEY_LIKE[:12] not in seen[0], seen
    async with session(world, ConfirmationPolicy.PERSON) as c:  # no elicitation: the approval page
        refusal = text_of(await c.call_tool("EditUserThirdPartyIntegration", edit))
        url = re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", refusal).group(1)
        async with httpx2.AsyncClient(timeout=10) as http:
            page = await http.get(url, headers=BROWSER_NAVIGATION)
    assert page.status_code == 200 and "12345" in page.text and KEY_LIKE[:12] not in page.text


async def test_the_journal_never_keeps_a_capability(db: Path) -> None:
    """A refusal's confirmation_id, approval_id and approval page link are the asking session's capabilities (the
    logs hide them too): the journal, which every principal with read scope lists and which is kept for months,
    records the refusal without them."""
    from integrations_mcp.pipeline.confirm import ConfirmationPolicy

    for policy in (ConfirmationPolicy.MODEL, ConfirmationPolicy.PERSON):
        async with connect(both_settings(state_url=f"sqlite+aiosqlite:///{db}", confirmation=policy),
                           revcent=revcent_emulator(), cxengage=CxEngageEmulator()) as s:
            uid = s.revcent.add_user_integration(name=f"Tax {policy}", site_id=s.revcent.site_id("tax"),
                                                 options_saved=[{"id": "tax_settings", "fields": [
                                                     {"id": "origin_zip", "value": ["11111"]}]}])
            result = await s.client.call_tool("EditUserThirdPartyIntegration", {
                "user_third_party_integration_id": uid, "third_party_options": [
                    {"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["22222"]}]}]})
            capability = re.search(r"(?:confirmation|approval)_id=([A-Za-z0-9_-]+)", text_of(result)).group(1)
            refused = (await changes(s))[0]
            full = await s.call("GetIntegrationChanges", change_id=refused["id"])
            assert refused["outcome"] == "refused" and "22222" in full.structured_content["results"][0]["detail"]
            for channel in (repr(refused), text_of(full), repr(full.structured_content)):
                assert capability not in channel, channel
    assert capability not in database_text(db).replace(f"('{capability}'", "")  # its own row in the approvals table


async def test_under_policy_person_a_revert_waits_for_the_person_whatever_the_model_passes(db: Path) -> None:
    """A revert that replaces a saved value needs the person, as that edit would: no flag or made-up id the model
    passes stands in for them. (A revert the same edit would not ask about, such as clearing a description that a
    change filled, asks nobody.)"""
    from integrations_mcp.pipeline.confirm import ConfirmationPolicy

    revcent = revcent_emulator()
    uid = revcent.add_user_integration(name="Tax zip", site_id=revcent.site_id("tax"), options_saved=[
        {"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["11111"]}]}])
    async with connect(both_settings(state_url=f"sqlite+aiosqlite:///{db}", confirmation=ConfirmationPolicy.MODEL),
                       revcent=revcent, cxengage=CxEngageEmulator()) as s:
        await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, confirm_overwrite=True,
                   third_party_options=[{"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["22222"]}]}])
        await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="first")
        overwrite, fill = (await changes(s))[1], (await changes(s))[0]
    async with connect(both_settings(state_url=f"sqlite+aiosqlite:///{db}", confirmation=ConfirmationPolicy.PERSON),
                       revcent=revcent, cxengage=CxEngageEmulator()) as s:
        writes = len(s.revcent.writes())
        for flags in ({"confirm_revert": True}, {"confirm_revert": True, "confirmation_id": "x" * 24},
                      {"approval_id": "y" * 24}):
            result = await s.client.call_tool("RevertIntegrationChange", {"change_id": overwrite["id"], **flags})
            assert result.is_error and "approv" in text_of(result), text_of(result)
        assert len(s.revcent.writes()) == writes
        assert "22222" in repr(s.revcent.user_integrations[uid].options) and "11111" not in repr(
            s.revcent.user_integrations[uid].options)
        await s.ok("RevertIntegrationChange", change_id=fill["id"])  # as the edit clearing it would: nobody asked
        assert s.revcent.user_integrations[uid].description == ""


async def test_a_write_refused_before_its_plan_keeps_no_form_id_in_the_journal(s: Session, db: Path) -> None:
    """Until a write is planned the journal names it by its lock keys, which hold the secure form's id: a
    capability (its page takes the secrets). A write that stops there must not leave it in the journal."""
    form_id = await s.form("zendesk", {"password": "typed-pw"})
    unknown = "5a4db0c5-0000-4000-8000-00000000ffff"
    await s.refused("EditCxEngageIntegration", integration_id=unknown, secure_form_id=form_id,
                    confirm_overwrite=True)
    row = (await changes(s))[0]
    full = await s.call("GetIntegrationChanges", change_id=row["id"])
    assert row["outcome"] == "failed" and unknown in row["target"]
    assert form_id not in repr(row) + text_of(full) + repr(full.structured_content) + database_text(db)


async def test_prompt_completions_never_offer_a_secret_looking_value() -> None:
    """Completions carry the vendor's text outside any tool result, where the output filter does not run: a value
    holding a secret by its look is left out (offering it masked would put the mask in the user's prompt)."""
    revcent = revcent_emulator()
    tax = revcent.site_integrations[revcent.site_id("tax")]
    tax["name"] = f"Tax {KEY_LIKE}"
    async with connect(revcent=revcent) as s:
        prompt = PromptReference(type="ref/prompt", name="setup_revcent_integration")
        offered = (await s.client.complete(prompt, {"name": "provider", "value": ""})).completion.values
    assert "tax" in offered and "Demo Parcel Tracker (sandbox)" in offered
    assert not [v for v in offered if KEY_LIKE[:12] in v], offered
