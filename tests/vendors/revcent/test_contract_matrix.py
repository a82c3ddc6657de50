"""The server's end-to-end RevCent flows under every setting of every emulator `Contract` switch (each behaviour the
documents allow but do not settle): create, set options, read back, enable, list, edit, revert, and a connector whose
option holds a secret. Every setting is survived or cleanly refused: no silent loss, no silently empty list, and
every options edit converges within one repair.

Each run is a real MCP client session (tests/harness.py) on a server in front of the emulator over ASGI."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.contract import INFERRED, Contract
from tests.harness import Session, connect, revcent_settings
from tests.vendors.revcent.helpers import credential_values, revcent_form_id

pytestmark = pytest.mark.anyio

CANARY = "matrix-canary-signing-secret-5f2c91"
SETTINGS = [pytest.param({}, id="documents")] + [
    pytest.param({name: value}, id=f"{name}={value}") for name, others in INFERRED.items() for value in others]
REPAIR = re.compile(r"third_party_options=(\[.*\])\.$")


async def completed_form(s: Session, kind: str, via: str) -> str:
    form = await s.ok("CreateSecureForm", site_third_party_integration_id=s.revcent.site_id(kind))
    values = credential_values(s.revcent, kind)
    if via == "server-form":
        s.fill(form["secure_form_id"], values)
    else:
        s.revcent.complete_secure_form(revcent_form_id(form), values)
    assert (await s.ok("GetSecureForm", secure_form_id=form["secure_form_id"]))["completed"]
    return form["secure_form_id"]


def saved(result: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    options = result["verified"]["integration"]["third_party_options_saved"]
    return {(o["id"], f["id"]): f["value"] for o in options for f in o["fields"]}


async def edit_options(s: Session, uid: str, options: list[dict[str, Any]],
                       want: dict[tuple[str, str], list[str]]) -> list[str]:
    """Edit options; if RevCent dropped something, apply the one repair the answer gives; then the saved state is
    exactly `want`. Returns what the server learned."""
    result = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                        third_party_options=options, confirm_overwrite=True)
    learned = result["learned"]
    if saved(result) != want:
        assert result["mismatches"] and result["next_steps"][0].startswith("The saved state differs"), result
        assert learned and learned[0].startswith("revcent.options_edit"), result  # said, never silent
        repair = next(REPAIR.search(step) for step in result["next_steps"] if REPAIR.search(step))
        result = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                            third_party_options=json.loads(repair.group(1)), confirm_overwrite=True)
    assert saved(result) == want and result["mismatches"] == [], result
    return learned


@pytest.mark.parametrize("switch", SETTINGS)
async def test_every_flow_under_every_contract_setting(switch: dict[str, Any]) -> None:
    contract = Contract(**switch)
    via = "revcent-form" if contract.accept_secure_form_id else "server-form"
    emu = RevCentEmulator(contract=contract)
    for n in range(30):  # more than one list page, so paging and the bounded name check are exercised
        emu.add_user_integration(name=f"Filler {n:02}", site_id=emu.site_id("offline_payment"))
    async with connect(revcent_settings(credentials_via=via), revcent=emu) as s:
        # Create, with credentials from a secure form; the name check pages through the account.
        await s.refused("CreateUserThirdPartyIntegration", "already used", name="filler 29",
                        site_third_party_integration=emu.site_id("tax"))
        created = await s.ok("CreateUserThirdPartyIntegration", name="Tax main",
                             site_third_party_integration=emu.site_id("tax"),
                             secure_form_id=await completed_form(s, "tax", via))
        uid = created["user_third_party_integration_id"]
        assert created["mismatches"] == [] and created["verified"]["readiness"]["credentials_saved"]
        if contract.id_alphabet == "urlsafe":
            assert "_" in uid and "-" in uid

        # Read back: the account's assets are offered; a multi-select and an asset select are told apart.
        view = await s.ok("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
        choices = {(c["option_id"], c["field_id"]): c for c in view["readiness"]["choices"]}
        company = choices[("tax_company", "company_id")]
        assert company["source"] == "asset" and not company["multiple"] and company["values"]
        assert not view["readiness"]["can_enable"]

        # Set options, then change them field by field: each converges within one repair, and once learned the
        # server keeps everything saved.
        first = company["values"][0]["value"]
        state = {("tax_company", "company_id"): [first]}
        learned = await edit_options(s, uid, [{"id": "tax_company", "fields": [{"id": "company_id",
                                                                               "value": [first]}]}], state)
        state |= {("tax_settings", "commit_transactions"): ["yes"], ("tax_settings", "origin_zip"): ["12345"]}
        learned += await edit_options(s, uid, [{"id": "tax_settings", "fields": [
            {"id": "commit_transactions", "value": ["yes"]}, {"id": "origin_zip", "value": ["12345"]}]}], state)
        state[("tax_settings", "commit_transactions")] = ["no"]
        learned += await edit_options(s, uid, [{"id": "tax_settings", "fields": [
            {"id": "commit_transactions", "value": ["no"]}]}], state)
        state[("tax_settings", "origin_zip")] = ["54321"]
        assert await edit_options(s, uid, [{"id": "tax_settings", "fields": [
            {"id": "origin_zip", "value": ["54321"]}]}], state) == []  # adapted: nothing lost any more
        assert bool(learned) == (contract.options_edit != "field")

        # Enable (the person agrees), then list: the integration is there, enabled.
        enabled = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, enabled=True,
                             confirm_enable=True)
        assert enabled["verified"]["integration"]["enabled"] is True and enabled["mismatches"] == []
        rows = (await s.ok("GetUserThirdPartyIntegrations"))["results"]
        rows += (await s.ok("GetUserThirdPartyIntegrations", page=2))["results"]
        assert len(rows) == 31 and {r["id"]: r["enabled"] for r in rows}[uid] is True

        # Edit (rename the live integration: the person agrees), then revert it.
        renamed = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                             name="Tax main (renamed)", confirm_overwrite=True)
        assert renamed["mismatches"] == []
        change = (await s.ok("GetIntegrationChanges", limit=1))["results"][0]
        reverted = await s.ok("RevertIntegrationChange", change_id=change["id"], confirm_revert=True)
        assert reverted["result"]["mismatches"] == [] and emu.user_integrations[uid].name == "Tax main"
        assert emu.user_integrations[uid].options == {"tax_company": {"company_id": [first]},
                                                      "tax_settings": {"commit_transactions": ["no"],
                                                                       "origin_zip": ["54321"]}}

        await secret_option_flow(s, emu, via, contract)
        assert all(CANARY not in seen for seen in s.seen)


async def secret_option_flow(s: Session, emu: RevCentEmulator, via: str, contract: Contract) -> None:
    """A connector whose required option holds a secret the user sets in RevCent itself: the server never takes,
    shows or sends it back, and the integration can be completed and enabled whether a read shows, masks or omits
    it."""
    created = await s.ok("CreateUserThirdPartyIntegration", name="Call events",
                         site_third_party_integration=emu.site_id("call_events"),
                         secure_form_id=await completed_form(s, "call_events", via))
    uid = created["user_third_party_integration_id"]
    await s.refused("EditUserThirdPartyIntegration", "holds a secret", user_third_party_integration_id=uid,
                    third_party_options=[{"id": "webhook", "fields": [{"id": "signing_secret", "value": [CANARY]}]}])
    emu.user_integrations[uid].options["webhook"] = {"signing_secret": [CANARY]}  # the user, in RevCent
    url = {"id": "webhook", "fields": [{"id": "endpoint_url", "value": ["https://hooks.example.invalid/calls"]}]}
    edit = {"user_third_party_integration_id": uid, "third_party_options": [url]}
    if contract.options_edit == "field":
        # What Edit does with unsent fields is unseen on this account only if no edit showed it: then the person
        # hears that the secret may be erased; here the tax flow showed "field", so it is sent without asking.
        result = await s.ok("EditUserThirdPartyIntegration", edit)
        assert result["mismatches"] == [] and "signing_secret" not in json.dumps(result["sent"])
    else:  # learned: RevCent replaces whole options, and the secret is never sent back: refused, nothing sent
        writes = len(emu.writes())
        await s.refused("EditUserThirdPartyIntegration", "signing_secret", "RevCent itself", **edit)
        assert len(emu.writes()) == writes
        emu.user_integrations[uid].options["webhook"]["endpoint_url"] = ["https://hooks.example.invalid/calls"]
    assert emu.user_integrations[uid].options["webhook"]["signing_secret"] == [CANARY]
    view = await s.ok("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
    assert view["readiness"]["can_enable"], view["readiness"]
    assert view["readiness"]["unseen_secrets"] == (["webhook.signing_secret"]
                                                   if contract.secret_options == "omitted" else [])
    message = await s.refused("EditUserThirdPartyIntegration", "confirm_enable", user_third_party_integration_id=uid,
                              enabled=True)
    assert ("signing_secret" in message) == (contract.secret_options == "omitted")
    done = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, enabled=True,
                      confirm_enable=True)
    assert done["verified"]["integration"]["enabled"] is True and done["mismatches"] == []


async def test_an_edit_of_a_secret_option_asks_first_while_revcents_edit_behaviour_is_unseen() -> None:
    """[I] revcent.options_edit unseen on this account and the secret left out of reads: were RevCent to replace whole
    options, a read-back could not show the secret erased, so the person is told before the edit, not after."""
    emu = RevCentEmulator(contract=Contract(accept_secure_form_id=True, secret_options="omitted",
                                            options_edit="option"))
    uid = emu.add_user_integration(name="Call events", site_id=emu.site_id("call_events"),
                                   credentials=credential_values(emu, "call_events"),
                                   options_saved=[{"id": "webhook", "fields": [
                                       {"id": "signing_secret", "value": [CANARY]},
                                       {"id": "endpoint_url", "value": ["https://old.example.invalid"]}]}])
    edit = {"user_third_party_integration_id": uid, "third_party_options": [
        {"id": "webhook", "fields": [{"id": "endpoint_url", "value": ["https://new.example.invalid"]}]}]}
    async with connect(revcent_settings(), revcent=emu) as s:
        message = await s.refused("EditUserThirdPartyIntegration", "webhook.signing_secret", "erased", **edit)
        assert "confirm_overwrite=true" in message and emu.writes() == []
        assert all(CANARY not in seen for seen in s.seen)
