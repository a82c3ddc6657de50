"""The CxEngage secure form through a real MCP client session (tests/harness.py): what it asks for, what it is
bound to, that it works once, and that a secret reaches the vendor only from it (on the loopback page too)."""

from __future__ import annotations

import time

import pytest

from integrations_mcp.secure_forms.scripted_person import fill_secure_form
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import SecureFormStore
from integrations_mcp.vendors.cxengage.emulator import (
    CxEngageEmulator,
)
from tests.harness import FORMS_URL, Session, connect, cxengage_settings, make_server, text_of
from tests.vendors.cxengage.helpers import (
    REST_ID,
    REST_NAME,
    SALESFORCE,
    SALESFORCE_SECRETS,
    UNKNOWN_ID,
    ZENDESK,
    T,
    collection_path,
    create_zendesk,
)

pytestmark = pytest.mark.anyio


# --- the secure form ------------------------------------------------------------------------------------------------

async def test_a_form_asks_for_the_types_secrets(cx: Session) -> None:
    before = int(time.time())
    form = await cx.ok("CreateCxEngageSecureForm", type="salesforce")
    assert form["fields"] == ["password", "consumerSecret", "securityToken"]
    # The page's address is not the handle the model holds (nothing in secure_form_id opens the page).
    assert form["form_url"].startswith(f"{FORMS_URL}/secure-forms/") and form["secure_form_id"] not in form["form_url"]
    assert before + 3590 <= form["expires_at"] <= before + 3610
    assert form["integration_id"] is None and "CreateCxEngageIntegration" in form["next_step"]
    stored = cx.store.lookup(cx.page_of(form["secure_form_id"])).form
    assert [(f.id, f.label, f.required) for f in stored.fields] == [
        ("password", "Password", True), ("consumerSecret", "Consumer secret", True),
        ("securityToken", "Security token", True)]
    assert dict(stored.purpose) == {"vendor": "cxengage", "tenant": T, "type": "salesforce", "integration": "",
                                    "at.username": "sf@example.invalid", "at.consumerKey": "ck-123"}
    assert T in stored.subject and "Salesforce" in stored.subject

    subset = await cx.ok("CreateCxEngageSecureForm", type="salesforce", fields=["consumerSecret"])
    assert subset["fields"] == ["consumerSecret"]
    rest = await cx.ok("CreateCxEngageSecureForm", type="rest")  # neither REST secret is required
    assert [f.required for f in cx.store.lookup(cx.page_of(rest["secure_form_id"])).form.fields] == [False, False]
    assert cx.cxengage.requests == []


async def test_a_form_for_an_existing_integration_checks_its_type(cx: Session) -> None:
    form = await cx.ok("CreateCxEngageSecureForm", type="rest", integration_id=REST_ID, fields=["token"])
    assert form["integration_id"] == REST_ID and "EditCxEngageIntegration" in form["next_step"]
    stored = cx.store.lookup(cx.page_of(form["secure_form_id"])).form
    assert stored.purpose["integration"] == REST_ID and REST_NAME in stored.subject
    assert [f.required for f in stored.fields] == [True]  # a single field to replace must be typed
    await cx.refused("CreateCxEngageSecureForm", "is of type 'rest', not 'salesforce'", type="salesforce",
                     integration_id=REST_ID)
    await cx.refused("CreateCxEngageSecureForm", "http_status=404", type="rest", integration_id=UNKNOWN_ID)
    assert len(cx.store) == 1 and cx.writes() == []


@pytest.mark.parametrize("fields, needle", [
    (["username"], "username is not a choice of secret fields for salesforce"),
    (["password", "apiKey"], "apiKey is not a choice"),
    ([], "an empty list"),
])
async def test_a_form_refuses_fields_that_are_not_the_types_secrets(cx: Session, fields: list[str],
                                                                   needle: str) -> None:
    await cx.refused("CreateCxEngageSecureForm", needle, "Valid: password, consumerSecret, securityToken",
                     type="salesforce", fields=fields)
    assert len(cx.store) == 0


async def test_the_form_must_be_completed(cx: Session) -> None:
    form_id = await cx.form("zendesk")
    await cx.refused("CreateCxEngageIntegration", "has not saved the secure form", "Nothing was sent",
                     name="Desk", type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
    await cx.refused("CreateCxEngageIntegration", "No secure form with this id", name="Desk", type="zendesk",
                     properties=dict(ZENDESK), secure_form_id="x" * 32)
    assert cx.cxengage.requests == []


async def test_an_expired_form_is_refused(emu: CxEngageEmulator) -> None:
    now = [1_900_000_000.0]
    forms = SecureFormServer(SecureFormStore(clock=lambda: now[0]), base_url=FORMS_URL)
    async with connect(cxengage_settings(), cxengage=emu, forms=forms) as cx:
        form_id = await cx.form("zendesk", {"password": "zd-pw"})
        now[0] += 3601
        await cx.refused("CreateCxEngageIntegration", "expired", "CreateCxEngageSecureForm", name="Desk",
                         type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
    assert emu.requests == []


async def test_a_form_is_bound_to_its_purpose(cx: Session) -> None:
    zendesk_form = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "was made for type 'zendesk', not 'salesforce'",
                     "Nothing was sent", name="CRM", type="salesforce", properties=dict(SALESFORCE),
                     secure_form_id=zendesk_form)
    # A form made for creating cannot replace the secrets of an existing integration.
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old"})
    await cx.refused("EditCxEngageIntegration", "was made for integration '(none)'", integration_id=desk,
                     secure_form_id=zendesk_form, confirm_overwrite=True)
    # A form for one integration cannot be used on another of the same type.
    other = cx.cxengage.add_integration(T, "zendesk", "Desk 2", {**ZENDESK, "password": "old"})
    edit_form = await cx.form("zendesk", {"password": "new"}, integration_id=desk)
    await cx.refused("EditCxEngageIntegration", f"was made for integration '{desk}'", integration_id=other,
                     secure_form_id=edit_form, confirm_overwrite=True)
    await cx.refused("CreateCxEngageIntegration", "was made for integration", name="Desk 3", type="zendesk",
                     properties=dict(ZENDESK), secure_form_id=edit_form)
    # Nor in another tenant.
    tenant2 = cx.cxengage.add_tenant()
    await cx.refused("CreateCxEngageIntegration", f"was made for tenant '{T}', not '{tenant2}'",
                     tenant_id=tenant2, name="Desk", type="zendesk", properties=dict(ZENDESK),
                     secure_form_id=zendesk_form)
    assert cx.writes() == []
    assert cx.form_state(zendesk_form) == (True, False) and cx.form_state(edit_form) == (True, False)
    assert cx.cxengage.stored(T, desk)["properties"]["password"] == "old"


async def test_a_form_made_in_one_connection_looks_unknown_to_another(emu: CxEngageEmulator) -> None:
    settings = cxengage_settings()
    server = make_server(settings, cxengage=emu)
    async with connect(settings, cxengage=emu, server=server) as a, connect(settings, cxengage=emu, server=server) as b:
        form_id = await a.form("zendesk", {"password": "zd-pw"})
        arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
        await b.refused("CreateCxEngageIntegration", "No secure form with this id exists for this session",
                        **arguments)
        await b.refused("CreateCxEngageIntegration", "No secure form", **{**arguments, "dry_run": True})
        assert emu.writes() == [] and a.form_state(form_id) == (True, False)
        created = await a.ok("CreateCxEngageIntegration", **arguments)
        assert emu.stored(T, created["integration_id"])["properties"]["password"] == "zd-pw"


async def test_a_form_is_used_once(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                secure_form_id=form_id)
    assert cx.form_state(form_id) == (False, True)
    for dry_run in (True, False):
        await cx.refused("CreateCxEngageIntegration", "already used", "CreateCxEngageSecureForm", name="Desk 2",
                         type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id, dry_run=dry_run)
    assert len(cx.writes()) == 1


async def test_a_dry_run_does_not_use_the_form(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    dry = await cx.call("CreateCxEngageIntegration", **arguments, dry_run=True)
    assert not dry.is_error, text_of(dry)
    assert dry.structured_content["sent"]["properties"]["password"] == "[redacted]"
    assert "zd-typed-pw" not in dry.model_dump_json()
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.cxengage.stored(T, created["integration_id"])["properties"]["password"] == "zd-typed-pw"


async def test_a_failed_vendor_write_keeps_the_typed_values(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=400,
                         body=b'{"error": {"code": 400, "message": "Rejected"}}')
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "http_status=400", "Rejected",
                     **arguments)
    assert len(cx.writes()) == 1 and cx.cxengage.list_integrations(T)[-1]["name"] == REST_NAME  # nothing stored
    assert cx.form_state(form_id) == (True, False)  # restored: the person need not type it again
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.cxengage.stored(T, created["integration_id"])["properties"]["password"] == "zd-typed-pw"
    assert cx.form_state(form_id) == (False, True)


@pytest.mark.parametrize("status", [500, 503])
async def test_a_write_that_may_have_happened_spends_the_form(cx: Session, status: int) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=status,
                         body=b'{"error": {"code": 500, "message": "Internal error"}}')
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", **arguments)
    assert cx.form_state(form_id) == (False, True)  # a form works once: it cannot create a second integration
    await cx.refused("CreateCxEngageIntegration", "already used", **arguments)
    assert len(cx.writes()) == 1


async def test_the_secret_reaches_the_vendor_only_from_the_form(cx: Session) -> None:
    form_id = await cx.form("salesforce", SALESFORCE_SECRETS)
    result = await cx.call("CreateCxEngageIntegration", name="CRM", type="salesforce",
                           properties={**SALESFORCE, "pushEnabled": True}, secure_form_id=form_id)
    assert not result.is_error, text_of(result)
    created = result.structured_content
    [post] = cx.writes()
    assert post.json()["properties"] == {**SALESFORCE, "pushEnabled": True, **SALESFORCE_SECRETS}
    stored = cx.cxengage.stored(T, created["integration_id"])
    assert {k: stored["properties"][k] for k in SALESFORCE_SECRETS} == SALESFORCE_SECRETS
    shown = result.model_dump_json()
    assert not any(v in shown for v in SALESFORCE_SECRETS.values())
    assert created["sent"]["properties"]["consumerSecret"] == "[redacted]"
    assert created["verified"]["readiness"]["secrets_set"] == list(SALESFORCE_SECRETS)
    assert {c["field"]: c["proposed"] for c in created["changes"]}["properties.password"] == "set"


async def test_a_form_filled_over_http_on_the_loopback_page(emu: CxEngageEmulator) -> None:
    # The server starts its own listener.
    async with connect(cxengage_settings(), cxengage=emu, forms=SecureFormServer()) as cx:
        form = await cx.ok("CreateCxEngageSecureForm", type="zendesk")
        assert form["form_url"].startswith("http://127.0.0.1:")
        page = await fill_secure_form(form["form_url"], {"password": "typed-in-browser"})
        assert "typed-in-browser" not in page
        created = await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                              secure_form_id=form["secure_form_id"])
        assert emu.stored(T, created["integration_id"])["properties"]["password"] == "typed-in-browser"
        assert cx.server.secure_forms is not None and cx.server.secure_forms.listening
    assert cx.server.secure_forms is not None and not cx.server.secure_forms.listening


# --- secrets bound to where they are used -------------------------------------------------------------------------

async def test_a_form_for_a_new_integration_must_name_where_its_secrets_go(cx: Session) -> None:
    await cx.refused("CreateCxEngageSecureForm", "say where the secrets will be used", "endpointPrefix, username",
                     type="zendesk", destination={})
    await cx.refused("CreateCxEngageSecureForm", "not where zendesk secrets go", "Valid destination properties",
                     type="zendesk", destination={**ZENDESK, "workItems": "true"})
    assert cx.writes() == []


async def test_secrets_typed_for_one_endpoint_cannot_be_sent_to_another(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"}, destination=ZENDESK)
    elsewhere = {**ZENDESK, "endpointPrefix": "https://attacker.example.invalid/api/v2/"}
    await cx.refused("CreateCxEngageIntegration", "for use with endpointPrefix", "attacker.example.invalid",
                     "Nothing was sent", name="Desk", type="zendesk", properties=elsewhere, secure_form_id=form_id)
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)  # the form is still usable where it belongs
    await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=ZENDESK, secure_form_id=form_id)


async def test_moving_an_integration_that_holds_a_secret_needs_the_person(cx: Session) -> None:
    desk = (await create_zendesk(cx))["integration_id"]
    writes = len(cx.writes())
    moved = {"endpointPrefix": "https://other.example.invalid/api/v2/"}
    result = await cx.call("EditCxEngageIntegration", integration_id=desk, properties=moved)
    assert result.is_error and "where the saved password will be sent" in text_of(result)
    assert len(cx.writes()) == writes
    # A new form naming the new destination, replacing every saved secret, is the person's say on where it goes.
    form_id = await cx.form("zendesk", {"password": "new-pw"}, integration_id=desk, destination=moved)
    done = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties=moved, secure_form_id=form_id,
                       confirm_overwrite=True)
    assert done["mismatches"] == []


async def test_the_form_page_shows_where_the_secrets_go(cx: Session) -> None:
    form = cx.store.lookup(cx.page_of(await cx.form("zendesk", destination=ZENDESK))).form  # what the page renders
    assert dict(form.details) == {"API URI": ZENDESK["endpointPrefix"], "Username": ZENDESK["username"]}
