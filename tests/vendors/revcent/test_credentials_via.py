"""RevCent's two credential paths (REVCENT_CREDENTIALS_VIA), and the server against each [I] switch of the emulator's
contract that changes what the server must do: over a real MCP client session, against the emulator over ASGI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integrations_mcp.vendors.revcent.emulator import Contract, RevCentEmulator
from tests.harness import Session, connect, revcent_settings
from tests.vendors.revcent.helpers import (
    credential_values,
    integration_writes,
    revcent_form_id,
    site,
    static_single_select,
)

pytestmark = pytest.mark.anyio

CANARY = "canary-cred-7f3a9c2e51"


async def server_form_create(s: Session, kind: str = "tax", name: str = "Tax main") -> tuple[dict[str, Any], str]:
    """The server-form path end to end: the server's own form, filled by the person, then Create."""
    form = await s.ok("CreateSecureForm", site_third_party_integration_id=s.revcent.site_id(kind))
    assert form["form_url"].startswith("http://forms.test/") and not form["completed"]
    s.fill(form["secure_form_id"], credential_values(s.revcent, kind, CANARY))
    assert (await s.ok("GetSecureForm", secure_form_id=form["secure_form_id"]))["completed"]
    created = await s.ok("CreateUserThirdPartyIntegration", name=name,
                         site_third_party_integration=s.revcent.site_id(kind), secure_form_id=form["secure_form_id"])
    return created, form["secure_form_id"]


async def test_server_form_path_follows_the_openapi_document() -> None:
    """Default emulator = the seed schemas exactly: credentials go as third_party_credentials, never via the model."""
    emu = RevCentEmulator()
    async with connect(revcent_settings(credentials_via="server-form"), revcent=emu) as s:
        created, form_id = await server_form_create(s)
        assert created["mismatches"] == [] and created["verified"]["readiness"]["credentials_saved"]
        uid = created["user_third_party_integration_id"]
        spent = await s.ok("GetSecureForm", secure_form_id=form_id)
        assert spent["next_step"].startswith("Already used") and not spent["completed"]
        assert emu.stored_credentials(uid) == credential_values(emu, "tax", CANARY)
        body = integration_writes(emu)[0].json()
        assert set(body) == {"name", "site_third_party_integration", "third_party_credentials"}
        assert body["third_party_credentials"]["id"] == site(emu, "tax")["third_party_credentials"]["id"]
        # Replacing them: a new server form, sent as third_party_credentials on Edit.
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=emu.site_id("tax"))
        s.fill(form["secure_form_id"], credential_values(emu, "tax", CANARY + "-2"))
        edited = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                            secure_form_id=form["secure_form_id"], confirm_overwrite=True)
        assert edited["mismatches"] == []
        assert emu.stored_credentials(uid) == credential_values(emu, "tax", CANARY + "-2")
        assert set(integration_writes(emu)[-1].json()) == {"third_party_credentials"}
        # A form works once.
        await s.refused("EditUserThirdPartyIntegration", "already used", user_third_party_integration_id=uid,
                        secure_form_id=form["secure_form_id"], confirm_overwrite=True)
        assert all(CANARY not in seen for seen in s.seen)


async def test_server_form_of_another_site_is_refused() -> None:
    async with connect(revcent_settings(credentials_via="server-form"), revcent=RevCentEmulator()) as s:
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=s.revcent.site_id("shipping"))
        s.fill(form["secure_form_id"], credential_values(s.revcent, "shipping", CANARY))
        await s.refused("CreateUserThirdPartyIntegration", "was made for", "Nothing was sent", name="Tax",
                        site_third_party_integration=s.revcent.site_id("tax"), secure_form_id=form["secure_form_id"])
        assert integration_writes(s.revcent) == []


async def test_revcent_form_against_the_documents_names_the_setting_to_change() -> None:
    """If the REST API follows its OpenAPI document, secure_form_id is refused: the answer says what to set."""
    emu = RevCentEmulator()  # accept_secure_form_id=False: the seed schemas
    async with connect(revcent_settings(credentials_via="revcent-form"), revcent=emu) as s:
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=emu.site_id("tax"))
        emu.complete_secure_form(revcent_form_id(form), credential_values(emu, "tax"))
        await s.refused("CreateUserThirdPartyIntegration", "secure_form_id", "REVCENT_CREDENTIALS_VIA=server-form",
                        name="Tax", site_third_party_integration=emu.site_id("tax"),
                        secure_form_id=form["secure_form_id"])
        assert emu.user_integrations == {}
        # The form was not spent by the refusal: nothing was written.
        again = await s.ok("GetSecureForm", secure_form_id=form["secure_form_id"])
        assert again["completed"] and "Already used" not in again["next_step"]


@pytest.mark.parametrize("via", ["server-form", "revcent-form"])
@pytest.mark.parametrize("options_edit", ["field", "option", "replace"])
async def test_verify_reports_every_saved_option_lost_first(via: str, options_edit: str) -> None:
    """Whatever RevCent does with the option fields an edit does not send, the answer says so, first."""
    emu = RevCentEmulator(contract=Contract(accept_secure_form_id=via == "revcent-form",
                                            options_edit=options_edit))  # type: ignore[arg-type]
    option_id, field_id, values = static_single_select(emu)
    sibling = next(f["id"] for f in site(emu, "tax")["third_party_options"][1]["fields"] if f["field_type"] == "input")
    saved = [{"id": option_id, "fields": [{"id": field_id, "value": [values[0]]}, {"id": sibling, "value": ["kept"]}]}]
    uid = emu.add_user_integration(name="Tax", site_id=emu.site_id("tax"), credentials=credential_values(emu, "tax"),
                                   options_saved=saved)
    async with connect(revcent_settings(credentials_via=via), revcent=emu) as s:
        result = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                            confirm_overwrite=True,
                            third_party_options=[{"id": option_id, "fields": [{"id": field_id, "value": [values[1]]}]}])
    assert result["sent"] == {"third_party_options": [{"id": option_id,
                                                       "fields": [{"id": field_id, "value": [values[1]]}]}]}
    if options_edit == "field":
        assert result["mismatches"] == [] and not result["next_steps"][0].startswith("The saved state differs")
    else:
        assert result["mismatches"][0] == (f"third_party_options.{option_id}.{sibling}: not part of this write, but "
                                           "held ['kept'] and now was empty")
        assert result["next_steps"][0].startswith("The saved state differs")


async def test_a_list_under_another_key_is_read_there_and_an_unreadable_one_refused() -> None:
    """[I] revcent.list_key: rows under another key are found (the one list on the page); a page where they cannot be
    found is refused, never read as empty (the unique-name check must not pass silently)."""
    emu = RevCentEmulator(contract=Contract(accept_secure_form_id=True, list_key="user_third_party_integrations"))
    emu.add_user_integration(name="Tax main", site_id=emu.site_id("tax"))
    async with connect(revcent_settings(), revcent=emu) as s:
        await s.refused("CreateUserThirdPartyIntegration", "already used", name="Tax main",
                        site_third_party_integration=emu.site_id("tax"))
        assert [r["name"] for r in (await s.ok("GetUserThirdPartyIntegrations"))["results"]] == ["Tax main"]
        emu.faults.inject(path_prefix="/v2/user_third_party_integrations", method="GET", times=None,
                          body=b'{"api_call_id":"CCCCCCCCCCCCCCCCCCCC","api_call_unix":1,"code":1,"a":[],"b":[]}')
        await s.refused("CreateUserThirdPartyIntegration", "no 'results' key", "revcent.list_key",
                        name="Tax 2", site_third_party_integration=emu.site_id("tax"))
        await s.refused("GetUserThirdPartyIntegrations", "integrations-mcp check")
    assert integration_writes(emu) == []


@pytest.mark.parametrize("contract", [Contract(accept_secure_form_id=True, form_reports_source=False),
                                      Contract(accept_secure_form_id=True, form_id_key="id")])
async def test_revcent_form_survives_form_answers_without_the_inferred_keys(contract: Contract) -> None:
    """[I] revcent.form_source_id / revcent.form_id_key: a form this server created is still usable."""
    emu = RevCentEmulator(contract=contract)
    async with connect(revcent_settings(), revcent=emu) as s:
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=emu.site_id("tax"))
        emu.complete_secure_form(revcent_form_id(form), credential_values(emu, "tax"))
        created = await s.ok("CreateUserThirdPartyIntegration", name="Tax", secure_form_id=form["secure_form_id"],
                             site_third_party_integration=emu.site_id("tax"))
        assert created["mismatches"] == []
        if not contract.form_reports_source:  # a form made elsewhere is no form of this session: refused
            other = emu.create_form("third_party_integration", emu.site_id("tax"))
            emu.complete_secure_form(other.id, credential_values(emu, "tax"))
            await s.refused("CreateUserThirdPartyIntegration", "for this session", name="Tax 2",
                            site_third_party_integration=emu.site_id("tax"), secure_form_id=other.id)


async def test_enabling_waits_for_credentials_read_back() -> None:
    """No enabled=true with a new form in one call: enable after the read-back shows credentials saved."""
    emu = RevCentEmulator(contract=Contract(accept_secure_form_id=True))
    uid = emu.add_user_integration(name="Pay", site_id=emu.site_id("offline_payment"))
    async with connect(revcent_settings(), revcent=emu) as s:
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=emu.site_id("offline_payment"))
        emu.complete_secure_form(revcent_form_id(form), credential_values(emu, "offline_payment"))
        await s.refused("EditUserThirdPartyIntegration", "combines credentials + enabled state",
                        user_third_party_integration_id=uid, secure_form_id=form["secure_form_id"], enabled=True)
        saved = await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                           secure_form_id=form["secure_form_id"])
        assert saved["verified"]["readiness"]["credentials_saved"]
        assert (await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, enabled=True,
                           confirm_enable=True))["verified"]["integration"]["enabled"]


async def test_server_form_values_never_reach_the_model_even_when_revcent_quotes_them() -> None:
    """RevCent refuses and quotes the credentials sent: the answer is scrubbed, and the form is given back."""
    emu = RevCentEmulator()
    values = credential_values(emu, "tax", CANARY)
    async with connect(revcent_settings(credentials_via="server-form"), revcent=emu) as s:
        form = await s.ok("CreateSecureForm", site_third_party_integration_id=emu.site_id("tax"))
        s.fill(form["secure_form_id"], values)
        quoted = json.dumps({"code": 0, "error_code": "bad", "message": "rejected " + " ".join(values.values()),
                             "api_call_id": "A" * 20, "api_call_unix": 1, "result": "x"}).encode()
        emu.faults.inject(path_prefix="/v2/user_third_party_integrations", method="POST", status=400, body=quoted)
        create = {"name": "Tax", "site_third_party_integration": emu.site_id("tax"),
                  "secure_form_id": form["secure_form_id"]}
        await s.refused("CreateUserThirdPartyIntegration", "rejected [redacted]", **create)
        assert (await s.ok("GetSecureForm", secure_form_id=form["secure_form_id"]))["completed"]  # given back
        created = await s.ok("CreateUserThirdPartyIntegration", **create)
        assert created["mismatches"] == []
        assert all(CANARY not in seen for seen in s.seen)


async def test_zero_based_pages_are_detected_by_the_name_check_and_the_list() -> None:
    """[I] revcent.paging: were pages 0-based, the first page used to be skipped (the list answered 0 rows, the
    name check passed); the client finds which page is first, so the server itself refuses the duplicate."""
    emu = RevCentEmulator(contract=Contract(page_first=0))
    emu.add_user_integration(name="Tax main", site_id=emu.site_id("tax"))
    async with connect(revcent_settings(credentials_via="server-form"), revcent=emu) as s:
        await s.refused("CreateUserThirdPartyIntegration", "is already used by integration", "Nothing was sent",
                        name="Tax main", site_third_party_integration=emu.site_id("tax"))
        listed = await s.ok("GetUserThirdPartyIntegrations")
        assert [r["name"] for r in listed["results"]] == ["Tax main"]
        sites = await s.ok("GetSiteThirdPartyIntegrations", limit=4)
        more = await s.ok("GetSiteThirdPartyIntegrations", limit=4, page=2)
        assert len({r["id"] for r in sites["results"] + more["results"]}) == len(emu.site_integrations)
    assert len(emu.user_integrations) == 1 and integration_writes(emu) == []
