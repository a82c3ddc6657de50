"""RevCent creates and edits through a real MCP client session (tests/harness.py), guardrails 2-6: only what
changes is sent, overwrites and disabling need confirmation, choices come from RevCent, every write is read back."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import TOKEN, ok, refused
from tests.vendors.revcent.helpers import (
    completed_form,
    create,
    credential_values,
    integration_writes,
    required_asset_select,
    set_option,
    site,
    static_single_select,
)

pytestmark = pytest.mark.anyio


# --- create ---------------------------------------------------------------------------------------------------------

async def test_create_verifies_by_reading_back(client: Client, revcent: RevCentEmulator) -> None:
    form_id = await completed_form(client, revcent)
    result = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": "Tax main", "site_third_party_integration": revcent.site_id("tax"), "secure_form_id": form_id,
        "description": "renewals"})
    assert result["dry_run"] is False and result["mismatches"] == []
    integration = result["verified"]["integration"]
    assert integration["name"] == "Tax main" and integration["description"] == "renewals"
    assert integration["third_party_credentials_saved"]
    assert any("Still needed" in step for step in result["next_steps"])


async def test_create_dry_run_writes_nothing(client: Client, revcent: RevCentEmulator) -> None:
    form_id = await completed_form(client, revcent)
    result = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": "Tax main", "site_third_party_integration": revcent.site_id("tax"), "secure_form_id": form_id,
        "dry_run": True})
    assert result["dry_run"] is True and result["verified"] is None
    assert result["sent"] == {"name": "Tax main", "site_third_party_integration": revcent.site_id("tax"),
                              "secure_form_id": form_id}
    assert integration_writes(revcent) == []


async def test_create_refuses_a_duplicate_name(client: Client, revcent: RevCentEmulator) -> None:
    revcent.add_user_integration(name="Tax Main", site_id=revcent.site_id("tax"))
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "tax main", "site_third_party_integration": revcent.site_id("tax")}, "already used", "unique")
    assert integration_writes(revcent) == []


async def test_create_enabled_is_refused(client: Client, revcent: RevCentEmulator) -> None:
    """Enabling waits for the read-back and the user's go-ahead: never at create (the Edit guide's set-up order)."""
    form_id = await completed_form(client, revcent)
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "Tax", "site_third_party_integration": revcent.site_id("tax"), "secure_form_id": form_id,
        "enabled": True}, "enabled=true at create")
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "Tax", "site_third_party_integration": revcent.site_id("tax"), "enabled": True},
        "enabled=true at create", "once the user agrees")
    assert integration_writes(revcent) == []


async def enabled_pay_later(client: Client, revcent: RevCentEmulator) -> str:
    """Credentials first, then (once the read-back shows them saved) enabled: the Edit guide's order."""
    assert not site(revcent, "offline_payment")["third_party_options"]
    form_id = await completed_form(client, revcent, "offline_payment")
    created = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": "Pay later", "site_third_party_integration": revcent.site_id("offline_payment"),
        "secure_form_id": form_id})
    assert created["verified"]["readiness"]["credentials_saved"] and created["mismatches"] == []
    uid = created["user_third_party_integration_id"]
    enable = {"user_third_party_integration_id": uid, "enabled": True}
    await refused(client, "EditUserThirdPartyIntegration", enable, "confirm_enable=true", "puts it in live use",
                  "alternate (pay-later) payment flows")
    result = await ok(client, "EditUserThirdPartyIntegration", {**enable, "confirm_enable": True})
    assert result["verified"]["integration"]["enabled"] is True and result["mismatches"] == []
    assert result["sent"] == {"enabled": True}
    return uid


async def test_create_then_enable_when_complete(client: Client, revcent: RevCentEmulator) -> None:
    await enabled_pay_later(client, revcent)


async def test_create_without_credentials_cannot_be_enabled(client: Client, revcent: RevCentEmulator) -> None:
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "Pay later", "site_third_party_integration": revcent.site_id("offline_payment"), "enabled": True},
        "enabled=true at create")
    assert integration_writes(revcent) == []


async def test_writes_report_progress(client: Client, revcent: RevCentEmulator) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    form_id = await completed_form(client, revcent)
    result = await client.call_tool("CreateUserThirdPartyIntegration", {
        "name": "With progress", "site_third_party_integration": revcent.site_id("tax"), "secure_form_id": form_id},
        progress_callback=on_progress)
    assert not result.is_error
    assert [p for p, _, _ in seen] == [1, 2, 3] and all(t == 3 for _, t, _ in seen)
    assert "verify" in (seen[-1][2] or "")


async def test_blank_names_and_ids_outside_the_alphabet_are_refused_before_anything_is_sent(
        client: Client, revcent: RevCentEmulator) -> None:
    await refused(client, "CreateUserThirdPartyIntegration", {"name": "   ", "site_third_party_integration":
                  revcent.site_id("offline_payment")}, "name")
    await refused(client, "GetSiteThirdPartyIntegration", {"site_third_party_integration_id": "..%2F..%2Fsecure_for"},
                  "site_third_party_integration_id")
    assert revcent.writes() == [] and not any("secure_for" in r.path for r in revcent.requests)
    created = await ok(client, "CreateUserThirdPartyIntegration", {"name": "  Pay later  ",
                       "site_third_party_integration": revcent.site_id("offline_payment")})
    assert created["sent"]["name"] == "Pay later"


async def test_the_name_check_stops_when_revcent_ignores_the_page(client: Client, revcent: RevCentEmulator) -> None:
    for n in range(25):
        revcent.add_user_integration(name=f"Filler {n}", site_id=revcent.site_id("offline_payment"))
    first_page = (await revcent_list_page(revcent)).encode()
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="GET", body=first_page, times=None)
    before = len(revcent.requests)
    result = await client.call_tool("CreateUserThirdPartyIntegration", {
        "name": "Filler 3", "site_third_party_integration": revcent.site_id("offline_payment"), "dry_run": True})
    assert result.is_error and "already used" in result.content[0].text
    lists = [r for r in revcent.requests[before:] if r.method == "GET"
             and r.path == "/v2/user_third_party_integrations"]
    assert len(lists) == 4  # pages 0 and 1 to find the first page's number, then page 2 repeated page 1: stop


async def revcent_list_page(revcent: RevCentEmulator) -> str:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=revcent.app), base_url="http://r.test") as http:
        answer = await http.get("/v2/user_third_party_integrations", params={"limit": 25, "page": 1},
                                headers={"x-api-key": revcent.api_key})
    return answer.text


# --- edit: guardrails 2-6 -------------------------------------------------------------------------------------------

async def test_filling_an_empty_option_needs_no_confirmation_and_sends_only_it(client: Client,
                                                                              revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    option_id, field_id, values = static_single_select(revcent)
    result = await set_option(client, uid, option_id, field_id, [values[0]])
    assert result["mismatches"] == []
    body = integration_writes(revcent)[-1].json()
    assert set(body) == {"third_party_options"}
    assert body["third_party_options"] == [{"id": option_id, "fields": [{"id": field_id, "value": [values[0]]}]}]


async def test_overwriting_a_saved_option_needs_confirmation_with_a_diff(client: Client,
                                                                         revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    option_id, field_id, values = static_single_select(revcent)
    await set_option(client, uid, option_id, field_id, [values[0]])
    writes = len(integration_writes(revcent))
    args = {"user_third_party_integration_id": uid,
            "third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": [values[1]]}]}]}
    await refused(client, "EditUserThirdPartyIntegration", args, "confirm_overwrite",
                  f"{option_id}.{field_id}: {values[0]} → {values[1]}")
    preview = await ok(client, "EditUserThirdPartyIntegration", {**args, "dry_run": True})
    assert preview["changes"][0]["overwrites"] is True and preview["changes"][0]["saved"] == [values[0]]
    assert len(integration_writes(revcent)) == writes, "refusal and dry run wrote nothing"
    done = await ok(client, "EditUserThirdPartyIntegration", {**args, "confirm_overwrite": True})
    assert done["mismatches"] == []
    saved = done["verified"]["integration"]["third_party_options_saved"]
    assert {"id": field_id, "value": [values[1]]} in next(o for o in saved if o["id"] == option_id)["fields"]


async def test_unchanged_fields_of_a_touched_option_survive(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    option = next(o for o in site(revcent, "tax")["third_party_options"] if len(o["fields"]) >= 2)
    inputs = [f for f in option["fields"] if f["field_type"] == "input"]
    if not inputs:
        pytest.skip("fixture option has no input field")
    option_id, field_id, values = static_single_select(revcent)
    assert option_id == option["id"]
    await set_option(client, uid, option_id, inputs[0]["id"], ["12345"])
    await set_option(client, uid, option_id, field_id, [values[0]])
    saved = (await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid}))
    fields = next(o for o in saved["integration"]["third_party_options_saved"] if o["id"] == option_id)["fields"]
    assert {"id": inputs[0]["id"], "value": ["12345"]} in fields


@pytest.mark.parametrize("mutation, needle", [
    (lambda o, f, v: [{"id": "no_such_option", "fields": [{"id": f, "value": [v[0]]}]}], "Valid option ids"),
    (lambda o, f, v: [{"id": o, "fields": [{"id": "no_such_field", "value": [v[0]]}]}], "does not exist"),
    (lambda o, f, v: [{"id": o, "fields": [{"id": f, "value": ["invented"]}]}], "Valid values"),
    (lambda o, f, v: [{"id": o, "fields": [{"id": f, "value": [v[0], v[1]]}]}], "exactly one value"),
])
async def test_invented_ids_and_values_are_refused_with_the_valid_choices(client: Client, revcent: RevCentEmulator,
                                                                          mutation: Any, needle: str) -> None:
    uid = await create(client, revcent)
    option_id, field_id, values = static_single_select(revcent)
    await refused(client, "EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid, "third_party_options": mutation(option_id, field_id, values)},
        needle, "Nothing was sent")
    assert len(integration_writes(revcent)) == 1  # only the create


async def test_asset_values_must_come_from_the_account(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    option_id, field_id = required_asset_select(revcent)
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    assets = [v["value"] for v in next(c for c in view["readiness"]["choices"] if c["field_id"] == field_id)["values"]]
    message = await refused(client, "EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid,
        "third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": ["made_up_company"]}]}]},
        "Valid values")
    assert all(a in message for a in assets)


async def test_an_option_must_carry_its_required_fields(client: Client, revcent: RevCentEmulator) -> None:
    spec = next((o for o in site(revcent, "ai_voice")["third_party_options"]
                 if sum(f["required"] for f in o["fields"]) >= 2), None)
    if spec is None:
        pytest.skip("fixture has no option with two required fields")
    uid = await create(client, revcent, "ai_voice", "Voice")
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    first = next(f for f in spec["fields"] if f["required"])
    choice = next(c for c in view["readiness"]["choices"] if c["field_id"] == first["id"])
    await refused(client, "EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid,
        "third_party_options": [{"id": spec["id"], "fields": [{"id": first["id"],
                                                               "value": [choice["values"][0]["value"]]}]}]},
        "is required for option")


async def test_enabling_is_refused_while_incomplete_and_allowed_once_complete(client: Client,
                                                                               revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    enable = {"user_third_party_integration_id": uid, "enabled": True}
    await refused(client, "EditUserThirdPartyIntegration", enable, "incomplete")
    option_id, field_id = required_asset_select(revcent)
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    value = next(c for c in view["readiness"]["choices"] if c["field_id"] == field_id)["values"][0]["value"]
    options = {"third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": [value]}]}]}
    # The Edit guide keeps risky changes apart: options and enabling are two calls.
    await refused(client, "EditUserThirdPartyIntegration", {**enable, **options}, "combines options + enabled state")
    saved = await ok(client, "EditUserThirdPartyIntegration", {**enable, "enabled": None, **options})
    assert saved["verified"]["readiness"]["can_enable"]
    result = await ok(client, "EditUserThirdPartyIntegration", {**enable, "confirm_enable": True})
    assert result["verified"]["integration"]["enabled"] is True
    assert integration_writes(revcent)[-1].json() == {"enabled": True}


async def test_disabling_needs_confirmation_naming_what_depends_on_it(client: Client,
                                                                      revcent: RevCentEmulator) -> None:
    uid = await enabled_pay_later(client, revcent)
    disable = {"user_third_party_integration_id": uid, "enabled": False}
    await refused(client, "EditUserThirdPartyIntegration", disable, "confirm_disable", "payment")
    assert len(integration_writes(revcent)) == 2
    result = await ok(client, "EditUserThirdPartyIntegration", {**disable, "confirm_disable": True})
    assert result["verified"]["integration"]["enabled"] is False


async def test_empty_and_no_op_edits_are_refused(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid},
                  "nothing to change")
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                            "name": "Tax main"}, "changes nothing")
    assert len(integration_writes(revcent)) == 1


async def test_rename_sends_only_the_name_and_must_stay_unique(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    revcent.add_user_integration(name="Shipping", site_id=revcent.site_id("shipping"))
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                            "name": "SHIPPING"}, "already used")
    result = await ok(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                                 "name": "Tax renamed"})
    assert integration_writes(revcent)[-1].json() == {"name": "Tax renamed"}
    assert result["verified"]["integration"]["name"] == "Tax renamed"


async def test_credential_rotation_sends_only_the_secure_form(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    new_form = await completed_form(client, revcent, secret="rotated")
    writes = len(integration_writes(revcent))
    # Saved credentials are replaced only once the user agreed.
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                  "secure_form_id": new_form}, "confirm_overwrite",
                  "credentials: 'saved' → 'replaced from the secure form'")
    assert len(integration_writes(revcent)) == writes
    result = await ok(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                                 "secure_form_id": new_form, "confirm_overwrite": True})
    sent = integration_writes(revcent)[-1].json()  # RevCent's own id, which the model never saw
    assert list(sent) == ["secure_form_id"] and sent["secure_form_id"] in revcent.secure_forms
    assert sent["secure_form_id"] not in new_form
    assert result["mismatches"] == []
    assert revcent.stored_credentials(uid) == credential_values(revcent, "tax", "rotated")


async def test_a_secure_form_saves_credentials_once(client: Client, revcent: RevCentEmulator) -> None:
    """A form filled for one integration cannot be replayed onto another (e.g. test credentials onto production)."""
    form_id = await completed_form(client, revcent)
    await ok(client, "CreateUserThirdPartyIntegration", {"name": "Tax test", "secure_form_id": form_id,
                                                         "site_third_party_integration": revcent.site_id("tax")})
    production = revcent.add_user_integration(name="Tax production", site_id=revcent.site_id("tax"),
                                              credentials=credential_values(revcent, "tax", "live"), enabled=True)
    writes = len(integration_writes(revcent))
    await refused(client, "CreateUserThirdPartyIntegration", {"name": "Tax copy", "secure_form_id": form_id,
                  "site_third_party_integration": revcent.site_id("tax")}, "already used", "CreateSecureForm")
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": production,
                  "secure_form_id": form_id, "confirm_overwrite": True}, "already used")
    assert len(integration_writes(revcent)) == writes
    assert revcent.stored_credentials(production) == credential_values(revcent, "tax", "live")


async def test_a_form_refused_by_revcent_can_be_used_again(client: Client, revcent: RevCentEmulator) -> None:
    form_id = await completed_form(client, revcent)
    arguments = {"name": "Tax", "site_third_party_integration": revcent.site_id("tax"), "secure_form_id": form_id}
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="POST", status=400,
                          body=b'{"api_call_id":"EEEEEEEEEEEEEEEEEEEE","api_call_unix":1,"code":0,'
                               b'"error_code":"validation_error","message":"no","result":"error"}')
    await refused(client, "CreateUserThirdPartyIntegration", arguments, "validation_error")
    await ok(client, "CreateUserThirdPartyIntegration", arguments)


async def test_a_write_that_does_not_stick_is_flagged(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    # RevCent answers success but does not apply the edit: the read-back must catch it.
    revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="POST", status=200,
                          body=b'{"api_call_id":"AAAAAAAAAAAAAAAAAAAA","api_call_unix":1,"code":1,'
                               b'"user_third_party_integration_id":"' + uid.encode() + b'","result":"ok"}')
    result = await ok(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                                 "name": "Renamed"})
    assert result["mismatches"] and "name" in result["mismatches"][0]


async def test_a_failed_read_back_does_not_hide_a_successful_write(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    option, field, values = static_single_select(revcent)
    revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="GET", status=503,
                          body=b'{"api_call_id":"DDDDDDDDDDDDDDDDDDDD","api_call_unix":1,"code":0,'
                               b'"error_code":"unavailable","message":"busy","result":"error"}', skip=1, times=None)
    result = await set_option(client, uid, option, field, [values[0]])
    assert revcent.user_integrations[uid].options[option][field] == [values[0]]  # it was written
    assert result["verified"] is None and result["user_third_party_integration_id"] == uid
    assert "The write succeeded, but reading it back failed" in result["mismatches"][0]
    assert "GetUserThirdPartyIntegration" in result["next_steps"][0]


async def test_a_lost_sibling_field_is_flagged_on_read_back(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent, kind="ai_voice", name="Voice")
    voice = site(revcent, "ai_voice")
    option = next(o for o in voice["third_party_options"] if len(o["fields"]) > 1)
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    choices = {(c["option_id"], c["field_id"]): c for c in view["readiness"]["choices"]}
    fields = []
    for f in option["fields"]:
        choice = choices.get((option["id"], f["id"]))
        fields.append({"id": f["id"], "value": [choice["values"][0]["value"]] if choice else ["x"]})
    await ok(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
             "third_party_options": [{"id": option["id"], "fields": fields}]})
    edited, sibling = fields[0], fields[1]
    new_value = next((v["value"] for v in (choices.get((option["id"], edited["id"])) or {}).get("values", [])
                      if [v["value"]] != edited["value"]), None)
    if new_value is None:
        pytest.skip("fixture option offers no second value for its first field")
    # The read-back after the write shows the edited field but has lost its sibling.
    lost = copy.deepcopy(revcent.view(revcent.user_integrations[uid]))
    for saved_option in lost["third_party_options_saved"]:
        if saved_option["id"] == option["id"]:
            saved_option["fields"] = [{"id": edited["id"], "value": [new_value]}]
    body = {"api_call_id": "G" * 20, "api_call_unix": 1, "code": 1, **lost}
    change = {"user_third_party_integration_id": uid,
              "third_party_options": [{"id": option["id"], "fields": [{"id": edited["id"], "value": [new_value]}]}]}
    shown = await refused(client, "EditUserThirdPartyIntegration", change, "confirm_overwrite")
    token = TOKEN.search(shown).group(1)  # the change was shown; the fault below hits the confirmed call's read-back
    revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="GET", skip=1,
                          body=json.dumps(body).encode())
    result = await ok(client, "EditUserThirdPartyIntegration", {**change, "confirm_overwrite": True,
                                                                "confirmation_id": token})
    assert any(m.startswith(f"third_party_options.{option['id']}.{sibling['id']}") for m in result["mismatches"])


async def test_a_saved_value_no_longer_offered_blocks_enabling_and_is_not_resent(client: Client,
                                                                                 revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent, kind="ai_voice", name="Voice")
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    choices = {(c["option_id"], c["field_id"]): [v["value"] for v in c["values"]] for c in view["readiness"]["choices"]}
    voice = site(revcent, "ai_voice")
    option = next(o for o in voice["third_party_options"] if o["required"] and len(o["fields"]) > 1)
    asset = next(f for f in option["fields"] if (f.get("select_settings") or {}).get("third_party_asset"))
    other = next(f for f in option["fields"] if f["id"] != asset["id"])
    values = {f["id"]: choices.get((option["id"], f["id"]), ["x"])[:1] for f in option["fields"]}
    revcent.user_integrations[uid].options[option["id"]] = {**values, asset["id"]: ["voice_sandbox_retired"]}
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    assert any("no longer offered" in b for b in view["readiness"]["blockers"])
    assert view["readiness"]["can_enable"] is False
    writes = len(integration_writes(revcent))
    other_choices = choices.get((option["id"], other["id"]), [])
    new_other = next((v for v in other_choices if [v] != values[other["id"]]), "y")
    result = await ok(client, "EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid, "confirm_overwrite": True,
        "third_party_options": [{"id": option["id"], "fields": [{"id": other["id"], "value": [new_other]}]}]})
    # Only the changed field travels; the stale one is left as saved, and still blocks enabling.
    assert result["sent"] == {"third_party_options": [{"id": option["id"],
                                                       "fields": [{"id": other["id"], "value": [new_other]}]}]}
    assert len(integration_writes(revcent)) == writes + 1 and result["mismatches"] == []
    assert any("no longer offered" in b for b in result["verified"]["readiness"]["blockers"])


@pytest.mark.parametrize("name", ["Tax\u00a0main", "Ｔａｘ main", "tax\u200b MAIN"])
async def test_a_name_that_looks_like_a_taken_one_is_taken(client: Client, revcent: RevCentEmulator, name: str) -> None:
    await create(client, revcent, name="Tax main")
    writes = len(revcent.writes())
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": name, "site_third_party_integration": revcent.site_id("shipping")}, "already used")
    assert len(revcent.writes()) == writes


@pytest.mark.parametrize("name", ["\u200b", "\u00a0\u2060", "Tax \u202emain"])
async def test_a_name_must_be_visible_and_read_as_stored(client: Client, revcent: RevCentEmulator, name: str) -> None:
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": name, "site_third_party_integration": revcent.site_id("shipping")}, "name")
    assert revcent.writes() == []


async def test_a_create_applied_whose_answer_was_lost_is_found_by_name(client: Client,
                                                                       revcent: RevCentEmulator) -> None:
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="POST", status=502, after=True)
    done = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": "Ship", "site_third_party_integration": revcent.site_id("shipping")})
    assert done["verified"]["integration"]["name"] == "Ship" and done["next_steps"][0].startswith("The vendor's")


async def test_an_edit_whose_answer_was_lost_may_have_happened(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="POST", status=502,
                          after=True)
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                            "description": "new"},
                  "The write may have happened", f"GetUserThirdPartyIntegration(user_third_party_integration_id="
                                                 f"'{uid}')", "do not simply call again")


async def test_the_name_check_reads_a_bounded_number_of_pages(client: Client, revcent: RevCentEmulator) -> None:
    """1,000 integrations: the unique-name check reads 4 pages (plus the 2 reads that find the first page's number,
    once per process), not all 40 (41 GETs before); a name beyond them is left to RevCent's own rule."""
    for n in range(1000):
        revcent.add_user_integration(name=f"Filler {n:04}", site_id=revcent.site_id("offline_payment"))
    before = len(revcent.requests)
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "filler 0042", "site_third_party_integration": revcent.site_id("offline_payment"), "dry_run": True},
        "already used")
    lists = [r for r in revcent.requests[before:]
             if r.method == "GET" and r.path == "/v2/user_third_party_integrations"]
    assert len(lists) == 6
    before = len(revcent.requests)
    late = await ok(client, "CreateUserThirdPartyIntegration", {
        "name": "Filler 0999", "site_third_party_integration": revcent.site_id("offline_payment"), "dry_run": True})
    assert late["dry_run"] and len([r for r in revcent.requests[before:] if r.method == "GET"
                                    and r.path == "/v2/user_third_party_integrations"]) == 4


async def test_new_credentials_name_the_options_to_recheck(client: Client, revcent: RevCentEmulator) -> None:
    """The Edit guide: "Re-check options/assets because changed credentials may expose different provider assets":
    the answer to a credentials change names each asset option, with what is saved."""
    uid = await create(client, revcent)
    option_id, field_id = required_asset_select(revcent)
    await set_option(client, uid, option_id, field_id, ["company_sandbox_001"])
    form_id = await completed_form(client, revcent, "tax", secret="rotated")
    result = await ok(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                                 "secure_form_id": form_id, "confirm_overwrite": True})
    step = result["next_steps"][0]
    assert step.startswith("New credentials can expose other provider assets: re-check with the user")
    assert f"{option_id}.{field_id} (saved: company_sandbox_001)" in step and "readiness.choices" in step
