"""The CxEngage emulator against the researched /v1 contract (vendor-apis.md Part B + seed), over ASGI and loopback."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.vendors.cxengage.emulator import (
    INTEGRATION_TYPES,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    SANDBOX_USER_ID,
    SANDBOX_VIEW_ONLY_INTEGRATION_ID,
    SANDBOX_VIEW_ONLY_TENANT_ID,
    SECRET_PROPERTIES,
    Contract,
    CxEngageEmulator,
    contract,
)
from tests.harness import CLOCK_START as START
from tests.harness import FakeClock

pytestmark = pytest.mark.anyio

BASE = "http://cxengage.test"
START_STAMP = "2027-01-15T08:00:00Z"
STAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
COLLECTION = f"/v1/tenants/{SANDBOX_TENANT_ID}/integrations"
# Key order of the docs' verbatim create answer (Example_Create_Zendesk_integration.htm).
WIRE_KEYS = ["tenantId", "description", "properties", "createdBy", "updated", "name", "type", "created",
             "updatedBy", "active", "id"]


def basic(key: str = SANDBOX_API_KEY, secret: str = SANDBOX_API_SECRET) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


BASIC = basic()

# A valid properties object per type: every required property, and a distinct value under each secret.
SAMPLES: dict[str, dict[str, Any]] = {
    "rest": {"endpointPrefix": "https://api.example.invalid/", "username": "svc", "password": "fake-rest-pw",
             "token": "fake-rest-token"},
    "salesforce": {"username": "sf@example.invalid", "password": "fake-sf-pw", "consumerKey": "ck",
                   "consumerSecret": "fake-sf-consumer-secret", "securityToken": "fake-sf-security-token",
                   "loginUrl": "https://login.example.invalid", "pushEnabled": True},
    "zendesk": {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid",
                "password": "fake-zd-pw", "workItems": True, "interactionFieldId": "360000000001"},
    "twilio": {"accountSid": "ACfake", "authToken": "fake-twilio-auth-token", "region": "ie1", "forceRegion": False,
               "webRtc": True, "extensionPrefix": "12345", "globalDialParams": {"timeout": 30}},
    "email": {"incomingType": "imap", "imapServer": "imap.example.invalid", "smtpHost": "smtp.example.invalid",
              "smtpPort": 587, "smtpEncryptionType": "starttls", "smtpUser": "mailer",
              "smtpPassword": "fake-smtp-pw"},
    "calabrio": {"username": "cal", "password": "fake-calabrio-pw", "ctiEnabled": True,
                 "ctiEndpoint": "https://cti.example.invalid", "rtaEnabled": False, "rtaUrl": ""},
    "monet": {"monetUrl": "https://monet.example.invalid", "username": "mo", "password": "fake-monet-pw",
              "usernameAsAgentId": "true"},
    "client": {"accessKey": "fake-client-access-key", "secretKey": "fake-client-secret-key"},
    "lambda": {"accessKey": "fake-lambda-access-key", "secretKey": "fake-lambda-secret-key"},
    "serenovaVoice": {"accountSid": "ACvoice", "apiKey": "fake-voice-api-key"},
    "teleopti": {"protocol": "ftp", "ftpUrl": "ftp.example.invalid", "ftpUsername": "t", "ftpPassword": "fake-ftp-pw",
                 "authKey": "fake-teleopti-auth-key", "teleoptiUrl": "https://wfm.example.invalid",
                 "platformTypeId": "p1", "sourceId": "s1", "multipleTenants": False},
    "verint": {"sftpPort": "22", "sftpHost": "sftp.example.invalid", "sftpUsername": "v",
               "sftpPassword": "fake-sftp-pw", "orgName": "org", "multipleTenants": True, "dataSourceName": "ds",
               "scorecardsEnabled": True, "historicalEnabled": False},
    "birst": {"birstBaseUrl": "https://birst.example.invalid", "birstAdminUsername": "admin",
              "birstAdminPassword": "fake-birst-admin-pw", "birstDashboardVersion": "7", "birstSpaceId": "space",
              "birstSsoPassword": "fake-birst-sso-pw"},
}



@pytest.fixture
def emu(clock: FakeClock) -> CxEngageEmulator:
    # Most tests here check the UI's rules as an API could enforce them; the default (never) is tested below.
    return CxEngageEmulator(api_key=SANDBOX_API_KEY, api_secret=SANDBOX_API_SECRET, clock=clock,
                            contract=Contract(ui_rules="always"))


def client(emu: CxEngageEmulator, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE, headers=headers)


@pytest.fixture
async def http(emu: CxEngageEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client(emu, BASIC) as c:
        yield c


@pytest.fixture
async def anon(emu: CxEngageEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client(emu) as c:
        yield c


def assert_error(response: httpx2.Response, status: int, *attribute: str) -> dict[str, Any]:
    """The config-ui error shape; with `attribute`, exactly those fields are named."""
    data = response.json()
    assert response.status_code == status, data
    assert set(data) == {"error"}, data
    error = data["error"]
    assert error["code"] == status and isinstance(error["message"], str) and error["message"], data
    if attribute:
        assert set(error["attribute"]) == set(attribute), data
        assert all(isinstance(v, str) and v for v in error["attribute"].values())
    return error


def result(response: httpx2.Response, status: int = 200) -> Any:
    data = response.json()
    assert response.status_code == status, data
    assert set(data) == {"result"}, data
    return data["result"]


async def create(http: httpx2.AsyncClient, kind: str = "zendesk", name: str = "Helpdesk", *,
                 tenant: str = SANDBOX_TENANT_ID, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "type": kind, "properties": dict(SAMPLES[kind]), **extra}
    return result(await http.post(f"/v1/tenants/{tenant}/integrations", json=body))


def stored_ids(emu: CxEngageEmulator, tenant: str = SANDBOX_TENANT_ID) -> set[str]:
    return set(emu.integrations[tenant])


# --- fixtures ------------------------------------------------------------------------------------------------------

def test_fixtures_are_fake_uuids_and_exported(emu: CxEngageEmulator) -> None:
    ids = [SANDBOX_TENANT_ID, SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_USER_ID, SANDBOX_INTEGRATION_ID,
           SANDBOX_VIEW_ONLY_INTEGRATION_ID]
    assert all(str(uuid.UUID(i)) == i and i.startswith("5a4db0c5-") for i in ids)
    assert set(emu.tenants) == {SANDBOX_TENANT_ID, SANDBOX_VIEW_ONLY_TENANT_ID}
    fixture = emu.stored(SANDBOX_TENANT_ID, SANDBOX_INTEGRATION_ID)
    assert fixture["type"] == "rest" and "(fake)" in fixture["name"]
    assert fixture["properties"]["endpointPrefix"].endswith(".invalid/api/")
    assert CxEngageEmulator(fixtures=False).tenants == {}
    assert {"password", "token", "consumerSecret", "securityToken", "authToken", "smtpPassword", "secretKey",
            "apiKey", "accessKey", "ftpPassword", "sftpPassword", "birstAdminPassword", "birstSsoPassword",
            "authKey"} == SECRET_PROPERTIES
    assert sorted(INTEGRATION_TYPES) == sorted(SAMPLES)


# --- authentication ------------------------------------------------------------------------------------------------

async def test_basic_auth_with_key_and_secret(emu: CxEngageEmulator, anon: httpx2.AsyncClient) -> None:
    ok = result(await anon.get(COLLECTION, headers=BASIC))
    assert [r["id"] for r in ok] == [SANDBOX_INTEGRATION_ID]
    for headers in ({}, basic(secret="wrong"), basic(key="wrong"), {"authorization": "Basic !!notbase64"},
                    {"authorization": "Basic " + base64.b64encode(SANDBOX_API_KEY.encode()).decode()},
                    {"authorization": f"Bearer {SANDBOX_API_SECRET}"}, {"authorization": "Token "},
                    {"authorization": "Token not-a-token"}):
        assert_error(await anon.get(COLLECTION, headers=headers), 401)
    # Authentication comes before routing: unknown paths and bad bodies are 401 too, and nothing is written.
    assert_error(await anon.get("/v1/no/such/thing"), 401)
    assert_error(await anon.post(COLLECTION, json={"name": "x", "type": "rest", "properties": {}}), 401)
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


async def test_a_custom_key_pair_is_the_only_one_accepted(clock: FakeClock) -> None:
    emu = CxEngageEmulator(api_key="other-key", api_secret="other-secret", clock=clock)
    async with client(emu) as c:
        assert_error(await c.get(COLLECTION, headers=BASIC), 401)
        assert result(await c.get(COLLECTION, headers=basic("other-key", "other-secret")))


async def test_token_flow_with_body_credentials(emu: CxEngageEmulator, anon: httpx2.AsyncClient) -> None:
    response = await anon.post("/v1/tokens", json={"username": SANDBOX_API_KEY, "password": SANDBOX_API_SECRET,
                                                   "ttl": 600})
    assert response.status_code == 200
    token = response.json()["token"]
    assert set(response.json()) == {"token"} and isinstance(token, str) and len(token) >= 20
    headers = {"authorization": f"Token {token}"}
    assert result(await anon.get(COLLECTION, headers=headers))
    created = result(await anon.post(COLLECTION, headers=headers, json={"name": "T", "type": "rest",
                                                                        "properties": {}}))
    assert created["createdBy"] == SANDBOX_USER_ID
    # The token is a Token, not a Bearer token.
    assert_error(await anon.get(COLLECTION, headers={"authorization": f"Bearer {token}"}), 401)


async def test_token_request_credentials(anon: httpx2.AsyncClient) -> None:
    # Basic alone is enough (what the MCP client sends alongside the body).
    basic_only = await anon.post("/v1/tokens", headers=BASIC, json={"ttl": 60})
    assert basic_only.status_code == 200 and basic_only.json()["token"]
    # Body credentials, when sent, must be right even if the Basic header is.
    assert_error(await anon.post("/v1/tokens", headers=BASIC, json={"username": SANDBOX_API_KEY,
                                                                    "password": "wrong"}), 401)
    assert_error(await anon.post("/v1/tokens", json={"username": SANDBOX_API_KEY}), 401)
    assert_error(await anon.post("/v1/tokens", json={"ttl": 60}), 401)
    assert_error(await anon.post("/v1/tokens"), 401)
    token = basic_only.json()["token"]
    assert_error(await anon.post("/v1/tokens", headers={"authorization": f"Token {token}"}, json={}), 401)
    for ttl in (0, -5, "60", 1.5, True, contract.MAX_TOKEN_TTL + 1):
        assert_error(await anon.post("/v1/tokens", headers=BASIC, json={"ttl": ttl}), 400, "ttl")


async def test_tokens_expire_after_their_ttl(emu: CxEngageEmulator, anon: httpx2.AsyncClient, clock: FakeClock) -> None:
    token = (await anon.post("/v1/tokens", json={"username": SANDBOX_API_KEY, "password": SANDBOX_API_SECRET,
                                                 "ttl": 60})).json()["token"]
    default = (await anon.post("/v1/tokens", headers=BASIC)).json()["token"]
    headers = {"authorization": f"Token {token}"}
    clock.now += 59
    assert result(await anon.get(COLLECTION, headers=headers))
    clock.now += 1
    error = assert_error(await anon.get(COLLECTION, headers=headers), 401)
    assert "expired" in error["message"]
    assert token not in emu.tokens
    assert_error(await anon.get(COLLECTION, headers=headers), 401)
    # Without a ttl the token lives DEFAULT_TOKEN_TTL seconds; Basic keeps working regardless.
    assert result(await anon.get(COLLECTION, headers={"authorization": f"Token {default}"}))
    clock.now = START + contract.DEFAULT_TOKEN_TTL
    assert_error(await anon.get(COLLECTION, headers={"authorization": f"Token {default}"}), 401)
    assert result(await anon.get(COLLECTION, headers=BASIC))


async def test_tenants_the_key_may_not_use_are_403(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    stranger = str(uuid.uuid4())
    body = {"name": "x", "type": "rest", "properties": {}}
    assert_error(await http.get(f"/v1/tenants/{stranger}/integrations"), 403)
    assert_error(await http.post(f"/v1/tenants/{stranger}/integrations", json=body), 403)
    assert_error(await http.get(f"/v1/tenants/{stranger}/integrations/{SANDBOX_INTEGRATION_ID}"), 403)
    # A tenant that exists but where the key has no role at all.
    locked = emu.add_tenant(access="none")
    assert_error(await http.get(f"/v1/tenants/{locked}/integrations"), 403)
    # Read-only: GET works, writes need MANAGE_ALL_PROVIDERS (checked before the body).
    view_only = f"/v1/tenants/{SANDBOX_VIEW_ONLY_TENANT_ID}/integrations"
    rows = result(await http.get(view_only))
    assert [r["id"] for r in rows] == [SANDBOX_VIEW_ONLY_INTEGRATION_ID]
    assert result(await http.get(f"{view_only}/{SANDBOX_VIEW_ONLY_INTEGRATION_ID}"))["type"] == "zendesk"
    denied = assert_error(await http.post(view_only, json=body), 403)
    assert "MANAGE_ALL_PROVIDERS" in denied["message"]
    assert_error(await http.post(view_only, json={"bad": "body"}), 403)
    assert_error(await http.put(f"{view_only}/{SANDBOX_VIEW_ONLY_INTEGRATION_ID}", json={"active": True}), 403)
    assert emu.stored(SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_VIEW_ONLY_INTEGRATION_ID)["active"] is False
    assert set(emu.integrations[SANDBOX_VIEW_ONLY_TENANT_ID]) == {SANDBOX_VIEW_ONLY_INTEGRATION_ID}


# --- create --------------------------------------------------------------------------------------------------------

async def test_create_returns_200_and_the_documented_shape(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    sent = {"name": "Helpdesk", "type": "zendesk", "properties": {
        "endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid",
        "password": "fake-zd-pw"}}
    response = await http.post(COLLECTION, json=sent)
    assert response.status_code == 200  # not 201: the SDK treats anything but 200 as a failed create
    assert response.headers["content-type"].startswith("application/json")
    record = result(response)
    assert list(record) == WIRE_KEYS
    assert str(uuid.UUID(record["id"])) == record["id"]
    assert record["tenantId"] == SANDBOX_TENANT_ID
    assert record["created"] == record["updated"] == START_STAMP and STAMP_RE.fullmatch(record["created"])
    assert record["createdBy"] == record["updatedBy"] == SANDBOX_USER_ID
    assert record["active"] is False and record["description"] is None
    assert record["name"] == "Helpdesk" and record["type"] == "zendesk"
    # Missing properties are filled with the UI's initialProperties; the secret comes back as stored.
    assert record["properties"] == {**sent["properties"], "interactionFieldId": "", "workItems": False}
    assert record["properties"]["password"] == "fake-zd-pw"
    assert emu.stored(SANDBOX_TENANT_ID, record["id"]) == record
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID, record["id"]}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
async def test_every_documented_type_is_created_with_secrets_echoed(http: httpx2.AsyncClient, kind: str) -> None:
    record = await create(http, kind, f"{kind} one", active=True, description="made by a test")
    assert record["type"] == kind and record["active"] is True and record["description"] == "made by a test"
    secrets = {k: v for k, v in SAMPLES[kind].items() if k in SECRET_PROPERTIES}
    assert secrets and all(record["properties"][k] == v for k, v in secrets.items())
    got = result(await http.get(f"{COLLECTION}/{record['id']}"))
    assert got == record  # GET echoes the secrets as well


async def test_defaults_for_rest_and_salesforce(http: httpx2.AsyncClient) -> None:
    rest = result(await http.post(COLLECTION, json={"name": "Bare REST", "type": "rest", "properties": {}}))
    assert rest["properties"] == {"endpointPrefix": "", "password": "", "token": "", "username": ""}
    sf = await create(http, "salesforce", "SF")
    assert sf["properties"] == SAMPLES["salesforce"]
    twilio = await create(http, "twilio", "Voice")
    assert twilio["properties"] == SAMPLES["twilio"]  # no documented defaults: stored as sent


async def test_flag_stored_as_a_string_and_ports_as_sent(http: httpx2.AsyncClient) -> None:
    monet = result(await http.post(COLLECTION, json={"name": "Monet", "type": "monet", "properties": {
        **SAMPLES["monet"], "usernameAsAgentId": False}}))
    assert monet["properties"]["usernameAsAgentId"] == "false"
    email = await create(http, "email", "Mail")
    assert email["properties"]["smtpPort"] == 587


async def test_the_docs_wrapped_body_and_trailing_slash_are_accepted(emu: CxEngageEmulator,
                                                                     http: httpx2.AsyncClient) -> None:
    body = {"attribute": {"name": "Wrapped", "type": "rest", "properties": {}, "active": True}}
    record = result(await http.post(COLLECTION + "/", json=body))
    assert record["name"] == "Wrapped" and record["active"] is True
    assert result(await http.get(f"{COLLECTION}/{record['id']}/"))["id"] == record["id"]
    assert emu.requests[0].path == COLLECTION + "/"  # recorded as sent


# --- type names ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sent, stored", [("Zendesk", "zendesk"), ("ZENDESK", "zendesk"), ("zendesk", "zendesk"),
                                          ("SerenovaVoice", "serenovaVoice"), ("serenovavoice", "serenovaVoice")])
async def test_type_names_are_normalised_to_the_wire_spelling(http: httpx2.AsyncClient, sent: str,
                                                              stored: str) -> None:
    body = {"name": "Typed", "type": sent, "properties": SAMPLES[stored]}
    assert result(await http.post(COLLECTION, json=body))["type"] == stored


@pytest.mark.parametrize("kind", ["REST APIs", "plivo", "", "zen desk", 7, None])
async def test_unknown_types_are_refused(emu: CxEngageEmulator, http: httpx2.AsyncClient, kind: Any) -> None:
    error = assert_error(await http.post(COLLECTION, json={"name": "X", "type": kind, "properties": {}}), 400, "type")
    assert "rest" in error["attribute"]["type"] and "serenovaVoice" in error["attribute"]["type"]
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


async def test_type_case_normalisation_is_switchable(http: httpx2.AsyncClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contract, "NORMALISE_TYPE_CASE", False)
    assert_error(await http.post(COLLECTION, json={"name": "X", "type": "Rest", "properties": {}}), 400, "type")
    assert result(await http.post(COLLECTION, json={"name": "X", "type": "rest", "properties": {}}))


# --- validation ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, fields", [
    ({}, {"name", "type", "properties"}),
    ({"name": "", "type": "rest", "properties": {}}, {"name"}),
    ({"name": "   ", "type": "rest", "properties": {}}, {"name"}),
    ({"name": 5, "type": "rest", "properties": {}}, {"name"}),
    ({"type": "rest", "properties": {}}, {"name"}),
    ({"name": "X", "properties": {}}, {"type"}),
    ({"name": "X", "type": "rest"}, {"properties"}),
    ({"name": "X", "type": "rest", "properties": []}, {"properties"}),
    ({"name": "X", "type": "rest", "properties": {}, "active": "yes"}, {"active"}),  # "true"/"false" only (seed)
    ({"name": "X", "type": "rest", "properties": {}, "description": 3}, {"description"}),
    ({"name": "X", "type": "rest", "properties": {}, "id": str(uuid.uuid4())}, {"id"}),
    ({"name": "X", "type": "rest", "properties": {"endpointPrefix": 1, "token": None}},
     {"properties.endpointPrefix", "properties.token"}),
    ({"name": "X", "type": "zendesk", "properties": {**SAMPLES["zendesk"], "workItems": "false"}},
     {"properties.workItems"}),
    ({"name": "X", "type": "salesforce", "properties": {**SAMPLES["salesforce"], "pushEnabled": "yes"}},
     {"properties.pushEnabled"}),
    ({"name": "X", "type": "email", "properties": {**SAMPLES["email"], "smtpPort": "abc"}}, {"properties.smtpPort"}),
    ({"name": "X", "type": "email", "properties": {**SAMPLES["email"], "smtpPort": 70000}}, {"properties.smtpPort"}),
    ({"name": "X", "type": "twilio", "properties": {**SAMPLES["twilio"], "globalDialParams": "x"}},
     {"properties.globalDialParams"}),
    ({"name": "X", "type": "monet", "properties": {**SAMPLES["monet"], "usernameAsAgentId": "yes"}},
     {"properties.usernameAsAgentId"}),
    ([{"name": "X"}], {"body"}),
    ("just a string", {"body"}),
])
async def test_validation_errors_name_every_field(emu: CxEngageEmulator, http: httpx2.AsyncClient, body: Any,
                                                  fields: set[str]) -> None:
    error = assert_error(await http.post(COLLECTION, json=body), 400, *fields)
    assert error["message"] == contract.MSG_INVALID
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID} and emu.writes()


async def test_invalid_json_is_a_400(http: httpx2.AsyncClient) -> None:
    response = await http.post(COLLECTION, content=b'{"name": ', headers={"content-type": "application/json"})
    assert_error(response, 400, "body")


async def test_unknown_properties_are_refused(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    # authType is a UI-only field; tokens do not belong on a Salesforce integration.
    error = assert_error(await http.post(COLLECTION, json={"name": "X", "type": "rest", "properties": {
        "authType": "token", "token": "t"}}), 400, "properties.authType")
    assert "endpointPrefix" in error["attribute"]["properties.authType"]
    assert_error(await http.post(COLLECTION, json={"name": "X", "type": "salesforce", "properties": {
        **SAMPLES["salesforce"], "token": "t"}}), 400, "properties.token")
    assert_error(await http.post(COLLECTION, json={"name": "X", "type": "zendesk", "properties": {
        **SAMPLES["zendesk"], "endpoint_prefix": "snake"}}), 400, "properties.endpoint_prefix")
    path = f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}"
    assert_error(await http.put(path, json={"properties": {"consumerKey": "x"}}), 400, "properties.consumerKey")
    assert "consumerKey" not in emu.stored(SANDBOX_TENANT_ID, SANDBOX_INTEGRATION_ID)["properties"]
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


REQUIRED = {kind: {k for k, p in props.items() if p.required} for kind, props in INTEGRATION_TYPES.items()}


@pytest.mark.parametrize("kind", sorted(k for k, req in REQUIRED.items() if req))
async def test_required_properties_per_type(emu: CxEngageEmulator, http: httpx2.AsyncClient, kind: str) -> None:
    error = assert_error(await http.post(COLLECTION, json={"name": "X", "type": kind, "properties": {}}), 400,
                         *{f"properties.{k}" for k in REQUIRED[kind]})
    assert all(kind in msg for msg in error["attribute"].values())
    blank = {**SAMPLES[kind], **dict.fromkeys(sorted(REQUIRED[kind])[:1], " ")}
    assert_error(await http.post(COLLECTION, json={"name": "X", "type": kind, "properties": blank}), 400,
                 f"properties.{sorted(REQUIRED[kind])[0]}")
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


def test_the_required_table_matches_the_research() -> None:
    assert {
        "rest": set(), "teleopti": {"protocol"},  # config-ui Types/*.js: the `*` labels
        "verint": {"sftpPort", "sftpHost", "sftpUsername", "sftpPassword", "orgName", "dataSourceName"},
        "birst": {"birstBaseUrl", "birstAdminUsername", "birstAdminPassword", "birstDashboardVersion", "birstSpaceId",
                  "birstSsoPassword"},
        "zendesk": {"endpointPrefix", "username", "password"},
        "salesforce": {"username", "password", "consumerKey", "consumerSecret", "securityToken"},
        "twilio": {"accountSid", "authToken", "region"},
        "email": {"incomingType", "imapServer", "smtpHost", "smtpPort", "smtpEncryptionType", "smtpUser",
                  "smtpPassword"},
        "calabrio": {"username", "password"}, "monet": {"monetUrl", "username", "password"},
        "client": {"accessKey", "secretKey"}, "lambda": {"accessKey", "secretKey"},
        "serenovaVoice": {"accountSid", "apiKey"},
    } == REQUIRED


@pytest.mark.parametrize("kind, change, field", [
    ("zendesk", {"interactionFieldId": ""}, "interactionFieldId"),  # required once workItems is true
    ("twilio", {"region": "mars1"}, "region"),
    ("twilio", {"extensionPrefix": "1234"}, "extensionPrefix"),
    ("email", {"smtpEncryptionType": "tls"}, "smtpEncryptionType"),
    ("monet", {"monetUrl": "monet.example.invalid"}, "monetUrl"),
    ("teleopti", {"protocol": "sftp"}, "protocol"),
])
async def test_ui_value_rules(http: httpx2.AsyncClient, kind: str, change: dict[str, Any], field: str) -> None:
    body = {"name": "X", "type": kind, "properties": {**SAMPLES[kind], **change}}
    assert_error(await http.post(COLLECTION, json=body), 400, f"properties.{field}")


@pytest.mark.parametrize("ui_rules", ["never", "active"])
async def test_ui_rules_are_switchable(clock: FakeClock, ui_rules: str) -> None:
    """By default (never) the API enforces none of the UI's rules, as the documents state none; "active" enforces
    them only for an active integration."""
    emu = CxEngageEmulator(clock=clock, contract=Contract(ui_rules=ui_rules))  # type: ignore[arg-type]
    async with client(emu, basic()) as http:
        zendesk = result(await http.post(COLLECTION, json={"name": "Docs' own", "type": "zendesk", "properties": {}}))
        assert zendesk["properties"]["password"] == "" and zendesk["active"] is False
        sf = result(await http.post(COLLECTION, json={"name": "Loose SF", "type": "salesforce",
                                                       "properties": {"username": "u"}}))
        twilio = {"name": "Loose Twilio", "type": "twilio", "properties": {"region": "mars1"}}
        assert result(await http.post(COLLECTION, json=twilio))["properties"] == {"region": "mars1"}
        activate = await http.put(f"{COLLECTION}/{sf['id']}", json={"active": True})
        if ui_rules == "never":
            assert result(activate)["active"] is True
        else:
            assert_error(activate, 400, *(f"properties.{k}" for k in ("password", "consumerKey", "consumerSecret",
                                                                      "securityToken")))
        # Kinds and unknown keys are still checked.
        assert_error(await http.post(COLLECTION, json={"name": "Y", "type": "salesforce",
                                                       "properties": {"pushEnabled": 1}}), 400,
                     "properties.pushEnabled")


async def test_names_are_unique_per_tenant_ignoring_case(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    first = await create(http, "zendesk", "Helpdesk main")
    for name in ("Helpdesk main", " helpdesk MAIN ", "Sandbox order lookup (FAKE)"):
        error = assert_error(await http.post(COLLECTION, json={"name": name, "type": "rest", "properties": {}}),
                             400, "name")
        assert "already exist" in error["message"] and "already exist" in error["attribute"]["name"]
    second = await create(http, "rest", "Orders")
    assert_error(await http.put(f"{COLLECTION}/{second['id']}", json={"name": "HELPDESK MAIN"}), 400, "name")
    assert emu.stored(SANDBOX_TENANT_ID, second["id"])["name"] == "Orders"
    assert result(await http.put(f"{COLLECTION}/{first['id']}", json={"name": "Helpdesk Main"}))["name"] == \
        "Helpdesk Main"  # renaming itself (a case change) is fine
    other = emu.add_tenant(name="Second tenant (fake)")
    assert (await create(http, "zendesk", "Helpdesk main", tenant=other))["tenantId"] == other
    with pytest.raises(ValueError, match="already exist"):
        emu.add_integration(SANDBOX_TENANT_ID, "rest", "orders")


# --- list, get, update ---------------------------------------------------------------------------------------------

async def test_list_and_get(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    made = [await create(http, kind, f"{kind} row") for kind in ("rest", "salesforce")]
    rows = result(await http.get(COLLECTION))
    assert [r["id"] for r in rows] == [SANDBOX_INTEGRATION_ID] + [m["id"] for m in made]
    assert rows[1:] == made and all(list(r) == WIRE_KEYS for r in rows)
    assert rows[2]["properties"]["consumerSecret"] == "fake-sf-consumer-secret"
    one = result(await http.get(f"{COLLECTION}/{made[1]['id']}"))
    assert one == made[1]
    upper = result(await http.get(f"/v1/tenants/{SANDBOX_TENANT_ID.upper()}/integrations/{made[1]['id'].upper()}"))
    assert upper["id"] == made[1]["id"]  # ids are compared as UUIDs
    empty = emu.add_tenant()
    assert result(await http.get(f"/v1/tenants/{empty}/integrations")) == []


async def test_put_is_a_partial_update(emu: CxEngageEmulator, http: httpx2.AsyncClient, clock: FakeClock) -> None:
    record = await create(http, "salesforce", "SF", description="first")
    path = f"{COLLECTION}/{record['id']}"
    clock.now += 90
    renamed = result(await http.put(path, json={"name": "SF renamed"}))
    changed = {k for k in WIRE_KEYS if renamed[k] != record[k]}
    assert changed == {"name", "updated"} and renamed["updated"] == "2027-01-15T08:01:30Z"
    assert renamed["created"] == START_STAMP and renamed["updatedBy"] == SANDBOX_USER_ID
    both = result(await http.put(path, json={"active": True, "description": None}))
    assert both["active"] is True and both["description"] is None and both["name"] == "SF renamed"
    assert emu.stored(SANDBOX_TENANT_ID, record["id"]) == both


async def test_put_merges_properties_key_wise(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    record = await create(http, "salesforce", "SF")
    path = f"{COLLECTION}/{record['id']}"
    updated = result(await http.put(path, json={"properties": {"password": "fake-rotated-pw"}}))
    assert updated["properties"] == {**SAMPLES["salesforce"], "password": "fake-rotated-pw"}
    assert updated["name"] == "SF" and updated["active"] is False
    # Blanking a required property is refused and changes nothing (not even the fields sent with it).
    assert_error(await http.put(path, json={"name": "Changed", "properties": {"consumerKey": ""}}), 400,
                 "properties.consumerKey")
    assert emu.stored(SANDBOX_TENANT_ID, record["id"]) == updated


async def test_put_properties_replace_when_switched(clock: FakeClock) -> None:
    emu = CxEngageEmulator(clock=clock, contract=Contract(properties_edit="replace"))
    async with client(emu, basic()) as http:
        record = await create(http, "rest", "REST")
        updated = result(await http.put(f"{COLLECTION}/{record['id']}", json={"properties": {"token": "fake-new"}}))
    assert updated["properties"] == {"token": "fake-new"}


async def test_secrets_masked_when_switched(clock: FakeClock) -> None:
    emu = CxEngageEmulator(clock=clock, contract=Contract(secrets_on_read="mask"))
    async with client(emu, basic()) as http:
        record = await create(http, "rest", "REST")
        put = result(await http.put(f"{COLLECTION}/{record['id']}", json={"properties": {"token": "fake-new"}}))
        read = result(await http.get(f"{COLLECTION}/{record['id']}"))
    assert put["properties"]["token"] == read["properties"]["token"] == contract.MASK
    assert emu.stored(SANDBOX_TENANT_ID, record["id"])["properties"]["token"] == "fake-new"


@pytest.mark.parametrize("body, fields", [
    ({}, {"body"}),
    ({"type": "zendesk"}, {"type"}),
    ({"type": "rest"}, {"body"}),  # repeating the current type is no update at all
    ({"name": ""}, {"name"}),
    ({"active": "no"}, {"active"}),
    ({"properties": "x"}, {"properties"}),
    ({"createdBy": SANDBOX_USER_ID}, {"createdBy"}),
])
async def test_put_validation(emu: CxEngageEmulator, http: httpx2.AsyncClient, body: dict[str, Any],
                              fields: set[str]) -> None:
    before = emu.stored(SANDBOX_TENANT_ID, SANDBOX_INTEGRATION_ID)
    assert_error(await http.put(f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}", json=body), 400, *fields)
    assert emu.stored(SANDBOX_TENANT_ID, SANDBOX_INTEGRATION_ID) == before


async def test_put_may_repeat_the_type_in_any_case(http: httpx2.AsyncClient) -> None:
    updated = result(await http.put(f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}", json={"type": "REST", "active": False}))
    assert updated["type"] == "rest" and updated["active"] is False


# --- 404 and 405 ---------------------------------------------------------------------------------------------------

async def test_unknown_and_malformed_ids_are_404(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    error = assert_error(await http.get(f"{COLLECTION}/{missing}"), 404)
    assert missing in error["message"]
    assert_error(await http.put(f"{COLLECTION}/{missing}", json={"name": ""}), 404)  # 404 before the body
    assert_error(await http.get(f"{COLLECTION}/not-a-uuid"), 404)
    assert_error(await http.put(f"{COLLECTION}/not-a-uuid", json={"active": True}), 404)
    assert_error(await http.get("/v1/tenants/acme/integrations"), 404)
    assert_error(await http.post("/v1/tenants/acme/integrations", json={}), 404)
    # An integration of another tenant is not found through this one.
    assert_error(await http.get(f"{COLLECTION}/{SANDBOX_VIEW_ONLY_INTEGRATION_ID}"), 404)
    assert_error(await http.get("/v1/tenants"), 404)
    assert_error(await http.get(f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}/listeners"), 404)
    assert (await http.get("/elsewhere")).status_code == 404
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}", {"GET", "HEAD", "PUT"}),
    ("PATCH", f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}", {"GET", "HEAD", "PUT"}),
    ("POST", f"{COLLECTION}/{SANDBOX_INTEGRATION_ID}", {"GET", "HEAD", "PUT"}),
    ("DELETE", COLLECTION, {"GET", "HEAD", "POST"}),
    ("PUT", COLLECTION, {"GET", "HEAD", "POST"}),
    ("GET", "/v1/tokens", {"POST"}),
])
async def test_other_methods_are_405(emu: CxEngageEmulator, http: httpx2.AsyncClient, method: str, path: str,
                                     allow: set[str]) -> None:
    response = await http.request(method, path, json={"name": "x"} if method != "GET" else None)
    assert_error(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allow
    assert emu.stored(SANDBOX_TENANT_ID, SANDBOX_INTEGRATION_ID)["name"] == "Sandbox order lookup (fake)"
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID}


# --- test helpers --------------------------------------------------------------------------------------------------

def test_add_integration_bypasses_http(emu: CxEngageEmulator, clock: FakeClock) -> None:
    iid = emu.add_integration(SANDBOX_TENANT_ID, "Salesforce", "Half done", {"username": "u"}, active=True)
    record = emu.stored(SANDBOX_TENANT_ID, iid)
    assert emu.requests == [] and record["type"] == "salesforce" and record["active"] is True
    # The UI's required rules are skipped (a state the API would refuse); defaults are filled in.
    assert record["properties"] == {**INITIAL_SALESFORCE, "username": "u"}
    assert record["created"] == START_STAMP and record["description"] is None
    with pytest.raises(ValueError, match="unknown integration type"):
        emu.add_integration(SANDBOX_TENANT_ID, "plivo", "P")
    with pytest.raises(ValueError, match="Unknown property"):
        emu.add_integration(SANDBOX_TENANT_ID, "rest", "R", {"nope": 1})
    record["properties"]["username"] = "mutated"
    assert emu.stored(SANDBOX_TENANT_ID, iid)["properties"]["username"] == "u"  # stored() returns a copy


INITIAL_SALESFORCE = {"consumerKey": "", "consumerSecret": "", "password": "", "securityToken": "", "username": ""}


# --- faults and recording ------------------------------------------------------------------------------------------

async def test_injected_status_reaches_the_client_and_writes_nothing(emu: CxEngageEmulator,
                                                                     http: httpx2.AsyncClient) -> None:
    emu.faults.inject(path_prefix=COLLECTION, method="POST", status=503,
                      body=b'{"error":{"code":503,"message":"boom"}}', times=1)
    body = {"name": "Retry me", "type": "rest", "properties": {}}
    failed = await http.post(COLLECTION, json=body)
    assert failed.status_code == 503 and failed.json()["error"]["message"] == "boom"
    assert stored_ids(emu) == {SANDBOX_INTEGRATION_ID} and len(emu.writes()) == 1
    assert result(await http.post(COLLECTION, json=body))["name"] == "Retry me"  # times=1: the next one passes
    assert len(stored_ids(emu)) == 2 and len(emu.writes()) == 2


async def test_injected_delay_and_malformed_body(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    emu.faults.inject(path_prefix=COLLECTION, method="GET", delay=0.2)
    started = time.monotonic()
    assert result(await http.get(COLLECTION))
    assert time.monotonic() - started >= 0.2
    emu.faults.inject(path_prefix=COLLECTION, status=200, body=b'{"result": [')
    garbled = await http.get(COLLECTION)
    assert garbled.status_code == 200
    with pytest.raises(ValueError):
        garbled.json()
    emu.faults.inject(path_prefix="/v1/tokens", status=200, body=b"{}")
    assert (await http.post("/v1/tokens", headers=BASIC)).json() == {}  # a token answer without a token
    assert len(emu.requests) == 3 and emu.faults.faults == []


async def test_requests_are_recorded_with_bodies(emu: CxEngageEmulator, http: httpx2.AsyncClient) -> None:
    await http.post("/v1/tokens", json={"username": SANDBOX_API_KEY, "password": SANDBOX_API_SECRET, "ttl": 60})
    record = await create(http, "rest", "Recorded")
    await http.get(COLLECTION)
    await http.put(f"{COLLECTION}/{record['id']}", json={"active": True})
    assert [(r.method, r.path) for r in emu.requests] == [
        ("POST", "/v1/tokens"), ("POST", COLLECTION), ("GET", COLLECTION), ("PUT", f"{COLLECTION}/{record['id']}")]
    assert [(r.method, r.json()) for r in emu.writes()] == [
        ("POST", {"name": "Recorded", "type": "rest", "properties": SAMPLES["rest"]}), ("PUT", {"active": True})]
    assert emu.requests[1].headers["authorization"] == BASIC["authorization"]


# --- loopback ------------------------------------------------------------------------------------------------------

async def test_served_on_loopback_over_real_http() -> None:
    emu = CxEngageEmulator()
    with serve_loopback(emu.app) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as http:
            token = (await http.post("/v1/tokens", json={"username": SANDBOX_API_KEY,
                                                         "password": SANDBOX_API_SECRET, "ttl": 300})).json()["token"]
            headers = {"authorization": f"Token {token}"}
            created = await http.post(COLLECTION, headers=headers, json={
                "name": "Loopback desk", "type": "Zendesk", "properties": SAMPLES["zendesk"]})
            assert created.status_code == 200
            iid = created.json()["result"]["id"]
            updated = await http.put(f"{COLLECTION}/{iid}", headers=headers, json={"active": True})
            assert updated.json()["result"]["active"] is True
            got = (await http.get(f"{COLLECTION}/{iid}", headers=headers)).json()["result"]
            assert got["type"] == "zendesk" and got["properties"]["password"] == "fake-zd-pw"
            assert (await http.get(COLLECTION)).status_code == 401
    assert emu.stored(SANDBOX_TENANT_ID, iid)["active"] is True
    assert [r.method for r in emu.writes()] == ["POST", "PUT"]
