"""CxEngage tools through a real MCP client session, against the CxEngage emulator over ASGI (a loopback HTTP
listener where a real socket matters: timeouts, the secure form page). Nothing the project owns is mocked; every
test says what reached the emulator (`emu.writes()`), or that nothing did."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr

from integrations_mcp.emulation import RecordedRequest
from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.secure_forms.scripted_person import fill_secure_form
from integrations_mcp.secure_forms.store import SecureFormStore
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.cxengage.catalog import TYPES
from integrations_mcp.vendors.cxengage.emulator import (
    INTEGRATION_TYPES,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    SANDBOX_VIEW_ONLY_INTEGRATION_ID,
    SANDBOX_VIEW_ONLY_TENANT_ID,
    CxEngageEmulator,
)
from integrations_mcp.vendors.cxengage.models import UUID_PATTERN
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from tests.conftest import text_of

pytestmark = pytest.mark.anyio

BASE_URL = "http://cxengage.test"
FORMS_URL = "http://forms.test"
T = SANDBOX_TENANT_ID
REST_ID = SANDBOX_INTEGRATION_ID  # fixture: rest, active, token "sandbox-fake-rest-token"
REST_TOKEN = "sandbox-fake-rest-token"
REST_NAME = "Sandbox order lookup (fake)"
VIEW_ONLY_PASSWORD = "sandbox-fake-zendesk-password"
UNKNOWN_ID = "5a4db0c5-0000-4000-8000-00000000ffff"
READ_TOOLS = {"GetCxEngageIntegrations", "GetCxEngageIntegration"}
WRITE_TOOLS = {"CreateCxEngageSecureForm", "CreateCxEngageIntegration", "EditCxEngageIntegration"}
ZENDESK = {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid"}
SALESFORCE = {"username": "sf@example.invalid", "consumerKey": "ck-123"}
SALESFORCE_SECRETS = {"password": "sf-pw-typed", "consumerSecret": "sf-cs-typed", "securityToken": "sf-st-typed"}


def cx_settings(*, secret: str = SANDBOX_API_SECRET, tenant_id: str | None = None, use_token: bool = False,
                base_url: str = BASE_URL, **overrides: Any) -> Settings:
    return Settings(vendors={"cxengage": CxEngageSettings(SecretStr(SANDBOX_API_KEY), SecretStr(secret), base_url,
                                              tenant_id=tenant_id, use_token=use_token)}, **overrides)


def item_path(integration_id: str, tenant_id: str = T) -> str:
    return f"/v1/tenants/{tenant_id}/integrations/{integration_id}"


def collection_path(tenant_id: str = T) -> str:
    return f"/v1/tenants/{tenant_id}/integrations"


@dataclass
class Cx:
    """One MCP client connection to a server wired to the emulator, plus what a person at the form would do."""

    client: Client
    server: IntegrationsServer
    emu: CxEngageEmulator
    pinned: bool = False

    @property
    def store(self) -> SecureFormStore:
        assert self.server.secure_forms is not None
        return self.server.secure_forms.store

    def _args(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return arguments if self.pinned or "tenant_id" in arguments else {"tenant_id": T, **arguments}

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.client.call_tool(tool, self._args(arguments))

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.call(tool, **arguments)
        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        return result.structured_content

    async def refused(self, tool: str, *needles: str, **arguments: Any) -> str:
        result = await self.call(tool, **arguments)
        message = text_of(result)
        assert result.is_error, f"{tool} was not refused: {message}"
        for needle in needles:
            assert needle in message, f"{needle!r} not in: {message}"
        return message

    def fill(self, form_id: str, values: dict[str, str]) -> None:
        """The person saves the form (what the page does, without a browser)."""
        self.store.submit(form_id, self.store.lookup(form_id).form.csrf_token, values)

    async def form(self, type: str, values: dict[str, str] | None = None, **arguments: Any) -> str:
        created = await self.ok("CreateCxEngageSecureForm", type=type, **arguments)
        if values is not None:
            self.fill(created["secure_form_id"], values)
        return created["secure_form_id"]

    def writes(self) -> list[RecordedRequest]:
        return self.emu.writes()

    def form_state(self, form_id: str) -> tuple[bool, bool]:
        view = self.store.lookup(form_id)
        return view.state.value == "completed", view.state.value == "used"


def make_server(emu: CxEngageEmulator, settings: Settings | None = None,
                forms: SecureFormServer | None = None) -> IntegrationsServer:
    """Over ASGI, unless the settings point at a real (loopback) listener."""
    settings = settings or cx_settings()
    over_http = "cxengage" in settings.vendors and settings.vendors["cxengage"].base_url != BASE_URL
    transports = None if over_http else {"cxengage": httpx2.ASGITransport(app=emu.app)}
    return build_server(settings, transports=transports, secure_forms=forms or SecureFormServer(base_url=FORMS_URL))


@asynccontextmanager
async def connect(emu: CxEngageEmulator, settings: Settings | None = None, *, server: IntegrationsServer | None = None,
                  forms: SecureFormServer | None = None) -> AsyncIterator[Cx]:
    settings = settings or cx_settings()
    server = server or make_server(emu, settings, forms)
    try:
        async with Client(server, raise_exceptions=True) as client:
            pinned = bool(settings.vendors.get("cxengage") and settings.vendors["cxengage"].tenant_id)
            yield Cx(client, server, emu, pinned=pinned)
    finally:
        assert server.secure_forms is not None
        server.secure_forms.close()


@pytest.fixture
def emu() -> CxEngageEmulator:
    return CxEngageEmulator()


@pytest.fixture
async def cx(emu: CxEngageEmulator) -> AsyncIterator[Cx]:
    async with connect(emu) as c:
        yield c


async def create_zendesk(cx: Cx, name: str = "Desk", password: str = "zd-typed-pw", **extra: Any) -> dict[str, Any]:
    form_id = await cx.form("zendesk", {"password": password})
    return await cx.ok("CreateCxEngageIntegration", name=name, type="zendesk", properties=dict(ZENDESK),
                       secure_form_id=form_id, **extra)


# --- the tool surface ------------------------------------------------------------------------------------------


async def test_five_tools_with_schemas_annotations_and_short_descriptions(cx: Cx) -> None:
    tools = {t.name: t for t in (await cx.client.list_tools()).tools}
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    for name, tool in tools.items():
        schema = tool.input_schema
        assert schema.get("additionalProperties") is False, name
        assert schema["properties"]["tenant_id"]["pattern"] == UUID_PATTERN, name
        assert "tenant_id" in schema["required"], name
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        assert 40 < len(tool.description or "") < 260, (name, len(tool.description or ""))
        assert "guide://cxengage/" in (tool.description or ""), name
        assert "\n" not in (tool.description or ""), name
        assert tool.annotations.read_only_hint is (name in READ_TOOLS), name
    for name in ("GetCxEngageIntegration", "EditCxEngageIntegration"):
        assert tools[name].input_schema["properties"]["integration_id"]["pattern"] == UUID_PATTERN
    assert tools["CreateCxEngageSecureForm"].annotations.open_world_hint is False  # served locally, no vendor
    assert tools["CreateCxEngageSecureForm"].annotations.destructive_hint is False
    assert tools["CreateCxEngageIntegration"].annotations.destructive_hint is False
    assert tools["CreateCxEngageIntegration"].annotations.idempotent_hint is False
    assert tools["EditCxEngageIntegration"].annotations.destructive_hint is True
    create_props = set(tools["CreateCxEngageIntegration"].input_schema["properties"])
    assert "secure_form_id" in create_props and not create_props & {"password", "secret", "token", "credentials"}
    edit_props = set(tools["EditCxEngageIntegration"].input_schema["properties"])
    assert {"confirm_overwrite", "confirm_deactivate", "dry_run", "secure_form_id"} <= edit_props
    assert {"verified", "mismatches", "sent", "changes"} <= set(tools["EditCxEngageIntegration"].output_schema[
        "properties"])
    assert "readiness" in tools["GetCxEngageIntegration"].output_schema["properties"]
    assert {"secure_form_id", "form_url", "expires_at", "fields"} <= set(
        tools["CreateCxEngageSecureForm"].output_schema["properties"])


async def test_ids_must_be_uuids_and_unknown_arguments_are_refused_before_anything_is_sent(cx: Cx) -> None:
    await cx.refused("GetCxEngageIntegrations", "tenant_id", tenant_id="acme")
    await cx.refused("GetCxEngageIntegration", "integration_id", integration_id="../../tokens")
    await cx.refused("EditCxEngageIntegration", "integration_id", integration_id="1234", description="x")
    await cx.refused("GetCxEngageIntegrations", "Unknown argument", "limit", limit=5)
    await cx.refused("CreateCxEngageIntegration", "Unknown argument", "enabled", name="X", type="rest",
                     enabled=True)
    assert cx.emu.requests == []


async def test_pinned_tenant_is_hidden_from_schemas_refused_as_an_argument_and_used(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID)) as cx:
        tools = (await cx.client.list_tools()).tools
        assert len(tools) == 5
        for tool in tools:
            assert "tenant_id" not in tool.input_schema["properties"], tool.name
            assert "tenant_id" not in tool.input_schema.get("required", []), tool.name
        # A caller cannot escape the pin, not even by naming the pinned tenant itself.
        for tenant in (T, SANDBOX_VIEW_ONLY_TENANT_ID):
            await cx.refused("GetCxEngageIntegrations", "Unknown argument", "tenant_id", tenant_id=tenant)
        await cx.refused("CreateCxEngageSecureForm", "Unknown argument", "tenant_id", tenant_id=T, type="rest")
        assert emu.requests == []
        listed = await cx.ok("GetCxEngageIntegrations")
        assert listed["tenant_id"] == SANDBOX_VIEW_ONLY_TENANT_ID
        assert [r["id"] for r in listed["results"]] == [SANDBOX_VIEW_ONLY_INTEGRATION_ID]
        await cx.ok("GetCxEngageIntegration", integration_id=SANDBOX_VIEW_ONLY_INTEGRATION_ID)
        assert {r.path for r in emu.requests} == {collection_path(SANDBOX_VIEW_ONLY_TENANT_ID),
                                                  item_path(SANDBOX_VIEW_ONLY_INTEGRATION_ID,
                                                            SANDBOX_VIEW_ONLY_TENANT_ID)}
        form = await cx.ok("CreateCxEngageSecureForm", type="zendesk")
        assert cx.store.lookup(form["secure_form_id"]).form.purpose["tenant"] == SANDBOX_VIEW_ONLY_TENANT_ID


async def test_read_only_serves_only_the_two_read_tools(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(read_only=True)) as cx:
        tools = (await cx.client.list_tools()).tools
        assert {t.name for t in tools} == READ_TOOLS
        assert all(t.annotations.read_only_hint for t in tools)
        for tool, args in (("CreateCxEngageSecureForm", {"type": "zendesk"}),
                           ("CreateCxEngageIntegration", {"name": "X", "type": "rest"}),
                           ("EditCxEngageIntegration", {"integration_id": REST_ID, "description": "x"})):
            assert (await cx.call(tool, **args)).is_error, tool
        assert len(cx.store) == 0
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1
    assert emu.writes() == []


# --- reads: redaction and readiness ------------------------------------------------------------------------------


async def test_list_shows_summaries_without_properties(cx: Cx) -> None:
    listed = await cx.ok("GetCxEngageIntegrations")
    assert listed == {"tenant_id": T, "count": 1, "results": [{
        "id": REST_ID, "name": REST_NAME, "type": "rest", "active": True,
        "description": "Fixture: a REST integration that already exists."}]}
    cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw-in-vendor"})
    listed = await cx.ok("GetCxEngageIntegrations")
    assert listed["count"] == 2 and {r["type"] for r in listed["results"]} == {"rest", "zendesk"}
    assert "pw-in-vendor" not in json.dumps(listed)
    assert cx.writes() == []


async def test_get_redacts_the_secrets_the_vendor_echoes(cx: Cx) -> None:
    assert cx.emu.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN  # the emulator does echo it
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


async def test_readiness_names_missing_properties_and_secrets(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", dict(ZENDESK))  # no password
    r = (await cx.ok("GetCxEngageIntegration", integration_id=desk))["readiness"]
    assert r["missing_required"] == ["password"] and r["secrets_missing"] == ["password"]
    assert r["can_activate"] is False and "CreateCxEngageSecureForm" in r["blockers"][0]

    items = cx.emu.add_integration(T, "zendesk", "Desk items", {**ZENDESK, "password": "x", "workItems": True})
    r = (await cx.ok("GetCxEngageIntegration", integration_id=items))["readiness"]
    assert r["missing_required"] == ["interactionFieldId"] and r["secrets_missing"] == []
    assert r["secrets_set"] == ["password"] and r["can_activate"] is False

    sf = cx.emu.add_integration(T, "salesforce", "CRM", {"username": "u", "consumerSecret": "sf-cs-in-vendor"})
    result = await cx.call("GetCxEngageIntegration", integration_id=sf)
    view = result.structured_content
    assert view["readiness"]["missing_required"] == ["password", "consumerKey", "securityToken"]
    assert view["readiness"]["secrets_missing"] == ["password", "securityToken"]
    assert view["readiness"]["secrets_set"] == ["consumerSecret"]
    assert view["integration"]["properties"]["consumerSecret"] == "[redacted]"
    assert view["integration"]["properties"]["password"] == ""  # empty is shown as empty, not as [redacted]
    assert "sf-cs-in-vendor" not in result.model_dump_json()
    assert cx.writes() == []


# --- types and properties ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("given, wire, fields", [
    ("Zendesk", "zendesk", ["password"]),
    ("REST API", "rest", ["password", "token"]),
    ("SALESFORCE", "salesforce", ["password", "consumerSecret", "securityToken"]),
    ("serenova-voice", "serenovaVoice", ["apiKey"]),
])
async def test_type_names_are_normalised(cx: Cx, given: str, wire: str, fields: list[str]) -> None:
    form = await cx.ok("CreateCxEngageSecureForm", type=given)
    assert form["type"] == wire and form["fields"] == fields
    assert cx.store.lookup(form["secure_form_id"]).form.purpose["type"] == wire
    assert cx.emu.requests == []


async def test_created_type_is_sent_in_its_wire_spelling(cx: Cx) -> None:
    created = await cx.ok("CreateCxEngageIntegration", name="Orders", type="REST API",
                          properties={"endpointPrefix": "https://api.example.invalid/"})
    [post] = cx.writes()
    assert post.json()["type"] == "rest"
    assert cx.emu.stored(T, created["integration_id"])["type"] == "rest"


async def test_unknown_type_is_refused_with_the_valid_list(cx: Cx) -> None:
    message = await cx.refused("CreateCxEngageIntegration", "unknown integration type 'jira'", "Nothing was sent",
                               name="Jira", type="jira")
    assert all(name in message for name in TYPES)
    await cx.refused("CreateCxEngageSecureForm", "unknown integration type", "zendesk", type="plivo")
    assert cx.emu.requests == [] and len(cx.store) == 0


async def test_unknown_property_is_refused_with_the_valid_names(cx: Cx) -> None:
    await cx.refused("CreateCxEngageIntegration", "'endpoint' is not a property of type rest",
                     "Valid: endpointPrefix, username, password, token", "Nothing was sent",
                     name="Orders", type="rest", properties={"endpoint": "https://x.example.invalid"})
    await cx.refused("EditCxEngageIntegration", "'workItems' is not a property of type rest",
                     integration_id=REST_ID, properties={"workItems": True})
    assert cx.writes() == []


async def test_values_of_the_wrong_kind_are_refused(cx: Cx) -> None:
    message = await cx.refused("CreateCxEngageIntegration", "workItems takes true or false",
                               "username takes a string", "Nothing was sent",
                               name="Desk", type="zendesk", properties={**ZENDESK, "workItems": "yes", "username": 5})
    assert "endpointPrefix" not in message.split("Nothing was sent")[-1]  # only what is wrong is listed
    await cx.refused("CreateCxEngageIntegration", "globalDialParams takes an object", "region must be one of",
                     "ie1", name="Phones", type="twilio",
                     properties={"accountSid": "AC1", "region": "mars", "globalDialParams": "loud"})
    assert cx.emu.requests == []


async def test_required_properties_are_checked_before_anything_is_sent(cx: Cx) -> None:
    form_id = await cx.form("salesforce", SALESFORCE_SECRETS)
    await cx.refused("CreateCxEngageIntegration", "required properties without a value: consumerKey",
                     "Nothing was sent", name="CRM", type="salesforce", properties={"username": "sf@example.invalid"},
                     secure_form_id=form_id)
    await cx.refused("CreateCxEngageIntegration", "secrets not set: password, consumerSecret, securityToken",
                     "CreateCxEngageSecureForm", name="CRM", type="salesforce", properties=dict(SALESFORCE))
    assert cx.emu.requests == []
    assert cx.form_state(form_id) == (True, False)  # a refused create leaves the form as it was


async def test_zendesk_work_items_need_the_interaction_field(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "interactionFieldId", "Nothing was sent", name="Desk",
                     type="zendesk", properties={**ZENDESK, "workItems": True}, secure_form_id=form_id)
    assert cx.writes() == []
    created = await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", secure_form_id=form_id,
                          properties={**ZENDESK, "workItems": True, "interactionFieldId": "360000000001"})
    assert created["verified"]["integration"]["properties"]["workItems"] is True
    assert created["mismatches"] == []


# --- the secrets firewall -----------------------------------------------------------------------------------------


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
async def test_secret_values_in_arguments_are_refused_at_any_depth(cx: Cx, tool: str, arguments: dict[str, Any],
                                                                   path: str) -> None:
    message = await cx.refused(tool, "secret values in the arguments", path, "Nothing was sent",
                               "CreateCxEngageSecureForm", **arguments)
    assert "hunter2" not in message
    assert cx.emu.requests == [] and len(cx.store) == 0


async def test_empty_secret_properties_are_allowed(cx: Cx) -> None:
    created = await cx.ok("CreateCxEngageIntegration", name="No auth", type="rest",
                          properties={"endpointPrefix": "https://a.example.invalid/", "password": "", "token": ""})
    [post] = cx.writes()
    assert post.json()["properties"] == {"endpointPrefix": "https://a.example.invalid/", "password": "", "token": ""}
    assert cx.emu.stored(T, created["integration_id"])["properties"]["token"] == ""


# --- the secure form ------------------------------------------------------------------------------------------------


async def test_a_form_asks_for_the_types_secrets(cx: Cx) -> None:
    before = int(time.time())
    form = await cx.ok("CreateCxEngageSecureForm", type="salesforce")
    assert form["fields"] == ["password", "consumerSecret", "securityToken"]
    assert form["form_url"] == f"{FORMS_URL}/secure-forms/{form['secure_form_id']}"
    assert before + 3590 <= form["expires_at"] <= before + 3610
    assert form["integration_id"] is None and "CreateCxEngageIntegration" in form["next_step"]
    stored = cx.store.lookup(form["secure_form_id"]).form
    assert [(f.id, f.label, f.required) for f in stored.fields] == [
        ("password", "Password", True), ("consumerSecret", "Consumer secret", True),
        ("securityToken", "Security token", True)]
    assert dict(stored.purpose) == {"vendor": "cxengage", "tenant": T, "type": "salesforce", "integration": ""}
    assert T in stored.subject and "Salesforce" in stored.subject

    subset = await cx.ok("CreateCxEngageSecureForm", type="salesforce", fields=["consumerSecret"])
    assert subset["fields"] == ["consumerSecret"]
    rest = await cx.ok("CreateCxEngageSecureForm", type="rest")  # neither REST secret is required
    assert [f.required for f in cx.store.lookup(rest["secure_form_id"]).form.fields] == [False, False]
    assert cx.emu.requests == []


async def test_a_form_for_an_existing_integration_checks_its_type(cx: Cx) -> None:
    form = await cx.ok("CreateCxEngageSecureForm", type="rest", integration_id=REST_ID, fields=["token"])
    assert form["integration_id"] == REST_ID and "EditCxEngageIntegration" in form["next_step"]
    stored = cx.store.lookup(form["secure_form_id"]).form
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
async def test_a_form_refuses_fields_that_are_not_the_types_secrets(cx: Cx, fields: list[str], needle: str) -> None:
    await cx.refused("CreateCxEngageSecureForm", needle, "Valid: password, consumerSecret, securityToken",
                     type="salesforce", fields=fields)
    assert len(cx.store) == 0


async def test_the_form_must_be_completed(cx: Cx) -> None:
    form_id = await cx.form("zendesk")
    await cx.refused("CreateCxEngageIntegration", "has not saved the secure form", "Nothing was sent",
                     name="Desk", type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
    await cx.refused("CreateCxEngageIntegration", "No secure form with this id", name="Desk", type="zendesk",
                     properties=dict(ZENDESK), secure_form_id="x" * 32)
    assert cx.emu.requests == []


async def test_an_expired_form_is_refused(emu: CxEngageEmulator) -> None:
    now = [1_900_000_000.0]
    forms = SecureFormServer(SecureFormStore(clock=lambda: now[0]), base_url=FORMS_URL)
    async with connect(emu, forms=forms) as cx:
        form_id = await cx.form("zendesk", {"password": "zd-pw"})
        now[0] += 3601
        await cx.refused("CreateCxEngageIntegration", "expired", "CreateCxEngageSecureForm", name="Desk",
                         type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
    assert emu.requests == []


async def test_a_form_is_bound_to_its_purpose(cx: Cx) -> None:
    zendesk_form = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "was made for type 'zendesk', not 'salesforce'",
                     "Nothing was sent", name="CRM", type="salesforce", properties=dict(SALESFORCE),
                     secure_form_id=zendesk_form)
    # A form made for creating cannot replace the secrets of an existing integration.
    desk = cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old"})
    await cx.refused("EditCxEngageIntegration", "was made for integration '(none)'", integration_id=desk,
                     secure_form_id=zendesk_form, confirm_overwrite=True)
    # A form for one integration cannot be used on another of the same type.
    other = cx.emu.add_integration(T, "zendesk", "Desk 2", {**ZENDESK, "password": "old"})
    edit_form = await cx.form("zendesk", {"password": "new"}, integration_id=desk)
    await cx.refused("EditCxEngageIntegration", f"was made for integration '{desk}'", integration_id=other,
                     secure_form_id=edit_form, confirm_overwrite=True)
    await cx.refused("CreateCxEngageIntegration", "was made for integration", name="Desk 3", type="zendesk",
                     properties=dict(ZENDESK), secure_form_id=edit_form)
    # Nor in another tenant.
    tenant2 = cx.emu.add_tenant()
    await cx.refused("CreateCxEngageIntegration", f"was made for tenant '{T}', not '{tenant2}'",
                     tenant_id=tenant2, name="Desk", type="zendesk", properties=dict(ZENDESK),
                     secure_form_id=zendesk_form)
    assert cx.writes() == []
    assert cx.form_state(zendesk_form) == (True, False) and cx.form_state(edit_form) == (True, False)
    assert cx.emu.stored(T, desk)["properties"]["password"] == "old"


async def test_a_form_made_in_one_connection_looks_unknown_to_another(emu: CxEngageEmulator) -> None:
    server = make_server(emu)
    try:
        async with Client(server) as first, Client(server) as second:
            a, b = Cx(first, server, emu), Cx(second, server, emu)
            form_id = await a.form("zendesk", {"password": "zd-pw"})
            arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
            await b.refused("CreateCxEngageIntegration", "No secure form with this id exists for this session",
                            **arguments)
            await b.refused("CreateCxEngageIntegration", "No secure form", **{**arguments, "dry_run": True})
            assert emu.writes() == [] and a.form_state(form_id) == (True, False)
            created = await a.ok("CreateCxEngageIntegration", **arguments)
            assert emu.stored(T, created["integration_id"])["properties"]["password"] == "zd-pw"
    finally:
        assert server.secure_forms is not None
        server.secure_forms.close()


async def test_a_form_is_used_once(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                secure_form_id=form_id)
    assert cx.form_state(form_id) == (False, True)
    for dry_run in (True, False):
        await cx.refused("CreateCxEngageIntegration", "already used", "CreateCxEngageSecureForm", name="Desk 2",
                         type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id, dry_run=dry_run)
    assert len(cx.writes()) == 1


async def test_a_dry_run_does_not_use_the_form(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    dry = await cx.call("CreateCxEngageIntegration", **arguments, dry_run=True)
    assert not dry.is_error, text_of(dry)
    assert dry.structured_content["sent"]["properties"]["password"] == "[redacted]"
    assert "zd-typed-pw" not in dry.model_dump_json()
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.emu.stored(T, created["integration_id"])["properties"]["password"] == "zd-typed-pw"


async def test_a_failed_vendor_write_keeps_the_typed_values(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    cx.emu.faults.inject(path_prefix=collection_path(), method="POST", status=400,
                         body=b'{"error": {"code": 400, "message": "Rejected"}}')
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "http_status=400", "Rejected",
                     **arguments)
    assert len(cx.writes()) == 1 and cx.emu.list_integrations(T)[-1]["name"] == REST_NAME  # nothing stored
    assert cx.form_state(form_id) == (True, False)  # restored: the person need not type it again
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.emu.stored(T, created["integration_id"])["properties"]["password"] == "zd-typed-pw"
    assert cx.form_state(form_id) == (False, True)


@pytest.mark.parametrize("status", [500, 503])
async def test_a_write_that_may_have_happened_spends_the_form(cx: Cx, status: int) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-typed-pw"})
    arguments = {"name": "Desk", "type": "zendesk", "properties": dict(ZENDESK), "secure_form_id": form_id}
    cx.emu.faults.inject(path_prefix=collection_path(), method="POST", status=status,
                         body=b'{"error": {"code": 500, "message": "Internal error"}}')
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", **arguments)
    assert cx.form_state(form_id) == (False, True)  # a form works once: it cannot create a second integration
    await cx.refused("CreateCxEngageIntegration", "already used", **arguments)
    assert len(cx.writes()) == 1


async def test_the_secret_reaches_the_vendor_only_from_the_form(cx: Cx) -> None:
    form_id = await cx.form("salesforce", SALESFORCE_SECRETS)
    result = await cx.call("CreateCxEngageIntegration", name="CRM", type="salesforce",
                           properties={**SALESFORCE, "pushEnabled": True}, secure_form_id=form_id)
    assert not result.is_error, text_of(result)
    created = result.structured_content
    [post] = cx.writes()
    assert post.json()["properties"] == {**SALESFORCE, "pushEnabled": True, **SALESFORCE_SECRETS}
    stored = cx.emu.stored(T, created["integration_id"])
    assert {k: stored["properties"][k] for k in SALESFORCE_SECRETS} == SALESFORCE_SECRETS
    shown = result.model_dump_json()
    assert not any(v in shown for v in SALESFORCE_SECRETS.values())
    assert created["sent"]["properties"]["consumerSecret"] == "[redacted]"
    assert created["verified"]["readiness"]["secrets_set"] == list(SALESFORCE_SECRETS)
    assert {c["field"]: c["proposed"] for c in created["changes"]}["properties.password"] == "set"


async def test_a_form_filled_over_http_on_the_loopback_page(emu: CxEngageEmulator) -> None:
    async with connect(emu, forms=SecureFormServer()) as cx:  # the server starts its own listener
        form = await cx.ok("CreateCxEngageSecureForm", type="zendesk")
        assert form["form_url"].startswith("http://127.0.0.1:")
        page = await fill_secure_form(form["form_url"], {"password": "typed-in-browser"})
        assert "typed-in-browser" not in page
        created = await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                              secure_form_id=form["secure_form_id"])
        assert emu.stored(T, created["integration_id"])["properties"]["password"] == "typed-in-browser"
        assert cx.server.secure_forms is not None and cx.server.secure_forms.listening
    assert cx.server.secure_forms is not None and not cx.server.secure_forms.listening


# --- create ---------------------------------------------------------------------------------------------------------


async def test_create_refuses_a_name_in_use_whatever_its_case(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "already exists", REST_ID, "Nothing was sent",
                     name="  sandbox ORDER lookup (FAKE) ", type="zendesk", properties=dict(ZENDESK),
                     secure_form_id=form_id)
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)


async def test_create_dry_run_writes_nothing_and_shows_the_body(cx: Cx) -> None:
    dry = await cx.ok("CreateCxEngageIntegration", name=" Orders ", type="rest", description="Order look-ups",
                      properties={"endpointPrefix": "https://api.example.invalid/"}, dry_run=True)
    assert dry["dry_run"] is True and dry["integration_id"] is None and dry["verified"] is None
    assert dry["sent"] == {"name": "Orders", "type": "rest", "active": False, "description": "Order look-ups",
                           "properties": {"endpointPrefix": "https://api.example.invalid/"}}
    assert {c["field"] for c in dry["changes"]} >= {"name", "type", "active", "properties.endpointPrefix"}
    assert cx.writes() == []
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1


async def test_create_reads_back_and_verifies(cx: Cx) -> None:
    created = await create_zendesk(cx, description="Tickets")
    [post] = cx.writes()
    assert post.path == collection_path()
    assert post.json() == {"name": "Desk", "type": "zendesk", "active": False, "description": "Tickets",
                           "properties": {**ZENDESK, "password": "zd-typed-pw"}}
    assert created["dry_run"] is False and created["mismatches"] == []
    record = created["verified"]["integration"]
    assert record["id"] == created["integration_id"] and record["name"] == "Desk" and record["active"] is False
    assert record["properties"]["password"] == "[redacted]"
    assert created["verified"]["readiness"]["can_activate"] is True
    assert "Activate it with EditCxEngageIntegration" in created["next_steps"][0]
    # The read-back really is a GET after the POST.
    assert [r.method for r in cx.emu.requests][-2:] == ["POST", "GET"]


async def test_create_active_only_when_complete(cx: Cx) -> None:
    await cx.refused("CreateCxEngageIntegration", "secrets not set: password", name="Desk", type="zendesk",
                     properties=dict(ZENDESK), active=True)
    assert cx.writes() == []
    created = await create_zendesk(cx, active=True)
    assert cx.writes()[0].json()["active"] is True
    assert created["verified"]["integration"]["active"] is True
    assert created["next_steps"] == ["Complete and active."]


# --- edit -----------------------------------------------------------------------------------------------------------


async def test_edit_sends_only_the_fields_that_change(cx: Cx) -> None:
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="New words",
                         name=REST_NAME, active=True)  # name and active equal what is saved
    [put] = cx.writes()
    assert put.method == "PUT" and put.path == item_path(REST_ID)
    assert put.json() == {"description": "New words"}
    assert result["mismatches"] == [] and result["verified"]["integration"]["description"] == "New words"
    assert [c["field"] for c in result["changes"]] == ["description"]


async def test_edit_sends_only_the_properties_that_change(cx: Cx) -> None:
    # Filling an empty property needs no confirmation; the saved secret does not travel again.
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"username": "svc"})
    [put] = cx.writes()
    assert put.json() == {"properties": {"username": "svc"}}
    assert result["mismatches"] == []
    assert REST_TOKEN not in json.dumps(result)
    assert cx.emu.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN  # the secret survived
    assert result["changes"] == [{"field": "properties.username", "saved": "", "proposed": "svc",
                                  "overwrites": False}]


async def test_empty_and_no_op_edits_are_refused(cx: Cx) -> None:
    await cx.refused("EditCxEngageIntegration", "nothing to change", integration_id=REST_ID)
    await cx.refused("EditCxEngageIntegration", "changes nothing", "Nothing was sent", integration_id=REST_ID,
                     name=REST_NAME, active=True,
                     properties={"endpointPrefix": "https://orders.example.invalid/api/", "username": ""})
    assert cx.writes() == []


async def test_overwriting_a_value_needs_confirmation_and_shows_the_diff(cx: Cx) -> None:
    new = "https://orders-v2.example.invalid/api/"
    message = await cx.refused("EditCxEngageIntegration", "confirm_overwrite",
                               f"properties.endpointPrefix: 'https://orders.example.invalid/api/' → '{new}'",
                               "Nothing was sent", integration_id=REST_ID, properties={"endpointPrefix": new})
    assert REST_TOKEN not in message
    assert cx.writes() == []
    dry = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"endpointPrefix": new},
                      dry_run=True)  # a dry run shows the diff without the confirmation
    assert dry["changes"][0]["overwrites"] is True and dry["sent"]["properties"] == {"endpointPrefix": new}
    assert cx.writes() == []
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"endpointPrefix": new},
                         confirm_overwrite=True)
    assert cx.writes()[0].json()["properties"]["endpointPrefix"] == new
    assert result["verified"]["integration"]["properties"]["endpointPrefix"] == new


async def test_clearing_a_secret_shows_no_value(cx: Cx) -> None:
    # An empty secret passes the firewall; the confirmation diff must still not show what was saved.
    refusal = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, properties={"token": ""})
    assert refusal.is_error and "confirm_overwrite" in text_of(refusal)
    assert "properties.token: 'set'" in text_of(refusal)
    assert REST_TOKEN not in refusal.model_dump_json()
    assert cx.writes() == []
    done = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, properties={"token": ""},
                         confirm_overwrite=True)
    assert not done.is_error, text_of(done)
    assert REST_TOKEN not in done.model_dump_json()
    assert cx.emu.stored(T, REST_ID)["properties"]["token"] == ""


async def test_deactivating_needs_confirmation(cx: Cx) -> None:
    await cx.refused("EditCxEngageIntegration", "confirm_deactivate", REST_NAME, "Nothing was sent",
                     integration_id=REST_ID, active=False)
    assert cx.writes() == []
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, active=False, confirm_deactivate=True)
    assert cx.writes()[0].json() == {"active": False}
    assert result["verified"]["integration"]["active"] is False


async def test_activating_an_incomplete_integration_is_refused(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", dict(ZENDESK))  # no password yet
    await cx.refused("EditCxEngageIntegration", "cannot activate an incomplete integration",
                     "secrets not set: password", integration_id=desk, active=True)
    assert cx.writes() == []
    # Filling the empty secret through a form needs no confirmation, and completes it in the same edit.
    form_id = await cx.form("zendesk", {"password": "first-pw"}, integration_id=desk)
    result = await cx.ok("EditCxEngageIntegration", integration_id=desk, active=True, secure_form_id=form_id)
    [put] = cx.writes()
    assert put.json() == {"active": True, "properties": {"password": "first-pw"}}
    assert result["verified"]["readiness"]["can_activate"] is True and result["mismatches"] == []
    assert cx.emu.stored(T, desk)["properties"]["password"] == "first-pw"


async def test_rename_must_stay_unique(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "x"})
    await cx.refused("EditCxEngageIntegration", "already exists", REST_ID, integration_id=desk,
                     name="SANDBOX order lookup (fake)")
    assert cx.writes() == []
    await cx.ok("EditCxEngageIntegration", integration_id=desk, name="DESK")  # its own name, other case
    await cx.ok("EditCxEngageIntegration", integration_id=desk, name="Helpdesk")
    assert [w.json() for w in cx.writes()] == [{"name": "DESK"}, {"name": "Helpdesk"}]


async def test_secret_rotation_through_a_form_for_the_integration(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old-pw"})
    form_id = await cx.form("zendesk", {"password": "new-pw"}, integration_id=desk)
    refusal = await cx.call("EditCxEngageIntegration", integration_id=desk, secure_form_id=form_id)
    assert refusal.is_error and "properties.password: 'set' → 'replaced'" in text_of(refusal)
    assert "confirm_overwrite" in text_of(refusal)
    assert "old-pw" not in refusal.model_dump_json() and "new-pw" not in refusal.model_dump_json()
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)

    done = await cx.call("EditCxEngageIntegration", integration_id=desk, secure_form_id=form_id,
                         confirm_overwrite=True)
    assert not done.is_error, text_of(done)
    [put] = cx.writes()
    assert put.json() == {"properties": {"password": "new-pw"}}
    assert cx.emu.stored(T, desk)["properties"]["password"] == "new-pw"
    result = done.structured_content
    assert result["changes"] == [{"field": "properties.password", "saved": "set", "proposed": "replaced",
                                  "overwrites": True}]
    assert result["mismatches"] == [] and result["sent"]["properties"]["password"] == "[redacted]"
    assert "old-pw" not in done.model_dump_json() and "new-pw" not in done.model_dump_json()
    assert cx.form_state(form_id) == (False, True)


async def test_a_write_the_vendor_ignores_is_flagged(cx: Cx) -> None:
    stale = json.dumps({"result": cx.emu.stored(T, REST_ID)}).encode()
    cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="PUT", status=200, body=stale)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="New words")
    assert len(cx.writes()) == 1
    assert result["mismatches"] == ["description: sent 'New words', read back "
                                    "'Fixture: a REST integration that already exists.'"]
    # A secret that did not stick is flagged without its value.
    form_id = await cx.form("rest", {"token": "rotated-token"}, integration_id=REST_ID, fields=["token"])
    cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="PUT", status=200, body=stale)
    ignored = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, secure_form_id=form_id,
                            confirm_overwrite=True)
    assert ignored.structured_content["mismatches"] == ["properties.token: the secret sent was not read back"]
    assert "rotated-token" not in ignored.model_dump_json() and REST_TOKEN not in ignored.model_dump_json()
    assert cx.emu.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN


# --- vendor errors ----------------------------------------------------------------------------------------------


async def test_a_wrong_api_secret_is_a_401(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(secret="wrong-secret-value")) as cx:
        message = await cx.refused("GetCxEngageIntegrations", "GetIntegrations failed", "http_status=401",
                                   "CXENGAGE_API_SECRET")
        assert "wrong-secret-value" not in message
        await cx.refused("CreateCxEngageIntegration", "http_status=401", name="Orders", type="rest")
    assert emu.writes() == []


async def test_a_view_only_tenant_refuses_writes_with_403(cx: Cx) -> None:
    before = cx.emu.stored(SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_VIEW_ONLY_INTEGRATION_ID)
    message = await cx.refused("EditCxEngageIntegration", "UpdateIntegration failed", "http_status=403",
                               "MANAGE_ALL_PROVIDERS", tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID,
                               integration_id=SANDBOX_VIEW_ONLY_INTEGRATION_ID, description="x")
    assert VIEW_ONLY_PASSWORD not in message
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "http_status=403",
                     tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID, name="Orders", type="rest")
    assert [w.method for w in cx.writes()] == ["PUT", "POST"]  # tried, refused by the vendor, nothing stored
    assert cx.emu.stored(SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_VIEW_ONLY_INTEGRATION_ID) == before
    assert len(cx.emu.list_integrations(SANDBOX_VIEW_ONLY_TENANT_ID)) == 1


async def test_an_unknown_integration_is_a_404(cx: Cx) -> None:
    await cx.refused("GetCxEngageIntegration", "GetIntegration failed", "http_status=404", UNKNOWN_ID,
                     "GetCxEngageIntegrations lists", integration_id=UNKNOWN_ID)
    await cx.refused("EditCxEngageIntegration", "http_status=404", integration_id=UNKNOWN_ID, description="x")
    assert cx.writes() == []


async def test_a_vendor_400_surfaces_with_its_code_and_message(cx: Cx) -> None:
    # A rule only the vendor knows: its answer reaches the model, and the form is kept (nothing was written).
    form_id = await cx.form("twilio", {"authToken": "tw-typed-token"})
    arguments = {"name": "Phones", "type": "twilio", "secure_form_id": form_id,
                 "properties": {"accountSid": "AC1", "region": "ie1"}}
    cx.emu.faults.inject(path_prefix=collection_path(), method="POST", status=400, body=json.dumps({"error": {
        "code": 400, "message": "Invalid", "attribute": {"properties.accountSid": "Must start with AC and 32 hex "
                                                         "characters (got tw-typed-token)"}}}).encode())
    message = await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "error_code=400",
                               "http_status=400", "properties.accountSid: Must start with AC", **arguments)
    assert "tw-typed-token" not in message
    assert len(cx.writes()) == 1 and cx.form_state(form_id) == (True, False)
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.emu.stored(T, created["integration_id"])["properties"]["authToken"] == "tw-typed-token"


async def test_the_vendors_own_duplicate_name_check_surfaces(cx: Cx) -> None:
    # Our check sees a stale (empty) list; the vendor's own uniqueness check answers 400.
    cx.emu.faults.inject(path_prefix=collection_path(), method="GET", status=200, body=b'{"result": []}')
    await cx.refused("CreateCxEngageIntegration", "http_status=400", "already exists", name=REST_NAME, type="rest",
                     properties={"endpointPrefix": ""})
    assert len(cx.writes()) == 1 and len(cx.emu.list_integrations(T)) == 1


@pytest.mark.parametrize("status, body, needles", [
    (200, b"<html>oops</html>", ("GetIntegrations failed", "not JSON")),
    (200, b'{"results": []}', ("GetIntegrations failed", "no result")),
    (200, b'{"result": [1, 2]}', ("GetIntegrations failed",)),
    (200, b'{"result": {"id": "x"}}', ("GetIntegrations failed",)),
    (502, b"<html>Bad gateway</html>", ("GetIntegrations failed", "http_status=502")),
    (500, b'{"error": ["first problem", "second problem"]}', ("http_status=500", "first problem; second problem")),
    (503, b'{"error": "maintenance"}', ("http_status=503", "maintenance")),
])
async def test_malformed_and_error_answers_become_tool_errors(cx: Cx, status: int, body: bytes,
                                                              needles: tuple[str, ...]) -> None:
    cx.emu.faults.inject(path_prefix=collection_path(), method="GET", status=status, body=body)
    await cx.refused("GetCxEngageIntegrations", *needles)
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1  # and the server is fine afterwards


async def test_a_malformed_record_becomes_a_tool_error(cx: Cx) -> None:
    for body in (b'{"result": ["not", "a", "record"]}', b'{"result": {"name": "no id"}}', b'{"result": null}'):
        cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=200, body=body)
        await cx.refused("GetCxEngageIntegration", "GetIntegration failed", integration_id=REST_ID)
    assert cx.writes() == []


async def test_a_malformed_create_answer_spends_the_form_and_says_it_may_exist(cx: Cx) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    cx.emu.faults.inject(path_prefix=collection_path(), method="POST", status=200, body=b'{"result": {"ok": 1}}')
    message = await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "not an integration",
                               "list the integrations", name="Desk", type="zendesk", properties=dict(ZENDESK),
                               secure_form_id=form_id)
    assert "zd-pw" not in message
    assert len(cx.writes()) == 1 and cx.form_state(form_id) == (False, True)  # it may exist: no second use


async def test_timeouts_become_tool_errors(emu: CxEngageEmulator) -> None:
    with serve_loopback(emu.app) as vendor:
        settings = cx_settings(base_url=vendor.url, timeout_seconds=0.25)
        async with connect(emu, settings) as cx:
            emu.faults.inject(path_prefix=collection_path(), method="GET", delay=0.6)
            started = time.monotonic()
            await cx.refused("GetCxEngageIntegrations", "GetIntegrations failed", "timed out", "Try again")
            assert time.monotonic() - started < 0.6
            desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old-pw"})
            form_id = await cx.form("zendesk", {"password": "new-pw"}, integration_id=desk)
            emu.faults.inject(path_prefix=item_path(desk), method="PUT", delay=0.6)
            message = await cx.refused("EditCxEngageIntegration", "UpdateIntegration failed", "timed out",
                                       "may or may not have happened", integration_id=desk,
                                       secure_form_id=form_id, confirm_overwrite=True)
            assert "new-pw" not in message and "old-pw" not in message
            assert cx.form_state(form_id) == (False, True)  # the write may have happened: a form works once
            assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 2


async def test_token_auth_mode(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(use_token=True)) as cx:
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1
        created = await create_zendesk(cx)
        await cx.ok("EditCxEngageIntegration", integration_id=created["integration_id"], description="x")
        token_requests = [r for r in emu.requests if r.path == "/v1/tokens"]
        assert len(token_requests) == 1  # one token, reused
        assert token_requests[0].json()["username"] == SANDBOX_API_KEY
        api = [r for r in emu.requests if r.path != "/v1/tokens"]
        assert api and all(r.headers["authorization"].startswith("Token ") for r in api)
        assert [w.method for w in emu.writes()] == ["POST", "PUT"]


async def test_token_auth_renews_a_token_the_vendor_no_longer_accepts(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(use_token=True)) as cx:
        await cx.ok("GetCxEngageIntegrations")
        emu.tokens.clear()  # revoked (or expired early) on the vendor's side
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1
        assert len([r for r in emu.requests if r.path == "/v1/tokens"]) == 2
        assert len(emu.tokens) == 1


async def test_token_auth_with_a_wrong_secret(emu: CxEngageEmulator) -> None:
    async with connect(emu, cx_settings(secret="wrong-secret-value", use_token=True)) as cx:
        message = await cx.refused("GetCxEngageIntegrations", "CreateToken failed", "http_status=401")
        assert "wrong-secret-value" not in message
    assert emu.writes() == [] and emu.tokens == {}


async def test_guides_named_by_the_tools_are_served(cx: Cx) -> None:
    import re

    uris = {str(r.uri) for r in (await cx.client.list_resources()).resources}
    tools = (await cx.client.list_tools()).tools
    named = {u for t in tools for u in re.findall(r"guide://[\w/-]+", t.description or "")}
    assert named and named <= uris, named - uris
    assert {f"guide://cxengage/{t.name}" for t in tools} <= uris
    assert "guide://common/guardrails" in uris and not any(u.startswith("guide://revcent/") for u in uris)


# --- what the tools know of the types, against the vendor's contract ---------------------------------------------


@pytest.mark.parametrize("type_name", sorted(INTEGRATION_TYPES))
async def test_the_catalog_matches_the_vendor_contract(type_name: str) -> None:
    spec, vendor = TYPES[type_name], INTEGRATION_TYPES[type_name]
    assert set(spec.names) == set(vendor)
    compatible = {"string": {"string"}, "boolean": {"boolean"}, "object": {"object"}, "port": {"any"},
                  "boolstring": {"string"}}
    for prop in spec.properties:
        theirs = vendor[prop.name]
        assert prop.required == theirs.required, (type_name, prop.name, "required")
        assert prop.secret == theirs.secret, (type_name, prop.name, "secret")
        assert prop.kind in compatible[theirs.kind], (type_name, prop.name, prop.kind, theirs.kind)
    assert set(TYPES) == set(INTEGRATION_TYPES)
    assert spec.secrets  # every type has a secret, so a secure form always has a field


async def test_turning_a_switch_on_needs_no_confirmation_but_turning_it_off_does(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw"})  # workItems defaults to false
    await cx.ok("EditCxEngageIntegration", integration_id=desk,
                properties={"workItems": True, "interactionFieldId": "360000001"})
    await cx.refused("EditCxEngageIntegration", "confirm_overwrite", "properties.workItems: True → False",
                     integration_id=desk, properties={"workItems": False})
    assert len(cx.writes()) == 1


async def test_an_active_integration_cannot_be_left_incomplete(cx: Cx) -> None:
    # Active without its password (set up elsewhere): an edit that leaves it so is refused until it is complete.
    desk = cx.emu.add_integration(T, "zendesk", "Desk", dict(ZENDESK), active=True)
    await cx.refused("EditCxEngageIntegration", "cannot leave active an incomplete integration", "password",
                     integration_id=desk, properties={"endpointPrefix": "https://desk2.example.invalid/api/v2/"},
                     confirm_overwrite=True)
    assert cx.writes() == []
    await cx.ok("EditCxEngageIntegration", integration_id=desk, description="New words")  # completeness unchanged


async def test_a_failed_read_back_does_not_hide_a_successful_write(cx: Cx) -> None:
    cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=503,
                         body=b'{"error":{"code":503,"message":"busy"}}', skip=1)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="Written")
    assert cx.emu.stored(T, REST_ID)["description"] == "Written"
    assert result["verified"] is None and result["integration_id"] == REST_ID
    assert "The write succeeded, but reading it back failed" in result["mismatches"][0]
    assert "GetCxEngageIntegration" in result["next_steps"][0]


async def test_a_name_differing_only_by_spaces_is_no_change(cx: Cx) -> None:
    await cx.refused("EditCxEngageIntegration", "changes nothing", integration_id=REST_ID, name=f"  {REST_NAME} ")
    assert cx.writes() == []


async def test_writes_report_progress(cx: Cx) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    result = await cx.client.call_tool("EditCxEngageIntegration", {"tenant_id": T, "integration_id": REST_ID,
                                                                   "description": "Progress"},
                                       progress_callback=on_progress)
    assert not result.is_error
    assert seen == [(1, 3), (2, 3), (3, 3)]


async def test_a_property_lost_by_the_write_is_flagged(cx: Cx) -> None:
    """If the vendor replaced `properties` wholesale, what the edit did not touch would vanish: the read-back says so,
    naming a lost secret without its value."""
    replaced = json.dumps({"result": {**cx.emu.stored(T, REST_ID), "properties": {"username": "svc"}}}).encode()
    cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=200, body=replaced, skip=1)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"username": "svc"})
    assert "properties.token: changed although this edit did not touch it" in result["mismatches"]
    assert ("properties.endpointPrefix: changed although this edit did not touch it "
            "(was 'https://orders.example.invalid/api/')") in result["mismatches"]
    assert REST_TOKEN not in json.dumps(result)


async def test_a_record_of_an_unexpected_shape_is_a_clear_tool_error(cx: Cx) -> None:
    odd = json.dumps({"result": {**cx.emu.stored(T, REST_ID), "name": None, "properties": "token=abc"}}).encode()
    cx.emu.faults.inject(path_prefix=item_path(REST_ID), method="GET", body=odd)
    message = await cx.refused("GetCxEngageIntegration", "GetIntegration failed", "cannot read (name)",
                               integration_id=REST_ID)
    assert "token=abc" not in message


async def test_an_edit_cannot_empty_a_required_property(cx: Cx) -> None:
    desk = cx.emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw"})  # inactive
    await cx.refused("EditCxEngageIntegration", "would leave required properties without a value: username",
                     integration_id=desk, properties={"username": ""}, confirm_overwrite=True)
    await cx.refused("EditCxEngageIntegration", "interactionFieldId", integration_id=desk,
                     properties={"workItems": True})
    assert cx.writes() == []


async def test_property_formats_are_checked_before_anything_is_sent(cx: Cx) -> None:
    await cx.refused("CreateCxEngageIntegration", "extensionPrefix must be exactly 5 digits", name="Tw",
                     type="twilio", properties={"accountSid": "AC1", "region": "us1", "extensionPrefix": "12"})
    assert cx.writes() == []
