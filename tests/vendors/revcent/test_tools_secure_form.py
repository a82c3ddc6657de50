"""RevCent guardrail 1 through a real MCP client session (tests/harness.py): credentials reach RevCent only through
its secure form, which must be completed, current and for the same site."""

from __future__ import annotations

import pytest
from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.contract import GUIDE_CONTRACT
from tests.harness import connect, ok, refused, revcent_settings
from tests.vendors.revcent.helpers import completed_form, create, credential_values, integration_writes

pytestmark = pytest.mark.anyio


# --- guardrail 1: credentials only through a secure form ------------------------------------------------------------

@pytest.mark.parametrize("arguments", [
    {"third_party_credentials": {"id": "api", "fields": [{"id": "key", "value": "CANARY-1"}]}},
    {"password": "CANARY-2"},
    {"description": "x", "third_party_options": [{"id": "o", "fields": [{"id": "f", "value": ["v"]}],
                                                   "credentials": {"api_key": "CANARY-3"}}]},
])
async def test_raw_credentials_are_refused_at_any_depth(client: Client, revcent: RevCentEmulator,
                                                        arguments: dict) -> None:
    message = await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "X", "site_third_party_integration": revcent.site_id("tax"), **arguments},
        "CreateSecureForm", "secure_form_id")
    assert "CANARY" not in message
    uid = revcent.add_user_integration(name="Existing", site_id=revcent.site_id("tax"))
    await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid, **arguments},
                  "CreateSecureForm")
    assert revcent.writes() == []


async def test_unknown_arguments_are_refused_not_dropped(client: Client, revcent: RevCentEmulator) -> None:
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "X", "site_third_party_integration": revcent.site_id("tax"), "enable": True},
        "unknown argument", "enable", "enabled")
    assert revcent.writes() == []


async def test_secure_form_must_be_completed_current_and_for_the_same_site(client: Client,
                                                                           revcent: RevCentEmulator) -> None:
    tax = revcent.site_id("tax")
    args = {"name": "Tax", "site_third_party_integration": tax}
    pending = await ok(client, "CreateSecureForm", {"site_third_party_integration_id": tax})
    await refused(client, "CreateUserThirdPartyIntegration", {**args, "secure_form_id": pending["secure_form_id"]},
                  "not completed", "form_url")
    other = await completed_form(client, revcent, "shipping")
    await refused(client, "CreateUserThirdPartyIntegration", {**args, "secure_form_id": other}, tax)
    await refused(client, "CreateUserThirdPartyIntegration", {**args, "secure_form_id": "Z" * 20},
                  "CreateSecureForm")
    assert integration_writes(revcent) == []


async def test_expired_secure_form_is_refused() -> None:
    now = [1_800_000_000.0]
    emu = RevCentEmulator(clock=lambda: now[0], contract=GUIDE_CONTRACT)
    async with connect(revcent_settings(), revcent=emu) as session:
        client = session.client
        form_id = await completed_form(client, emu)
        now[0] += 3601
        await refused(client, "CreateUserThirdPartyIntegration", {
            "name": "Tax", "site_third_party_integration": emu.site_id("tax"), "secure_form_id": form_id},
            "CreateSecureForm")
    assert integration_writes(emu) == []


async def test_credentials_reach_the_vendor_only_through_the_form(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    assert revcent.stored_credentials(uid) == credential_values(revcent, "tax")
    body = integration_writes(revcent)[0].json()
    assert "third_party_credentials" not in body and "secure_form_id" in body
