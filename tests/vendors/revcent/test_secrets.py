"""Canary values planted as the RevCent API key and as credentials typed into the secure form must appear in no
tool result, error text or log line, at any log level, while the credentials do reach RevCent."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import fill_secure_form
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.contract import GUIDE_CONTRACT
from tests.harness import Transcript, connect, revcent_settings

pytestmark = pytest.mark.anyio

KEY_CANARY = "CANARY-apikey-5d1f0e9b"
CREDENTIAL_CANARY = "CANARY-credential-8a2c4b7d"


@pytest.fixture
async def session(caplog: pytest.LogCaptureFixture) -> AsyncIterator[tuple[Transcript, RevCentEmulator]]:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx2, mcp, ours
    emulator = RevCentEmulator(api_key=KEY_CANARY, contract=GUIDE_CONTRACT)
    with serve_loopback(emulator.app) as vendor:  # a real HTTP path, as in production
        settings = revcent_settings(key=KEY_CANARY, base_url=vendor.url + "/v2", timeout_seconds=1)
        async with connect(settings, revcent=emulator, raise_exceptions=False) as transcript:
            yield transcript, emulator


async def test_canaries_reach_revcent_and_nothing_else(session: tuple[Transcript, RevCentEmulator],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    t, emu = session
    site_id = emu.site_id("tax")
    form = (await t.call("CreateSecureForm", {"site_third_party_integration_id": site_id})).structured_content
    fields = [f["id"] for f in emu.site_integrations[site_id]["third_party_credentials"]["fields"]]
    page = await fill_secure_form(form["form_url"], {f: f"{CREDENTIAL_CANARY}-{f}" for f in fields})
    assert CREDENTIAL_CANARY not in page  # the confirmation page does not echo what was typed
    created = await t.call("CreateUserThirdPartyIntegration", {
        "name": "Canary tax", "site_third_party_integration": site_id, "secure_form_id": form["secure_form_id"]})
    assert not created.is_error
    uid = created.structured_content["user_third_party_integration_id"]
    await t.call("GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    await t.call("GetUserThirdPartyIntegrations", {})
    # Error paths: a refused raw credential, vendor errors, an unreadable answer and a timeout.
    refused = await t.call("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid, "third_party_credentials": {"id": "x", "fields": [
            {"id": "license_key", "value": CREDENTIAL_CANARY}]}})
    assert refused.is_error
    emu.faults.inject(path_prefix="/v2/user_third_party_integrations", status=500, body=b'{"code":0}')
    assert (await t.call("GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})).is_error
    emu.faults.inject(path_prefix="/v2/user_third_party_integrations", body=b"not json")
    assert (await t.call("GetUserThirdPartyIntegrations", {})).is_error
    emu.faults.inject(path_prefix="/v2/site_third_party_integrations", delay=2.5)
    timed_out = await t.call("GetSiteThirdPartyIntegrations", {})
    assert timed_out.is_error and "timed out" in timed_out.content[0].text

    # The credentials did reach RevCent, through the form, and only there.
    assert emu.stored_credentials(uid) == {f: f"{CREDENTIAL_CANARY}-{f}" for f in fields}
    bodies = [r.body.decode() for r in emu.requests if r.path.startswith("/v2/")]
    assert not any(CREDENTIAL_CANARY in b for b in bodies)  # the server never sent them itself

    outputs = "\n".join(t.seen) + "\n" + caplog.text + "\n" + json.dumps([r.getMessage() for r in caplog.records])
    assert "GetUserThirdPartyIntegration" in outputs  # the transcript and the logs were really captured
    assert KEY_CANARY not in outputs
    assert CREDENTIAL_CANARY not in outputs


async def test_a_wrong_key_error_does_not_quote_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = RevCentEmulator(api_key="the-right-key", contract=GUIDE_CONTRACT)
    settings = revcent_settings(key=KEY_CANARY)
    async with connect(settings, revcent=emulator, raise_exceptions=False) as session:
        result = await session.call("GetSiteThirdPartyIntegrations", {})
    assert result.is_error and "GetSiteThirdPartyIntegrations failed" in result.content[0].text
    assert KEY_CANARY not in result.model_dump_json() + caplog.text
    assert KEY_CANARY not in repr(settings)
