"""CxEngage tools through a real MCP client session (tests/harness.py) against the CxEngage emulator over ASGI:
the tool surface and guides, the reads (redaction, readiness), the types and properties the tools know, and the
secrets firewall. Every test says what reached the emulator, or that nothing did."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integrations_mcp.vendors.cxengage.catalog import TYPES
from integrations_mcp.vendors.cxengage.emulator import (
    INTEGRATION_TYPES,
    SANDBOX_VIEW_ONLY_INTEGRATION_ID,
    SANDBOX_VIEW_ONLY_TENANT_ID,
    CxEngageEmulator,
)
from tests.harness import SHARED_READ_TOOLS, SHARED_TOOLS, Session, connect, cxengage_settings
from tests.vendors.cxengage.helpers import (
    READ_TOOLS,
    REST_ID,
    REST_NAME,
    REST_TOKEN,
    SALESFORCE,
    SALESFORCE_SECRETS,
    VIEW_ONLY_PASSWORD,
    WRITE_TOOLS,
    ZENDESK,
    T,
    collection_path,
    item_path,
)

pytestmark = pytest.mark.anyio


# --- the tool surface -----------------------------------------------------------------------------------------------

async def test_five_tools_with_schemas_annotations_and_short_descriptions(cx: Session) -> None:
    tools = {t.name: t for t in (await cx.client.list_tools()).tools if t.name not in SHARED_TOOLS}
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    for name, tool in tools.items():
        schema = tool.input_schema
        assert schema.get("additionalProperties") is False, name
        assert schema["properties"]["tenant_id"] == {"type": "string", "format": "uuid"}, name
        assert "tenant_id" in schema["required"], name
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        assert 40 < len(tool.description or "") < 260, (name, len(tool.description or ""))
        assert "guide://" not in (tool.description or ""), name  # a model cannot fetch resources everywhere
        assert "\n" not in (tool.description or ""), name
        assert bool(tool.annotations.read_only_hint) is (name in READ_TOOLS), name  # absent: false
    for name in ("GetCxEngageIntegration", "EditCxEngageIntegration"):
        assert tools[name].input_schema["properties"]["integration_id"]["format"] == "uuid"
    assert tools["CreateCxEngageSecureForm"].annotations.open_world_hint is False  # served locally, no vendor
    assert tools["CreateCxEngageSecureForm"].annotations.destructive_hint is False
    assert tools["CreateCxEngageIntegration"].annotations.destructive_hint is False
    assert not tools["CreateCxEngageIntegration"].annotations.idempotent_hint
    assert tools["EditCxEngageIntegration"].annotations.destructive_hint in (True, None)  # None: true
    create_props = set(tools["CreateCxEngageIntegration"].input_schema["properties"])
    assert "secure_form_id" in create_props and not create_props & {"password", "secret", "token", "credentials"}
    edit_props = set(tools["EditCxEngageIntegration"].input_schema["properties"])
    assert {"confirm_overwrite", "confirm_deactivate", "dry_run", "secure_form_id"} <= edit_props
    assert {"verified", "mismatches", "sent", "changes"} <= set(tools["EditCxEngageIntegration"].output_schema[
        "properties"])
    assert "readiness" in tools["GetCxEngageIntegration"].output_schema["properties"]
    assert {"secure_form_id", "form_url", "expires_at", "fields"} <= set(
        tools["CreateCxEngageSecureForm"].output_schema["properties"])


async def test_ids_must_be_uuids_and_unknown_arguments_are_refused_before_anything_is_sent(cx: Session) -> None:
    await cx.refused("GetCxEngageIntegrations", "tenant_id", tenant_id="acme")
    await cx.refused("GetCxEngageIntegration", "integration_id", integration_id="../../tokens")
    await cx.refused("EditCxEngageIntegration", "integration_id", integration_id="1234", description="x")
    await cx.refused("GetCxEngageIntegrations", "unknown argument", "offset", offset=5)
    await cx.refused("CreateCxEngageIntegration", "unknown argument", "enabled", name="X", type="rest",
                     enabled=True)
    assert cx.cxengage.requests == []


async def test_pinned_tenant_is_hidden_from_schemas_refused_as_an_argument_and_used(emu: CxEngageEmulator) -> None:
    async with connect(cxengage_settings(tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID), cxengage=emu) as cx:
        tools = (await cx.client.list_tools()).tools
        assert len(tools) == 5 + len(SHARED_TOOLS)
        for tool in tools:
            assert "tenant_id" not in tool.input_schema["properties"], tool.name
            assert "tenant_id" not in tool.input_schema.get("required", []), tool.name
        # A caller cannot escape the pin, not even by naming the pinned tenant itself.
        for tenant in (T, SANDBOX_VIEW_ONLY_TENANT_ID):
            await cx.refused("GetCxEngageIntegrations", "unknown argument", "tenant_id", tenant_id=tenant)
        await cx.refused("CreateCxEngageSecureForm", "unknown argument", "tenant_id", tenant_id=T, type="rest")
        assert emu.requests == []
        listed = await cx.ok("GetCxEngageIntegrations")
        assert listed["tenant_id"] == SANDBOX_VIEW_ONLY_TENANT_ID
        assert [r["id"] for r in listed["results"]] == [SANDBOX_VIEW_ONLY_INTEGRATION_ID]
        await cx.ok("GetCxEngageIntegration", integration_id=SANDBOX_VIEW_ONLY_INTEGRATION_ID)
        assert {r.path for r in emu.requests} == {collection_path(SANDBOX_VIEW_ONLY_TENANT_ID),
                                                  item_path(SANDBOX_VIEW_ONLY_INTEGRATION_ID,
                                                            SANDBOX_VIEW_ONLY_TENANT_ID)}
        form = await cx.ok("CreateCxEngageSecureForm", type="zendesk")
        assert cx.store.lookup(cx.page_of(form["secure_form_id"])).form.purpose["tenant"] == SANDBOX_VIEW_ONLY_TENANT_ID


async def test_read_only_serves_only_the_two_read_tools(emu: CxEngageEmulator) -> None:
    async with connect(cxengage_settings(read_only=True), cxengage=emu) as cx:
        tools = (await cx.client.list_tools()).tools
        assert {t.name for t in tools} == READ_TOOLS | SHARED_READ_TOOLS
        assert all(t.annotations.read_only_hint for t in tools)
        for tool, args in (("CreateCxEngageSecureForm", {"type": "zendesk"}),
                           ("CreateCxEngageIntegration", {"name": "X", "type": "rest"}),
                           ("EditCxEngageIntegration", {"integration_id": REST_ID, "description": "x"})):
            assert (await cx.call(tool, **args)).is_error, tool
        assert len(cx.store) == 0
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1
    assert emu.writes() == []


async def test_guides_named_by_the_tools_are_served(cx: Session) -> None:
    import re

    uris = {str(r.uri) for r in (await cx.client.list_resources()).resources}
    tools = (await cx.client.list_tools()).tools
    named = {f"guide://{u}" for t in tools
             for u in re.findall(r"GetIntegrationGuide ([\w-]+/[\w/-]+)", t.description or "")}
    assert named and named <= uris, named - uris
    assert {f"guide://cxengage/{t.name}" for t in tools if t.name not in SHARED_TOOLS} <= uris
    assert "guide://common/guardrails" in uris and not any(u.startswith("guide://revcent/") for u in uris)


# --- reads: redaction and readiness ---------------------------------------------------------------------------------

async def test_list_shows_summaries_without_properties(cx: Session) -> None:
    listed = await cx.ok("GetCxEngageIntegrations")
    assert listed == {"tenant_id": T, "count": 1, "page": 1, "limit": 50, "next_page": None, "complete": True,
                      "note": None, "results": [{
        "id": REST_ID, "name": REST_NAME, "type": "rest", "active": True,
        "description": "Fixture: a REST integration that already exists."}]}
    cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw-in-vendor"})
    listed = await cx.ok("GetCxEngageIntegrations")
    assert listed["count"] == 2 and {r["type"] for r in listed["results"]} == {"rest", "zendesk"}
    assert "pw-in-vendor" not in json.dumps(listed)
    assert cx.writes() == []


async def test_list_read_again_follows_every_change_tenant_and_argument(cx: Session) -> None:
    """A list answer byte for byte the same as one read before is not parsed again, and the page made of it for the
    same arguments is made once (client.Listing): every change at CxEngage, another tenant with the same bytes and
    every argument still give their own answer."""
    emu, other = cx.cxengage, cx.cxengage.add_tenant()
    desk = emu.add_integration(T, "zendesk", "Desk", ZENDESK, description="Tickets")

    async def names(**arguments: Any) -> list[tuple[str, bool]]:
        listed = await cx.ok("GetCxEngageIntegrations", **arguments)
        return [(r["name"], r["active"]) for r in listed["results"]]

    assert await names() == await names() == [(REST_NAME, True), ("Desk", False)]
    assert await names(name="desk") == [("Desk", False)] and await names(type="rest") == [(REST_NAME, True)]
    assert await names(limit=1, page=2) == [("Desk", False)] and await names(limit=1) == [(REST_NAME, True)]
    emu.update_integration(T, desk, {"name": "Dusk"})  # an answer of the same length
    assert await names(limit=1, page=2) == [("Dusk", False)]
    emu.update_integration(T, desk, {"name": "sk_live_" + "a1B2c3D4e5F6g7H8i9J0kLmN", "active": True})
    assert await names(limit=1, page=2) == [("[redacted]", True)]
    emu.add_integration(T, "rest", "Later", {"endpointPrefix": "https://x.example.invalid/"})
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 3
    # The same bytes from two tenants: each answer is its own tenant's.
    same = json.dumps({"result": [{"id": REST_ID, "name": "Same", "type": "rest", "active": True}]}).encode()
    for tenant in (T, other, T):
        emu.faults.inject(path_prefix=collection_path(tenant), method="GET", status=200, body=same, times=1)
        assert (await cx.ok("GetCxEngageIntegrations", tenant_id=tenant))["tenant_id"] == tenant
    # A malformed row after answers that were kept is refused as before; the list reads again after it.
    bad = json.dumps({"result": [{"id": REST_ID, "name": "Same", "type": "rest", "active": "maybe"}]}).encode()
    emu.faults.inject(path_prefix=collection_path(T), method="GET", status=200, body=bad, times=3)
    assert (await cx.call("GetCxEngageIntegrations")).is_error
    emu.faults.clear()
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 3
    assert cx.writes() == []


def test_a_kept_page_gives_each_caller_its_own_dump() -> None:
    """What is made of a page kept on a listing (its JSON, text and dump) is made once; each dump is a copy with new
    containers, equal to pydantic's own, so a caller changing one changes no other answer."""
    from integrations_mcp.vendors.cxengage.models import IntegrationList, keep_page

    rows = [{"id": REST_ID, "name": f"Row {i}", "type": "rest", "active": bool(i % 2), "description": None}
            for i in range(3)]
    page = keep_page(IntegrationList.model_validate({"tenant_id": T, "count": 3, "results": rows}))
    plain = IntegrationList.model_validate(page.model_dump())  # not kept: pydantic's own, as before
    first = page.model_dump(mode="json", by_alias=True)
    assert first == plain.model_dump(mode="json", by_alias=True) and page.model_dump() == plain.model_dump()
    first["results"][0]["name"] = "changed"
    first["results"].append({})
    first["count"] = 0
    again = page.model_dump(mode="json", by_alias=True)
    assert again == plain.model_dump(mode="json", by_alias=True) and again["results"] is not first["results"]
    assert page.structured_json() is page.structured_json() == plain.__pydantic_serializer__.to_json(plain)
    assert page.answer() is page.answer() == plain.answer()


async def test_properties_read_again_are_shown_with_their_own_types_and_secrets(cx: Session) -> None:
    """Properties as shown are kept by their content (views._shown_properties): the same properties read again, or
    under another record, are shown the same; 1, 1.0 and true stay apart; a secret is redacted each time."""
    base = cx.cxengage.stored(T, REST_ID)

    async def shown(properties: str, record_id: str = REST_ID) -> tuple[dict[str, Any], str]:
        text = json.dumps({"result": {**base, "id": record_id, "properties": None}})
        body = text.replace('"properties": null', f'"properties": {properties}').encode()
        cx.cxengage.faults.inject(path_prefix=item_path(record_id), method="GET", status=200, body=body, times=1)
        result = await cx.call("GetCxEngageIntegration", integration_id=record_id)
        return result.structured_content["integration"]["properties"], result.content[0].text

    other = "00000000-0000-4000-8000-0000000000f1"
    for record_id in (REST_ID, other, REST_ID, other):
        properties, text = await shown('{"a": 1, "b": [true, null]}', record_id)
        assert properties == {"a": 1, "b": [True, None]} and '{"a":1,"b":[true,null]}' in text
    one, one_float, true = [await shown(p) for p in ('{"a": 1}', '{"a": 1.0}', '{"a": true}')]
    assert [type(x[0]["a"]) for x in (one, one_float, true)] == [int, float, bool]
    assert '{"a":1}' in one[1] and '{"a":1.0}' in one_float[1] and '{"a":true}' in true[1]
    for record_id in (REST_ID, other, REST_ID):
        properties, text = await shown('{"token": "abc-secret-1", "nested": {"apiKey": "abc-secret-2"}}', record_id)
        assert properties == {"token": "[redacted]", "nested": {"apiKey": "[redacted]"}}
        assert "abc-secret" not in text


async def test_get_redacts_the_secrets_the_vendor_echoes(cx: Session) -> None:
    assert cx.cxengage.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN  # the emulator does echo it
    result = await cx.call("GetCxEngageIntegration", integration_id=REST_ID)
    view = result.structured_content
    assert view["integration"]["properties"] == {"endpointPrefix": "https://orders.example.invalid/api/",
                                                 "password": "", "token": "[redacted]", "username": ""}
    assert view["readiness"] == {"missing_required": [], "secrets_set": ["token"], "secrets_missing": [],
                                 "can_activate": True, "blockers": []}
    assert REST_TOKEN not in result.model_dump_json()

    other = await cx.call("GetCxEngageIntegration", tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID,
                          integration_id=SANDBOX_VIEW_ONLY_INTEGRATION_ID)
    assert other.structured_content["integration"]["properties"]["password"] == "[redacted]"
    assert other.structured_content["integration"]["properties"]["username"] == "agent@example.invalid"
    assert VIEW_ONLY_PASSWORD not in other.model_dump_json()
    assert cx.writes() == []


async def test_readiness_names_missing_properties_and_secrets(cx: Session) -> None:
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", dict(ZENDESK))  # no password
    r = (await cx.ok("GetCxEngageIntegration", integration_id=desk))["readiness"]
    assert r["missing_required"] == ["password"] and r["secrets_missing"] == ["password"]
    assert r["can_activate"] is False and "CreateCxEngageSecureForm" in r["blockers"][0]

    items = cx.cxengage.add_integration(T, "zendesk", "Desk items", {**ZENDESK, "password": "x", "workItems": True})
    r = (await cx.ok("GetCxEngageIntegration", integration_id=items))["readiness"]
    assert r["missing_required"] == ["interactionFieldId"] and r["secrets_missing"] == []
    assert r["secrets_set"] == ["password"] and r["can_activate"] is False

    sf = cx.cxengage.add_integration(T, "salesforce", "CRM", {"username": "u", "consumerSecret": "sf-cs-in-vendor"})
    result = await cx.call("GetCxEngageIntegration", integration_id=sf)
    view = result.structured_content
    assert view["readiness"]["missing_required"] == ["password", "consumerKey", "securityToken"]
    assert view["readiness"]["secrets_missing"] == ["password", "securityToken"]
    assert view["readiness"]["secrets_set"] == ["consumerSecret"]
    assert view["integration"]["properties"]["consumerSecret"] == "[redacted]"
    assert view["integration"]["properties"]["password"] == ""  # empty is shown as empty, not as [redacted]
    assert "sf-cs-in-vendor" not in result.model_dump_json()
    assert cx.writes() == []


# --- types and properties -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, wire, fields", [
    ("Zendesk", "zendesk", ["password"]),
    ("REST API", "rest", ["password", "token"]),
    ("SALESFORCE", "salesforce", ["password", "consumerSecret", "securityToken"]),
    ("serenova-voice", "serenovaVoice", ["apiKey"]),
])
async def test_type_names_are_normalised(cx: Session, given: str, wire: str, fields: list[str]) -> None:
    form = await cx.ok("CreateCxEngageSecureForm", type=given)
    assert form["type"] == wire and form["fields"] == fields
    assert cx.store.lookup(cx.page_of(form["secure_form_id"])).form.purpose["type"] == wire
    assert cx.cxengage.requests == []


async def test_created_type_is_sent_in_its_wire_spelling(cx: Session) -> None:
    created = await cx.ok("CreateCxEngageIntegration", name="Orders", type="REST API",
                          properties={"endpointPrefix": "https://api.example.invalid/"})
    [post] = cx.writes()
    assert post.json()["type"] == "rest"
    assert cx.cxengage.stored(T, created["integration_id"])["type"] == "rest"


async def test_unknown_type_is_refused_with_the_valid_list(cx: Session) -> None:
    message = await cx.refused("CreateCxEngageIntegration", "unknown integration type 'jira'", "Nothing was sent",
                               name="Jira", type="jira")
    assert all(name in message for name in TYPES)
    await cx.refused("CreateCxEngageSecureForm", "unknown integration type", "zendesk", type="plivo")
    assert cx.cxengage.requests == [] and len(cx.store) == 0


async def test_unknown_property_is_refused_with_the_valid_names(cx: Session) -> None:
    await cx.refused("CreateCxEngageIntegration", "'endpoint' is not a property of type rest",
                     "Valid: endpointPrefix, username, password, token", "Nothing was sent",
                     name="Orders", type="rest", properties={"endpoint": "https://x.example.invalid"})
    await cx.refused("EditCxEngageIntegration", "'workItems' is not a property of type rest",
                     integration_id=REST_ID, properties={"workItems": True})
    assert cx.writes() == []


async def test_values_of_the_wrong_kind_are_refused(cx: Session) -> None:
    message = await cx.refused("CreateCxEngageIntegration", "workItems takes true or false",
                               "username takes a string", "Nothing was sent",
                               name="Desk", type="zendesk", properties={**ZENDESK, "workItems": "yes", "username": 5})
    assert "endpointPrefix" not in message.split("Nothing was sent")[-1]  # only what is wrong is listed
    await cx.refused("CreateCxEngageIntegration", "globalDialParams takes an object", "region must be one of",
                     "ie1", "configuration UI's rules", name="Phones", type="twilio", active=True,
                     properties={"accountSid": "AC1", "region": "mars", "globalDialParams": "loud"})
    assert cx.cxengage.requests == []


async def test_required_properties_are_checked_when_creating_it_active(cx: Session) -> None:
    form_id = await cx.form("salesforce", SALESFORCE_SECRETS)
    # The form names consumerKey 'ck-123' as where its secrets go: a create without it cannot use them.
    await cx.refused("CreateCxEngageIntegration", "for use with consumerKey 'ck-123'", "Nothing was sent",
                     name="CRM", type="salesforce", properties={"username": "sf@example.invalid"},
                     secure_form_id=form_id)
    await cx.refused("CreateCxEngageIntegration", "required properties without a value: consumerKey",
                     "configuration UI's rules", "Create it inactive", "Nothing was sent", name="CRM",
                     type="salesforce", active=True, properties={"username": "sf@example.invalid"})
    await cx.refused("CreateCxEngageIntegration", "secrets not set: password, consumerSecret, securityToken",
                     "CreateCxEngageSecureForm", name="CRM", type="salesforce", active=True,
                     properties=dict(SALESFORCE))
    assert cx.cxengage.requests == []
    assert cx.form_state(form_id) == (True, False)  # a refused create leaves the form as it was


async def test_an_inactive_integration_may_be_created_incomplete(cx: Session) -> None:
    """The documents' own example creates a Zendesk integration with empty properties; the UI's rules apply at
    activation. A Salesforce one with only username is allowed inactive too, and activating it is refused."""
    desk = await cx.ok("CreateCxEngageIntegration", name="Docs example", type="zendesk", properties={})
    assert desk["mismatches"] == [] and desk["verified"]["integration"]["active"] is False
    crm = await cx.ok("CreateCxEngageIntegration", name="CRM", type="salesforce",
                      properties={"username": "sf@example.invalid"})
    assert not crm["verified"]["readiness"]["can_activate"]
    await cx.refused("EditCxEngageIntegration", "cannot activate an incomplete integration",
                     "configuration UI's rules", integration_id=crm["integration_id"], active=True)


async def test_zendesk_work_items_need_the_interaction_field(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "interactionFieldId", "Nothing was sent", name="Desk",
                     type="zendesk", active=True, properties={**ZENDESK, "workItems": True}, secure_form_id=form_id)
    assert cx.writes() == []
    created = await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", secure_form_id=form_id,
                          properties={**ZENDESK, "workItems": True, "interactionFieldId": "360000000001"})
    assert created["verified"]["integration"]["properties"]["workItems"] is True
    assert created["mismatches"] == []


async def test_property_formats_are_checked_before_anything_is_sent(cx: Session) -> None:
    await cx.refused("CreateCxEngageIntegration", "extensionPrefix must be exactly 5 digits", name="Tw",
                     type="twilio", active=True,
                     properties={"accountSid": "AC1", "region": "us1", "extensionPrefix": "12"})
    assert cx.writes() == []
    # Inactive: the UI's formats wait for activation, which then refuses.
    tw = await cx.ok("CreateCxEngageIntegration", name="Tw", type="twilio",
                     properties={"accountSid": "AC1", "region": "us1", "extensionPrefix": "12"})
    await cx.refused("EditCxEngageIntegration", "extensionPrefix must be exactly 5 digits",
                     integration_id=tw["integration_id"], active=True)


# --- the secrets firewall -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tool, arguments, path", [
    ("CreateCxEngageIntegration", {"name": "D", "type": "zendesk", "properties": {**ZENDESK, "password": "hunter2"}},
     "properties.password"),
    ("CreateCxEngageIntegration", {"name": "S", "type": "salesforce",
                                   "properties": {**SALESFORCE, "consumerSecret": "hunter2"}},
     "properties.consumerSecret"),
    ("CreateCxEngageIntegration", {"name": "S", "type": "salesforce", "properties": {"consumer_secret": "hunter2"}},
     "properties.consumer_secret"),
    ("CreateCxEngageIntegration", {"name": "P", "type": "twilio",
                                   "properties": {"globalDialParams": {"auth": {"token": "hunter2"}}}},
     "properties.globalDialParams.auth.token"),
    ("EditCxEngageIntegration", {"integration_id": REST_ID, "properties": {"token": "hunter2"},
                                 "confirm_overwrite": True}, "properties.token"),
    ("EditCxEngageIntegration", {"integration_id": REST_ID, "description": "x", "apiSecret": "hunter2"},
     "apiSecret"),
    ("CreateCxEngageSecureForm", {"type": "rest", "password": "hunter2"}, "password"),
    ("GetCxEngageIntegrations", {"password": "hunter2"}, "password"),
])
async def test_secret_values_in_arguments_are_refused_at_any_depth(cx: Session, tool: str, arguments: dict[str, Any],
                                                                   path: str) -> None:
    message = await cx.refused(tool, "secret values in the arguments", path, "Nothing was sent",
                               "CreateCxEngageSecureForm", **arguments)
    assert "hunter2" not in message
    assert cx.cxengage.requests == [] and len(cx.store) == 0


async def test_empty_secret_properties_are_allowed(cx: Session) -> None:
    created = await cx.ok("CreateCxEngageIntegration", name="No auth", type="rest",
                          properties={"endpointPrefix": "https://a.example.invalid/", "password": "", "token": ""})
    [post] = cx.writes()
    assert post.json()["properties"] == {"endpointPrefix": "https://a.example.invalid/", "password": "", "token": ""}
    assert cx.cxengage.stored(T, created["integration_id"])["properties"]["token"] == ""


# --- what the tools know of the types, against the vendor's contract ------------------------------------------------

@pytest.mark.parametrize("type_name", sorted(INTEGRATION_TYPES))
async def test_the_catalog_matches_the_vendor_contract(type_name: str) -> None:
    spec, vendor = TYPES[type_name], INTEGRATION_TYPES[type_name]
    assert set(spec.names) == set(vendor)
    compatible = {"string": {"string"}, "boolean": {"boolean"}, "object": {"object"}, "port": {"any", "port"},
                  "boolstring": {"string"}}
    for prop in spec.properties:
        theirs = vendor[prop.name]
        assert prop.required == theirs.required, (type_name, prop.name, "required")
        assert prop.secret == theirs.secret, (type_name, prop.name, "secret")
        assert prop.kind in compatible[theirs.kind], (type_name, prop.name, prop.kind, theirs.kind)
    assert set(TYPES) == set(INTEGRATION_TYPES)
    assert spec.secrets  # every type has a secret, so a secure form always has a field
