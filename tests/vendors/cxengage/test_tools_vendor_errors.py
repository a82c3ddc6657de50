"""What the CxEngage tools make of the vendor's answers when things go wrong (401, 403, 404, 400s, malformed
answers, timeouts over a loopback listener) and of its two authentication modes."""

from __future__ import annotations

import json
import time

import httpx2
import pytest

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.app import build_server
from integrations_mcp.vendor_http import READ_ATTEMPTS
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_VIEW_ONLY_INTEGRATION_ID,
    SANDBOX_VIEW_ONLY_TENANT_ID,
    CxEngageEmulator,
)
from tests.harness import FORMS_URL, Session, connect, cxengage_settings
from tests.vendors.cxengage.helpers import (
    REST_ID,
    REST_NAME,
    UNKNOWN_ID,
    VIEW_ONLY_PASSWORD,
    ZENDESK,
    T,
    collection_path,
    create_zendesk,
    item_path,
)

pytestmark = pytest.mark.anyio


# --- vendor errors --------------------------------------------------------------------------------------------------

async def test_a_wrong_api_secret_is_a_401(emu: CxEngageEmulator) -> None:
    async with connect(cxengage_settings(secret="wrong-secret-value"), cxengage=emu) as cx:
        message = await cx.refused("GetCxEngageIntegrations", "GetIntegrations failed", "http_status=401",
                                   "CXENGAGE_API_SECRET")
        assert "wrong-secret-value" not in message
        await cx.refused("CreateCxEngageIntegration", "http_status=401", name="Orders", type="rest")
    assert emu.writes() == []


async def test_a_view_only_tenant_refuses_writes_with_403(cx: Session) -> None:
    before = cx.cxengage.stored(SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_VIEW_ONLY_INTEGRATION_ID)
    message = await cx.refused("EditCxEngageIntegration", "UpdateIntegration failed", "http_status=403",
                               "MANAGE_ALL_PROVIDERS", tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID,
                               integration_id=SANDBOX_VIEW_ONLY_INTEGRATION_ID, description="x")
    assert VIEW_ONLY_PASSWORD not in message
    await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "http_status=403",
                     tenant_id=SANDBOX_VIEW_ONLY_TENANT_ID, name="Orders", type="rest")
    assert [w.method for w in cx.writes()] == ["PUT", "POST"]  # tried, refused by the vendor, nothing stored
    assert cx.cxengage.stored(SANDBOX_VIEW_ONLY_TENANT_ID, SANDBOX_VIEW_ONLY_INTEGRATION_ID) == before
    assert len(cx.cxengage.list_integrations(SANDBOX_VIEW_ONLY_TENANT_ID)) == 1


async def test_an_unknown_integration_is_a_404(cx: Session) -> None:
    await cx.refused("GetCxEngageIntegration", "GetIntegration failed", "http_status=404", UNKNOWN_ID,
                     "GetCxEngageIntegrations lists", integration_id=UNKNOWN_ID)
    await cx.refused("EditCxEngageIntegration", "http_status=404", integration_id=UNKNOWN_ID, description="x")
    assert cx.writes() == []


async def test_a_vendor_400_surfaces_with_its_code_and_message(cx: Session) -> None:
    # A rule only the vendor knows: its answer reaches the model, and the form is kept (nothing was written).
    form_id = await cx.form("twilio", {"authToken": "tw-typed-token"})
    arguments = {"name": "Phones", "type": "twilio", "secure_form_id": form_id,
                 "properties": {"accountSid": "AC1", "region": "ie1"}}
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=400, body=json.dumps({"error": {
        "code": 400, "message": "Invalid", "attribute": {"properties.accountSid": "Must start with AC and 32 hex "
                                                         "characters (got tw-typed-token)"}}}).encode())
    message = await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "error_code=\"400\"",
                               "http_status=400", "properties.accountSid: Must start with AC", **arguments)
    assert "tw-typed-token" not in message
    assert len(cx.writes()) == 1 and cx.form_state(form_id) == (True, False)
    created = await cx.ok("CreateCxEngageIntegration", **arguments)
    assert cx.cxengage.stored(T, created["integration_id"])["properties"]["authToken"] == "tw-typed-token"


async def test_the_vendors_own_duplicate_name_check_surfaces(cx: Session) -> None:
    # Our check sees a stale (empty) list; the vendor's own uniqueness check answers 400.
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=200, body=b'{"result": []}')
    await cx.refused("CreateCxEngageIntegration", "http_status=400", "already exists", name=REST_NAME, type="rest",
                     properties={"endpointPrefix": ""})
    assert len(cx.writes()) == 1 and len(cx.cxengage.list_integrations(T)) == 1


@pytest.mark.parametrize("status, body, needles", [
    (200, b"<html>oops</html>", ("GetIntegrations failed", "not JSON")),
    (200, b'{"results": []}', ("GetIntegrations failed", "no result")),
    (200, b'{"result": [1, 2]}', ("GetIntegrations failed",)),
    (200, b'{"result": {"id": "x"}}', ("GetIntegrations failed",)),
    (502, b"<html>Bad gateway</html>", ("GetIntegrations failed", "http_status=502")),
    (500, b'{"error": ["first problem", "second problem"]}', ("http_status=500", "first problem; second problem")),
    (503, b'{"error": "maintenance"}', ("http_status=503", "maintenance")),
])
async def test_malformed_and_error_answers_become_tool_errors(cx: Session, status: int, body: bytes,
                                                              needles: tuple[str, ...]) -> None:
    # Every attempt of the read (a 502/503 read is retried: vendor_http.READ_ATTEMPTS)
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=status, body=body,
                              times=READ_ATTEMPTS)
    await cx.refused("GetCxEngageIntegrations", *needles)
    cx.cxengage.faults.clear()
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1  # and the server is fine afterwards


@pytest.mark.parametrize(("bad", "needle"), [
    ({"active": "maybe"}, 'at "active"'), ({"active": 1}, 'at "active"'), ({"active": None}, 'at "active"'),
    ({"active": "ｔｒｕｅ"}, 'at "active"'), ({"name": 7}, 'at "name"'), ({"id": "not-a-uuid"}, 'at "id"'),
    ({"id": "00000fb0-0000-4000-8000-000000000fb0\n"}, 'at "id"'),
    ({"id": " 00000fb0-0000-4000-8000-000000000fb0"}, 'at "id"'),
    ({"id": "０0000fb0-0000-4000-8000-000000000fb0"}, 'at "id"'), ({"description": []}, "description")])
async def test_one_malformed_row_anywhere_in_a_long_list_fails_the_whole_list(cx: Session, bad: dict,
                                                                             needle: str) -> None:
    """Every row of the list is checked (one validation for the whole list), not only the rows of the page: a row
    of another shape is named as a single read would name it, and nothing of the list is shown as data."""
    rows = [{"id": f"{n:08X}-0000-4000-8000-{n:012x}", "name": f"Row {n}", "type": "rest",
             "active": ("TRUE", " false\t", True)[n % 3]} for n in range(1, 301)]
    rows[250] = {**rows[250], **bad}
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=200,
                              body=json.dumps({"result": rows}).encode())
    message = await cx.refused("GetCxEngageIntegrations", "GetIntegrations failed", "cannot read at", needle)
    assert "Row 1" not in message
    del rows[250]
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=200,
                              body=json.dumps({"result": rows}).encode())
    listed = await cx.ok("GetCxEngageIntegrations", name="Row 1", limit=200)
    assert listed["count"] == 111  # Row 1, Row 10-19, Row 100-199
    assert all(r["active"] is (int(r["name"][4:]) % 3 != 1) for r in listed["results"])  # "TRUE", " false", true
    assert all(r["id"] == f"{int(r['name'][4:]):08x}-0000-4000-8000-{int(r['name'][4:]):012x}"
               for r in listed["results"])  # in lowercase, as every id


async def test_a_malformed_record_becomes_a_tool_error(cx: Session) -> None:
    for body in (b'{"result": ["not", "a", "record"]}', b'{"result": {"name": "no id"}}', b'{"result": null}'):
        cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=200, body=body)
        await cx.refused("GetCxEngageIntegration", "GetIntegration failed", integration_id=REST_ID)
    assert cx.writes() == []


async def test_a_malformed_create_answer_spends_the_form_and_says_it_may_exist(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=200, body=b'{"result": {"ok": 1}}')
    message = await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "not an integration",
                               "list the integrations", name="Desk", type="zendesk", properties=dict(ZENDESK),
                               secure_form_id=form_id)
    assert "zd-pw" not in message
    assert len(cx.writes()) == 1 and cx.form_state(form_id) == (False, True)  # it may exist: no second use


async def test_timeouts_become_tool_errors(emu: CxEngageEmulator) -> None:
    with serve_loopback(emu.app) as vendor:
        settings = cxengage_settings(base_url=vendor.url, timeout_seconds=1.0)
        async with connect(settings, cxengage=emu) as cx:
            emu.faults.inject(path_prefix=collection_path(), method="GET", delay=2.5)
            started = time.monotonic()
            await cx.refused("GetCxEngageIntegrations", "GetIntegrations failed", "timed out", "Try again")
            assert time.monotonic() - started < 2.5
            desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old-pw"})
            form_id = await cx.form("zendesk", {"password": "new-pw"}, integration_id=desk)
            emu.faults.inject(path_prefix=item_path(desk), method="PUT", delay=2.5)
            message = await cx.refused("EditCxEngageIntegration", "UpdateIntegration failed", "timed out",
                                       "The write may have happened", integration_id=desk,
                                       secure_form_id=form_id, confirm_overwrite=True)
            assert "new-pw" not in message and "old-pw" not in message
            assert cx.form_state(form_id) == (False, True)  # the write may have happened: a form works once
            assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 2


async def test_token_auth_mode(emu: CxEngageEmulator) -> None:
    async with connect(cxengage_settings(use_token=True), cxengage=emu) as cx:
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
    async with connect(cxengage_settings(use_token=True), cxengage=emu) as cx:
        await cx.ok("GetCxEngageIntegrations")
        emu.tokens.clear()  # revoked (or expired early) on the vendor's side
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1
        assert len([r for r in emu.requests if r.path == "/v1/tokens"]) == 2
        assert len(emu.tokens) == 1


async def test_token_auth_with_a_wrong_secret(emu: CxEngageEmulator) -> None:
    async with connect(cxengage_settings(secret="wrong-secret-value", use_token=True), cxengage=emu) as cx:
        message = await cx.refused("GetCxEngageIntegrations", "CreateToken failed", "http_status=401")
        assert "wrong-secret-value" not in message
    assert emu.writes() == [] and emu.tokens == {}


async def test_a_record_of_an_unexpected_shape_is_a_clear_tool_error(cx: Session) -> None:
    odd = json.dumps({"result": {**cx.cxengage.stored(T, REST_ID), "name": None, "properties": "token=abc"}}).encode()
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="GET", body=odd)
    message = await cx.refused("GetCxEngageIntegration", "GetIntegration failed", "cannot read at \"name\"",
                               integration_id=REST_ID)
    assert "token=abc" not in message


async def test_a_secret_quoted_anywhere_in_a_vendor_error_is_scrubbed(cx: Session) -> None:
    """In the code, in a nested attribute (rendered as JSON, so an escape cannot hide it), lower-cased, or encoded."""
    secret = "Zd\\\\pw-Typed-9431"
    form_id = await cx.form("zendesk", {"password": secret})
    body = {"error": {"code": secret, "message": f"bad {secret.lower()}", "attribute": {
        "properties": {"password": [secret], "note": {"echo": secret}}}}}
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=400, body=json.dumps(body).encode())
    message = await cx.refused("CreateCxEngageIntegration", "CreateIntegration failed", "http_status=400",
                               name="Desk", type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
    for form in (secret, secret.lower(), secret.replace("\\\\", "\\\\\\\\")):
        assert form not in message


@pytest.mark.parametrize(("fault", "said"), [({"status": 502, "body": b'{"error": "Bad gateway"}'}, "http_status=502"),
                                             ({"status": 200, "body": b"<html>oops</html>"}, "not JSON")])
async def test_a_write_whose_outcome_is_unknown_says_so_and_how_to_find_out(cx: Session, fault: dict,
                                                                          said: str) -> None:
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="PUT", **fault)
    message = await cx.refused("EditCxEngageIntegration", said, "The write may have happened",
                               f"GetCxEngageIntegration(integration_id='{REST_ID}')", "do not simply call again",
                               integration_id=REST_ID, description="changed")
    assert "Try again" not in message


async def test_a_create_whose_outcome_is_unknown_names_the_integration_to_look_for(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=503)
    await cx.refused("CreateCxEngageIntegration", "The write may have happened", "GetCxEngageIntegrations",
                     "'Desk'", "secure form, if any, is spent", name="Desk", type="zendesk",
                     properties=dict(ZENDESK), secure_form_id=form_id)
    assert cx.form_state(form_id) == (False, True)


class _Unreachable(httpx2.AsyncBaseTransport):
    """A vendor nobody can connect to for writes (reads still answer, from the emulator)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method in ("POST", "PUT"):
            raise httpx2.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_write_that_could_not_be_sent_gives_the_form_back(emu: CxEngageEmulator) -> None:
    server = build_server(cxengage_settings(), secure_forms=SecureFormServer(base_url=FORMS_URL),
                          transports={"cxengage": _Unreachable(httpx2.ASGITransport(app=emu.app))})
    async with connect(server=server, cxengage=emu) as cx:
        form_id = await cx.form("zendesk", {"password": "zd-pw"})
        await cx.refused("CreateCxEngageIntegration", "could not connect", "nothing was sent", name="Desk",
                         type="zendesk", properties=dict(ZENDESK), secure_form_id=form_id)
        assert cx.form_state(form_id) == (True, False)  # still usable: nothing can have been written


async def test_a_create_applied_whose_answer_was_lost_is_found_and_verified(cx: Session) -> None:
    """The vendor created it, then its answer was lost (a 502): found by its name, read back, reported as done."""
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    cx.cxengage.faults.inject(path_prefix=collection_path(), method="POST", status=502, after=True)
    done = await cx.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                       secure_form_id=form_id)
    assert done["verified"]["integration"]["name"] == "Desk" and done["mismatches"] == []
    assert done["next_steps"][0].startswith("The vendor's answer was lost")
    assert len([r for r in cx.cxengage.writes() if r.method == "POST"]) == 1  # never sent twice
