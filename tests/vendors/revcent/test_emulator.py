"""The RevCent emulator against the documented v2 contract (seed schemas + vendor-apis.md), over ASGI and loopback."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.vendors.revcent.emulator import schemas as seed
from integrations_mcp.vendors.revcent.emulator.contract import GUIDE_CONTRACT, Contract
from tests.harness import CLOCK_START as START
from tests.harness import FakeClock
from tests.pages import ACCEPTED, OWN, REFUSED, csrf, parse

pytestmark = pytest.mark.anyio

BASE = "http://revcent.test"
KEY = {"x-api-key": SANDBOX_API_KEY}
ID_RE = re.compile(r"[A-Za-z0-9]{20}")


@pytest.fixture
def emu(clock: FakeClock) -> RevCentEmulator:
    return RevCentEmulator(api_key=SANDBOX_API_KEY, clock=clock, contract=GUIDE_CONTRACT)


@pytest.fixture
async def http(emu: RevCentEmulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE, headers=KEY) as c:
        yield c


def site(emu: RevCentEmulator, kind: str) -> dict[str, Any]:
    return emu.site_integrations[emu.site_id(kind)]


def creds(emu: RevCentEmulator, kind: str, *, required_only: bool = False) -> dict[str, str]:
    fields = site(emu, kind)["third_party_credentials"]["fields"]
    return {f["id"]: f"secret-{kind}-{f['id']}" for f in fields if f["required"] or not required_only}


def raw_credentials(emu: RevCentEmulator, kind: str, values: dict[str, str]) -> dict[str, Any]:
    return {"id": site(emu, kind)["third_party_credentials"]["id"],
            "fields": [{"id": k, "value": v} for k, v in values.items()]}


def assert_error(response: httpx2.Response, status: int, error_code: str) -> dict[str, Any]:
    data = response.json()
    assert response.status_code == status, data
    assert Draft202012Validator(seed.error_response()).is_valid(data), data
    assert set(data) == {"api_call_id", "api_call_unix", "code", "error_code", "message", "result"}
    assert data["code"] == 0 and data["error_code"] == error_code and data["message"]
    return data


def assert_ok(response: httpx2.Response) -> dict[str, Any]:
    data = response.json()
    assert response.status_code == 200, data
    assert data["code"] == 1 and ID_RE.fullmatch(data["api_call_id"]) and isinstance(data["api_call_unix"], int)
    return data


async def new_form(http: httpx2.AsyncClient, emu: RevCentEmulator, kind: str = "tax") -> dict[str, Any]:
    return assert_ok(await http.post("/v2/secure_forms", json={"form_source": "third_party_integration",
                                                               "form_source_id": emu.site_id(kind)}))


async def create(http: httpx2.AsyncClient, emu: RevCentEmulator, kind: str = "tax", name: str = "Tax main",
                 **extra: Any) -> str:
    body = {"name": name, "site_third_party_integration": emu.site_id(kind), **extra}
    data = assert_ok(await http.post("/v2/user_third_party_integrations", json=body))
    assert Draft202012Validator(seed.write_response()).is_valid(data), data
    return data["user_third_party_integration_id"]


async def get_record(http: httpx2.AsyncClient, uid: str) -> dict[str, Any]:
    data = assert_ok(await http.get(f"/v2/user_third_party_integrations/{uid}"))
    errors = [e.message for e in Draft202012Validator(seed.get_response()).iter_errors(data)]
    assert errors == [], errors
    return data


def asset_options(record: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    site_obj = record.get("site_third_party_integration", record)
    return {(o["id"], f["id"]): f["select_settings"]["options"] for o in site_obj.get("third_party_options", [])
            for f in o["fields"] if f.get("select_settings", {}).get("third_party_asset")}


async def fill_page(http: httpx2.AsyncClient, form_url: str, values: dict[str, str],
                    headers: dict[str, str] | None = None) -> httpx2.Response:
    """Open the page and submit it with `headers` (default: what a browser's own submit sends)."""
    page = await http.get(form_url)
    return await http.post(form_url, data={"csrf_token": csrf(page.text), **values},
                           headers=BROWSER_SUBMIT if headers is None else headers)


# --- transport, auth, envelope -------------------------------------------------------------------------------------

async def test_requests_without_the_api_key_are_refused(emu: RevCentEmulator) -> None:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE) as anon:
        assert_error(await anon.get("/v2/site_third_party_integrations?limit=5&page=1"), 401, "unauthorized")
        assert_error(await anon.get("/v2/site_third_party_integrations?limit=5&page=1",
                                    headers={"x-api-key": "wrong"}), 401, "unauthorized")
        assert_error(await anon.get("/v2/no_such_thing"), 401, "unauthorized")
        assert_error(await anon.post("/v2/user_third_party_integrations", json={"name": "x"}), 401, "unauthorized")
        bearer = await anon.get("/v2/site_third_party_integrations?limit=5&page=1",
                                headers={"authorization": f"Bearer {SANDBOX_API_KEY}"})
        assert_ok(bearer)
        assert_error(await anon.get("/v2/site_third_party_integrations?limit=5&page=1",
                                    headers={"authorization": "Bearer nope"}), 401, "unauthorized")
    assert emu.user_integrations == {}


async def test_a_custom_api_key_is_the_only_one_accepted(clock: FakeClock) -> None:
    emu = RevCentEmulator(api_key="other-key", clock=clock, contract=GUIDE_CONTRACT)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE) as c:
        assert_error(await c.get("/v2/site_third_party_integrations?limit=1&page=1", headers=KEY), 401,
                     "unauthorized")
        assert_ok(await c.get("/v2/site_third_party_integrations?limit=1&page=1", headers={"x-api-key": "other-key"}))


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
async def test_only_get_and_post_are_allowed(http: httpx2.AsyncClient, emu: RevCentEmulator, method: str) -> None:
    uid = emu.add_user_integration(name="Keep me", site_id=emu.site_id("tax"))
    response = await http.request(method, f"/v2/user_third_party_integrations/{uid}")
    assert response.status_code == 405
    if method != "HEAD":
        assert_error(response, 405, "method_not_allowed")
    assert uid in emu.user_integrations


async def test_a_wrong_method_on_a_known_path_and_unknown_paths(http: httpx2.AsyncClient) -> None:
    assert_error(await http.post("/v2/site_third_party_integrations", json={}), 405, "method_not_allowed")
    assert_error(await http.get("/v2/secure_forms"), 405, "method_not_allowed")
    assert_error(await http.get("/v2/nothing_here"), 404, "not_found")


async def test_success_envelope_is_flat_with_a_fresh_call_id(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                             clock: FakeClock) -> None:
    first = assert_ok(await http.get(f"/v2/site_third_party_integrations/{emu.site_id('tax')}"))
    clock.now += 5
    second = assert_ok(await http.get(f"/v2/site_third_party_integrations/{emu.site_id('tax')}"))
    assert first["api_call_unix"] == int(START) and second["api_call_unix"] == int(START) + 5
    assert first["api_call_id"] != second["api_call_id"]
    assert first["id"] == emu.site_id("tax") and "result" not in first  # fields sit at the top level


# --- site integrations and pagination ------------------------------------------------------------------------------

async def test_site_list_pages_with_limit_and_one_based_page(http: httpx2.AsyncClient) -> None:
    pages = [assert_ok(await http.get("/v2/site_third_party_integrations", params={"limit": 2, "page": p}))
             for p in (1, 2, 3, 4)]
    assert [p["current_count"] for p in pages] == [2, 2, 2, 0]
    assert [p["current_page"] for p in pages] == [1, 2, 3, 4]
    ids = [s["id"] for p in pages for s in p["results"]]
    assert len(ids) == len(set(ids)) == 6
    assert {s["integration_type"] for p in pages for s in p["results"]} == {
        "tax", "shipping", "offline_payment", "ai", "ai_voice"}
    assert all("total_count" not in p for p in pages)
    full = assert_ok(await http.get("/v2/site_third_party_integrations", params={"limit": 25, "page": 1}))
    assert full["current_count"] == 6


@pytest.mark.parametrize("params", [{}, {"limit": 5}, {"page": 1}, {"limit": 0, "page": 1}, {"limit": 26, "page": 1},
                                    {"limit": 5, "page": 0}, {"limit": "five", "page": 1}, {"limit": 5, "page": "1.5"}])
async def test_list_paging_parameters_are_required_and_bounded(http: httpx2.AsyncClient,
                                                               params: dict[str, Any]) -> None:
    for path in ("/v2/site_third_party_integrations", "/v2/user_third_party_integrations"):
        assert_error(await http.get(path, params=params), 400, "validation_error")


async def test_site_object_lists_no_assets(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    data = assert_ok(await http.get(f"/v2/site_third_party_integrations/{emu.site_id('tax')}"))
    body = {k: v for k, v in data.items() if k not in ("api_call_id", "api_call_unix", "code")}
    site_schema = seed.get_response()["properties"]["site_third_party_integration"]
    assert Draft202012Validator(site_schema).is_valid(body)
    assert body == site(emu, "tax")
    assert asset_options(body) == {("tax_company", "company_id"): []}
    static = next(f for o in body["third_party_options"] for f in o["fields"] if f["id"] == "commit_transactions")
    assert static["select_settings"]["options"] == ["yes", "no"]


async def test_unknown_or_malformed_site_ids(http: httpx2.AsyncClient) -> None:
    assert_error(await http.get("/v2/site_third_party_integrations/" + "Z" * 20), 404, "not_found")
    assert_error(await http.get("/v2/site_third_party_integrations/short"), 400, "validation_error")


def test_fixtures_cover_every_shape(emu: RevCentEmulator) -> None:
    sites = list(emu.site_integrations.values())
    assert sorted(s["integration_type"] for s in sites) == sorted(["tax", "shipping", "offline_payment", "ai",
                                                                   "ai_voice", "ai_voice"])
    assert all(ID_RE.fullmatch(s["id"]) and "(sandbox)" in s["name"] for s in sites)
    cred_fields = [f for s in sites for f in s["third_party_credentials"]["fields"]]
    assert {f["required"] for f in cred_fields} == {True, False}
    options = [o for s in sites for o in s["third_party_options"]]
    assert {o["required"] for o in options} == {True, False}
    fields = [f for o in options for f in o["fields"]]
    kinds = {(f["field_type"], (f.get("select_settings") or {}).get("third_party_asset"),
              (f.get("select_settings") or {}).get("multiple")) for f in fields}
    assert kinds >= {("input", None, None), ("select", True, False), ("select", True, True),
                     ("select", False, False), ("select", False, True)}
    assert site(emu, "offline_payment")["third_party_options"] == []


# --- create --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"name": "X", "site_third_party_integration": "sandboxSiteTax000001", "enable": True},
    {"name": "X", "site_third_party_integration": "short"},
    {"site_third_party_integration": "sandboxSiteTax000001"},
    {"name": "X", "site_third_party_integration": "sandboxSiteTax000001", "secure_form_id": "abc"},
    {"name": "X", "site_third_party_integration": "sandboxSiteTax000001",
     "third_party_credentials": {"id": "tax_api_credentials", "fields": [{"id": "account_id"}]}},
    {"name": "X", "site_third_party_integration": "sandboxSiteTax000001", "third_party_options": []},
    ["not", "an", "object"],
])
async def test_create_validates_against_the_seed_schema(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                        body: Any) -> None:
    assert_error(await http.post("/v2/user_third_party_integrations", json=body), 400, "validation_error")
    assert emu.user_integrations == {}


async def test_create_rejects_a_body_that_is_not_json(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    response = await http.post("/v2/user_third_party_integrations", content=b"{nope",
                               headers={"content-type": "application/json"})
    assert_error(response, 400, "validation_error")
    assert_error(await http.post("/v2/user_third_party_integrations"), 400, "validation_error")


async def test_create_with_raw_credentials_saves_them_without_echoing(http: httpx2.AsyncClient,
                                                                      emu: RevCentEmulator) -> None:
    values = creds(emu, "tax")
    uid = await create(http, emu, third_party_credentials=raw_credentials(emu, "tax", values))
    assert emu.stored_credentials(uid) == values
    response = await http.get(f"/v2/user_third_party_integrations/{uid}")
    record = await get_record(http, uid)
    assert record["third_party_credentials_saved"] == ["tax_api_credentials"]
    assert record["enabled"] is False and record["description"] == "" and record["third_party_options_saved"] == []
    assert not any(v in response.text for v in values.values())


async def test_credentials_count_as_saved_only_when_every_required_field_has_a_value(
        http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    partial = {"account_id": "acct", "license_key": ""}
    uid = await create(http, emu, third_party_credentials=raw_credentials(emu, "tax", partial))
    assert (await get_record(http, uid))["third_party_credentials_saved"] == []
    required = creds(emu, "shipping", required_only=True)
    uid2 = await create(http, emu, "shipping", "Ship", third_party_credentials=raw_credentials(emu, "shipping",
                                                                                                 required))
    assert (await get_record(http, uid2))["third_party_credentials_saved"] == ["shipping_api_credentials"]


@pytest.mark.parametrize("credentials", [
    {"id": "wrong_credentials_id", "fields": [{"id": "account_id", "value": "a"}]},
    {"id": "tax_api_credentials", "fields": [{"id": "no_such_field", "value": "a"}]},
    {"id": "tax_api_credentials", "fields": [{"id": "account_id", "value": "a"}, {"id": "account_id", "value": "b"}]},
])
async def test_raw_credentials_must_match_the_site(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                   credentials: dict[str, Any]) -> None:
    response = await http.post("/v2/user_third_party_integrations", json={
        "name": "X", "site_third_party_integration": emu.site_id("tax"), "third_party_credentials": credentials})
    assert_error(response, 400, "validation_error")
    assert emu.user_integrations == {}


async def test_create_needs_an_existing_site(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    response = await http.post("/v2/user_third_party_integrations",
                               json={"name": "X", "site_third_party_integration": "Q" * 20})
    assert_error(response, 404, "not_found")


async def test_names_are_unique(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    first = await create(http, emu, name="Tax main")
    response = await http.post("/v2/user_third_party_integrations",
                               json={"name": " tax MAIN", "site_third_party_integration": emu.site_id("shipping")})
    assert_error(response, 409, "duplicate_name")
    second = await create(http, emu, "shipping", "Shipping")
    rename = await http.post(f"/v2/user_third_party_integrations/{second}", json={"name": "Tax main"})
    assert_error(rename, 409, "duplicate_name")
    assert_ok(await http.post(f"/v2/user_third_party_integrations/{first}", json={"name": "Tax main"}))
    assert sorted(r.name for r in emu.user_integrations.values()) == ["Shipping", "Tax main"]
    with pytest.raises(Exception, match="already exists"):
        emu.add_user_integration(name="SHIPPING", site_id=emu.site_id("ai"))


async def test_enabled_and_description_are_stored_as_sent(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    uid = await create(http, emu, "offline_payment", "Pay later", enabled=True, description="renewals")
    record = await get_record(http, uid)
    assert record["enabled"] is True and record["description"] == "renewals"
    assert record["site_third_party_integration"]["third_party_options"] == []


async def test_user_integration_list(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    ids = [emu.add_user_integration(name=f"Tax {i}", site_id=emu.site_id("tax"), credentials=creds(emu, "tax"))
           for i in range(3)]
    page = assert_ok(await http.get("/v2/user_third_party_integrations", params={"limit": 2, "page": 2}))
    assert page["current_count"] == 1 and page["current_page"] == 2
    row = page["results"][0]
    assert row["id"] == ids[2] and row["name"] == "Tax 2" and row["third_party_credentials_saved"]
    assert "secret-" not in str(page)


# --- secure forms --------------------------------------------------------------------------------------------------

async def test_secure_form_lifecycle(http: httpx2.AsyncClient, emu: RevCentEmulator, clock: FakeClock) -> None:
    form = await new_form(http, emu)
    assert set(form) == {"api_call_id", "api_call_unix", "code", "secure_form_id", "form_url",
                         "expiration_date_unix", "completed", "form_source", "form_source_id"}
    fid = form["secure_form_id"]
    assert ID_RE.fullmatch(fid) and form["completed"] is False
    assert form["form_url"] == f"{BASE}/secure_forms/{fid}"
    assert form["expiration_date_unix"] == int(START) + 3600
    assert (form["form_source"], form["form_source_id"]) == ("third_party_integration", emu.site_id("tax"))

    got = assert_ok(await http.get(f"/v2/secure_forms/{fid}"))
    assert {k: got[k] for k in ("id", "created_date_unix", "expiration_date_unix", "completed", "form_source",
                                "form_source_id")} == {
        "id": fid, "created_date_unix": int(START), "expiration_date_unix": int(START) + 3600, "completed": False,
        "form_source": "third_party_integration", "form_source_id": emu.site_id("tax")}

    body = {"name": "Tax", "site_third_party_integration": emu.site_id("tax"), "secure_form_id": fid}
    assert_error(await http.post("/v2/user_third_party_integrations", json=body), 409, "secure_form_incomplete")
    emu.complete_secure_form(fid, creds(emu, "tax"))
    assert assert_ok(await http.get(f"/v2/secure_forms/{fid}"))["completed"] is True
    uid = await create(http, emu, name="Tax", secure_form_id=fid)
    assert emu.stored_credentials(uid) == creds(emu, "tax")
    assert (await get_record(http, uid))["third_party_credentials_saved"] == ["tax_api_credentials"]


async def test_secure_form_must_exist_and_match_the_site(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    shipping_form = (await new_form(http, emu, "shipping"))["secure_form_id"]
    emu.complete_secure_form(shipping_form, creds(emu, "shipping"))
    body = {"name": "Tax", "site_third_party_integration": emu.site_id("tax")}
    assert_error(await http.post("/v2/user_third_party_integrations", json={**body, "secure_form_id": shipping_form}),
                 400, "secure_form_mismatch")
    assert_error(await http.post("/v2/user_third_party_integrations", json={**body, "secure_form_id": "N" * 20}),
                 404, "secure_form_not_found")
    assert_error(await http.get("/v2/secure_forms/" + "N" * 20), 404, "secure_form_not_found")
    both = {**body, "secure_form_id": shipping_form,
            "third_party_credentials": raw_credentials(emu, "tax", creds(emu, "tax"))}
    assert_error(await http.post("/v2/user_third_party_integrations", json=both), 400, "validation_error")
    assert emu.user_integrations == {}


async def test_secure_forms_expire_after_an_hour_with_their_data(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                                 clock: FakeClock) -> None:
    form = await new_form(http, emu)
    fid = form["secure_form_id"]
    emu.complete_secure_form(fid, creds(emu, "tax"))
    clock.now += 3599
    assert assert_ok(await http.get(f"/v2/secure_forms/{fid}"))["completed"] is True
    clock.now += 1
    assert_error(await http.get(f"/v2/secure_forms/{fid}"), 410, "secure_form_expired")
    assert fid not in emu.secure_forms
    assert_error(await http.get(f"/v2/secure_forms/{fid}"), 410, "secure_form_expired")
    response = await http.post("/v2/user_third_party_integrations", json={
        "name": "Tax", "site_third_party_integration": emu.site_id("tax"), "secure_form_id": fid})
    assert_error(response, 410, "secure_form_expired")
    assert (await http.get(form["form_url"])).status_code == 410
    with pytest.raises(Exception, match="expired"):
        emu.complete_secure_form(fid, creds(emu, "tax"))


@pytest.mark.parametrize("body, status, code", [
    ({"form_source": "third_party_integration"}, 400, "validation_error"),
    ({"form_source": "bank_vault", "form_source_id": "sandboxSiteTax000001"}, 400, "validation_error"),
    ({"form_source": "third_party_integration", "form_source_id": "sandboxSiteTax000001", "x": 1}, 400,
     "validation_error"),
    ({"form_source": "third_party_integration", "form_source_id": "Q" * 20}, 404, "not_found"),
    ({}, 400, "validation_error"),
])
async def test_create_secure_form_validation(http: httpx2.AsyncClient, emu: RevCentEmulator, body: dict[str, Any],
                                             status: int, code: str) -> None:
    assert_error(await http.post("/v2/secure_forms", json=body), status, code)
    assert emu.secure_forms == {}


async def test_other_form_sources_get_a_generic_form(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    form = assert_ok(await http.post("/v2/secure_forms", json={"form_source": "smtp_profile"}))
    assert "form_source_id" not in form
    page = parse((await http.get(form["form_url"])).text)
    assert [i["name"] for i in page.inputs if i.get("type") == "password"] == ["secret"]


def test_the_completion_hook_refuses_what_the_page_refuses(emu: RevCentEmulator) -> None:
    form = emu.create_form("third_party_integration", emu.site_id("tax"))
    with pytest.raises(ValueError, match="unknown field"):
        emu.complete_secure_form(form.id, {"nope": "x", **creds(emu, "tax")})
    with pytest.raises(ValueError, match="License key"):
        emu.complete_secure_form(form.id, {"account_id": "a"})
    assert not form.completed
    emu.complete_secure_form(form.id, creds(emu, "tax"))
    with pytest.raises(ValueError, match="already completed"):
        emu.complete_secure_form(form.id, creds(emu, "tax"))


# --- the secure form page ------------------------------------------------------------------------------------------

async def test_form_page_is_plain_accessible_html(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    form = await new_form(http, emu)
    response = await http.get(form["form_url"], headers={"x-api-key": ""})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = parse(response.text)
    assert "Example Tax Co (sandbox)" in page.heading
    assert page.external == []
    assert page.forms == [{"method": "post", "action": f"/secure_forms/{form['secure_form_id']}"}]
    visible = [i for i in page.inputs if i.get("type") != "hidden"]
    spec = site(emu, "tax")["third_party_credentials"]["fields"]
    assert [i["name"] for i in visible] == [f["id"] for f in spec]
    for field, tag in zip(spec, visible, strict=True):
        assert tag["type"] == "password"
        assert field["name"] in page.labels[tag["id"] or ""]
        assert ("required" in tag) is field["required"]
    hidden = [i for i in page.inputs if i.get("type") == "hidden"]
    assert [h["name"] for h in hidden] == ["csrf_token"] and len(hidden[0]["value"] or "") >= 32


async def test_anonymous_browser_can_open_the_page_without_a_key(emu: RevCentEmulator) -> None:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE) as browser:
        form = emu.create_form("third_party_integration", emu.site_id("ai"))
        page = await browser.get(f"/secure_forms/{form.id}")
        assert page.status_code == 200 and "Sample AI Provider (sandbox)" in parse(page.text).heading
        assert (await browser.get("/secure_forms/" + "N" * 20)).status_code == 404


async def test_submitting_the_page_saves_and_says_so(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    form = await new_form(http, emu)
    values = creds(emu, "tax", required_only=True)
    response = await fill_page(http, form["form_url"], values, {"origin": BASE})
    assert response.status_code == 200 and "Saved" in response.text and "return to your assistant" in response.text
    assert not any(v in response.text for v in values.values())
    stored = emu.secure_forms[form["secure_form_id"]]
    assert stored.completed and stored.values == values
    after = await http.get(form["form_url"])
    assert "already completed" in after.text and "<input" not in after.text
    assert emu.writes() == [r for r in emu.requests if r.path == "/v2/secure_forms"]


async def test_page_refuses_a_wrong_csrf_token(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    form = await new_form(http, emu)
    other = await new_form(http, emu)
    other_token = csrf((await http.get(other["form_url"])).text)
    for data in ({"csrf_token": "forged", **creds(emu, "tax")}, {"csrf_token": other_token, **creds(emu, "tax")},
                 creds(emu, "tax")):
        response = await http.post(form["form_url"], data=data)
        assert response.status_code == 403
    assert not emu.secure_forms[form["secure_form_id"]].completed


@pytest.mark.parametrize(("headers", "accepted"), [*[pytest.param(*p.values, True, id=p.id) for p in ACCEPTED],
                                                  *[pytest.param(*p.values, False, id=p.id) for p in REFUSED]])
async def test_page_takes_only_the_persons_own_submit(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                      headers: dict[str, str], accepted: bool) -> None:
    """Chromium sends `Origin: null` with `Sec-Fetch-Site: same-origin` from a no-referrer page (issue 7); a post
    from any other page is refused and says what the person can do."""
    form = await new_form(http, emu)
    own = origin_of(form["form_url"])
    headers = {k: (own if v == OWN else v) for k, v in headers.items()}
    response = await fill_page(http, form["form_url"], creds(emu, "tax"), headers)
    if accepted:
        assert response.status_code == 200 and "Saved" in response.text
    else:
        assert response.status_code == 403 and "Open the link your assistant gave you" in response.text
    assert emu.secure_forms[form["secure_form_id"]].completed is accepted


async def test_page_refuses_missing_required_values_without_echoing(http: httpx2.AsyncClient,
                                                                    emu: RevCentEmulator) -> None:
    form = await new_form(http, emu)
    response = await fill_page(http, form["form_url"], {"account_id": "typed-secret-1", "license_key": "  "})
    assert response.status_code == 400 and "License key" in response.text
    assert "typed-secret-1" not in response.text
    assert not emu.secure_forms[form["secure_form_id"]].completed


async def test_page_refuses_completed_and_expired_forms(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                                        clock: FakeClock) -> None:
    form = await new_form(http, emu)
    page = await http.get(form["form_url"])
    token = csrf(page.text)
    emu.complete_secure_form(form["secure_form_id"], creds(emu, "tax"))
    again = await http.post(form["form_url"], data={"csrf_token": token, **creds(emu, "tax")}, headers=BROWSER_SUBMIT)
    assert again.status_code == 409 and "already completed and cannot be modified" in again.text
    assert emu.secure_forms[form["secure_form_id"]].values == creds(emu, "tax")

    late = await new_form(http, emu)
    token = csrf((await http.get(late["form_url"])).text)
    clock.now += 3600
    expired = await http.post(late["form_url"], data={"csrf_token": token, **creds(emu, "tax")},
                              headers=BROWSER_SUBMIT)
    assert expired.status_code == 410 and late["secure_form_id"] not in emu.secure_forms


# --- assets, options, partial edit ---------------------------------------------------------------------------------

async def test_assets_appear_only_once_credentials_are_saved(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    uid = await create(http, emu, "ai_voice", "Voice")
    before = await get_record(http, uid)
    assert before["third_party_credentials_saved"] == []
    assert asset_options(before) == {("voice_agent", "voice_id"): [], ("voice_agent", "phone_numbers"): []}
    language = before["site_third_party_integration"]["third_party_options"][0]["fields"][2]
    assert language["select_settings"]["options"] == ["en-US", "es-US", "fr-CA"]

    form = (await new_form(http, emu, "ai_voice"))["secure_form_id"]
    emu.complete_secure_form(form, creds(emu, "ai_voice"))
    assert_ok(await http.post(f"/v2/user_third_party_integrations/{uid}", json={"secure_form_id": form}))
    after = await get_record(http, uid)
    assert after["third_party_credentials_saved"] == ["voice_api_credentials"]
    assert asset_options(after) == {
        ("voice_agent", "voice_id"): ["voice_sandbox_ava", "voice_sandbox_ben"],
        ("voice_agent", "phone_numbers"): ["+15555550101", "+15555550102", "+15555550103"]}
    site_again = assert_ok(await http.get(f"/v2/site_third_party_integrations/{emu.site_id('ai_voice')}"))
    assert all(v == [] for v in asset_options(site_again).values())


async def test_asset_values_need_saved_credentials_and_must_exist(http: httpx2.AsyncClient,
                                                                  emu: RevCentEmulator) -> None:
    bare = emu.add_user_integration(name="Bare", site_id=emu.site_id("tax"))
    option = [{"id": "tax_company", "fields": [{"id": "company_id", "value": ["company_sandbox_001"]}]}]
    path = f"/v2/user_third_party_integrations/{bare}"
    assert_error(await http.post(path, json={"third_party_options": option}), 400, "validation_error")
    emu.user_integrations[bare].credentials = creds(emu, "tax")
    assert_ok(await http.post(path, json={"third_party_options": option}))
    invented = [{"id": "tax_company", "fields": [{"id": "company_id", "value": ["company_made_up"]}]}]
    assert_error(await http.post(path, json={"third_party_options": invented}), 400, "validation_error")
    saved = (await get_record(http, bare))["third_party_options_saved"]
    assert saved == [{"id": "tax_company", "fields": [{"id": "company_id", "value": ["company_sandbox_001"]}]}]


async def test_edit_is_partial(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    uid = emu.add_user_integration(
        name="Tax", site_id=emu.site_id("tax"), credentials=creds(emu, "tax"), description="d", enabled=True,
        options_saved=[{"id": "tax_company", "fields": [{"id": "company_id", "value": ["company_sandbox_002"]}]}])
    before = await get_record(http, uid)
    response = assert_ok(await http.post(f"/v2/user_third_party_integrations/{uid}", json={"name": "Tax renamed"}))
    assert response["user_third_party_integration_id"] == uid
    assert Draft202012Validator(seed.write_response()).is_valid(response)
    after = await get_record(http, uid)
    changed = {k for k in before if k not in ("api_call_id", "api_call_unix") and before[k] != after[k]}
    assert changed == {"name"} and after["name"] == "Tax renamed"
    assert emu.stored_credentials(uid) == creds(emu, "tax")
    assert_ok(await http.post(f"/v2/user_third_party_integrations/{uid}", json={"enabled": False}))
    final = await get_record(http, uid)
    assert final["enabled"] is False and final["description"] == "d" and final["name"] == "Tax renamed"


@pytest.mark.parametrize("mode", ["field", "option", "replace"])
async def test_options_edit_modes(clock: FakeClock, mode: str) -> None:
    """Contract.options_edit: per field (default), per option, or the whole array replaced."""
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY, clock=clock, contract=Contract(options_edit=mode))  # type: ignore
    uid = emu.add_user_integration(name="Tax", site_id=emu.site_id("tax"), credentials=creds(emu, "tax"))
    path = f"/v2/user_third_party_integrations/{uid}"
    settings = {"id": "tax_settings", "fields": [{"id": "commit_transactions", "value": ["yes"]},
                                                 {"id": "origin_zip", "value": ["12345"]}]}
    company = {"id": "tax_company", "fields": [{"id": "company_id", "value": ["company_sandbox_001"]}]}
    narrowed = {"id": "tax_settings", "fields": [{"id": "commit_transactions", "value": ["no"]}]}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url="http://revcent.test",
                                  headers={"x-api-key": SANDBOX_API_KEY}) as http:
        assert_ok(await http.post(path, json={"third_party_options": [settings]}))
        assert_ok(await http.post(path, json={"third_party_options": [company]}))
        saved = (await get_record(http, uid))["third_party_options_saved"]
        assert saved == ([company] if mode == "replace" else [company, settings])
        assert_ok(await http.post(path, json={"third_party_options": [narrowed]}))
        saved = (await get_record(http, uid))["third_party_options_saved"]
    merged = {"id": "tax_settings", "fields": [{"id": "commit_transactions", "value": ["no"]},
                                               {"id": "origin_zip", "value": ["12345"]}]}
    assert saved == {"field": [company, merged], "option": [company, narrowed], "replace": [narrowed]}[mode]


async def test_secure_form_id_is_refused_by_the_seed_schemas(clock: FakeClock) -> None:
    """By default the emulator takes the OpenAPI bodies exactly: the guide's secure_form_id is an unknown field."""
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY, clock=clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url="http://revcent.test",
                                  headers={"x-api-key": SANDBOX_API_KEY}) as http:
        body = {"name": "Tax", "site_third_party_integration": emu.site_id("tax"), "secure_form_id": "F" * 20}
        error = assert_error(await http.post("/v2/user_third_party_integrations", json=body), 400,
                             "validation_error")
        assert "secure_form_id" in error["message"]


@pytest.mark.parametrize("options", [
    [{"id": "no_such_option", "fields": [{"id": "commit_transactions", "value": ["yes"]}]}],
    [{"id": "tax_settings", "fields": [{"id": "no_such_field", "value": ["yes"]}]}],
    [{"id": "tax_settings", "fields": [{"id": "company_id", "value": ["company_sandbox_001"]}]}],
    [{"id": "tax_settings", "fields": [{"id": "commit_transactions", "value": ["maybe"]}]}],
    [{"id": "tax_settings", "fields": [{"id": "commit_transactions", "value": ["yes", "no"]}]}],
    [{"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["1", "2"]}]}],
    [{"id": "tax_settings", "fields": []}, {"id": "tax_settings", "fields": []}],
    [{"id": "tax_settings", "fields": [{"id": "origin_zip", "value": "12345"}]}],
    [{"id": "tax_settings"}],
])
async def test_invalid_options_change_nothing(http: httpx2.AsyncClient, emu: RevCentEmulator,
                                              options: list[dict[str, Any]]) -> None:
    uid = emu.add_user_integration(name="Tax", site_id=emu.site_id("tax"), credentials=creds(emu, "tax"))
    response = await http.post(f"/v2/user_third_party_integrations/{uid}",
                               json={"name": "Changed", "third_party_options": options})
    assert_error(response, 400, "validation_error")
    record = emu.user_integrations[uid]
    assert record.name == "Tax" and record.options == {}


async def test_multi_selects_take_several_values(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    uid = emu.add_user_integration(name="Ship", site_id=emu.site_id("shipping"), credentials=creds(emu, "shipping"))
    services = ["service_sandbox_ground", "service_sandbox_overnight"]
    caps = emu.add_user_integration(name="AI", site_id=emu.site_id("ai"))
    assert_ok(await http.post(f"/v2/user_third_party_integrations/{uid}", json={"third_party_options": [
        {"id": "shipping_services", "fields": [{"id": "service_ids", "value": services}]}]}))
    assert_ok(await http.post(f"/v2/user_third_party_integrations/{caps}", json={"third_party_options": [
        {"id": "ai_capabilities", "fields": [{"id": "capabilities", "value": ["chat", "summarize"]}]}]}))
    assert (await get_record(http, uid))["third_party_options_saved"][0]["fields"][0]["value"] == services
    assert (await get_record(http, caps))["third_party_options_saved"][0]["fields"][0]["value"] == ["chat",
                                                                                                     "summarize"]


async def test_edit_errors(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    uid = emu.add_user_integration(name="Tax", site_id=emu.site_id("tax"))
    path = f"/v2/user_third_party_integrations/{uid}"
    assert_error(await http.post(path, json={"site_third_party_integration": emu.site_id("ai")}), 400,
                 "validation_error")
    assert_error(await http.post(path, json={"enabled": "yes"}), 400, "validation_error")
    assert_error(await http.post("/v2/user_third_party_integrations/" + "M" * 20, json={"name": "x"}), 404,
                 "not_found")
    assert_error(await http.post("/v2/user_third_party_integrations/short", json={"name": "x"}), 400,
                 "validation_error")
    assert_error(await http.get("/v2/user_third_party_integrations/" + "M" * 20), 404, "not_found")
    shipping_form = emu.create_form("third_party_integration", emu.site_id("shipping"))
    emu.complete_secure_form(shipping_form.id, creds(emu, "shipping"))
    assert_error(await http.post(path, json={"secure_form_id": shipping_form.id}), 400, "secure_form_mismatch")
    assert emu.stored_credentials(uid) == {}


async def test_get_record_matches_the_seed_schema_in_every_state(http: httpx2.AsyncClient,
                                                                 emu: RevCentEmulator) -> None:
    for kind in ("tax", "shipping", "offline_payment", "ai", "ai_voice"):
        bare = emu.add_user_integration(name=f"{kind} bare", site_id=emu.site_id(kind))
        full = emu.add_user_integration(name=f"{kind} full", site_id=emu.site_id(kind), credentials=creds(emu, kind))
        for uid in (bare, full):
            record = await get_record(http, uid)  # validates against the seed GET 200 schema
            assert record["site_third_party_integration"]["integration_type"] == kind
            assert ID_RE.fullmatch(record["id"])


# --- faults and recording ------------------------------------------------------------------------------------------

async def test_injected_status_reaches_the_client_and_writes_nothing(http: httpx2.AsyncClient,
                                                                     emu: RevCentEmulator) -> None:
    emu.faults.inject(path_prefix="/v2/user_third_party_integrations", method="POST", status=500,
                      body=b'{"code":0,"message":"boom"}', times=1)
    body = {"name": "Tax", "site_third_party_integration": emu.site_id("tax")}
    failed = await http.post("/v2/user_third_party_integrations", json=body)
    assert failed.status_code == 500 and failed.json()["message"] == "boom"
    assert emu.user_integrations == {} and len(emu.writes()) == 1
    assert_ok(await http.post("/v2/user_third_party_integrations", json=body))  # times=1: the next one passes
    assert len(emu.user_integrations) == 1


async def test_injected_delay_and_malformed_body(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    emu.faults.inject(path_prefix="/v2/site_third_party_integrations", delay=0.2)
    started = time.monotonic()
    assert_ok(await http.get("/v2/site_third_party_integrations", params={"limit": 1, "page": 1}))
    assert time.monotonic() - started >= 0.2
    emu.faults.inject(path_prefix="/v2/site_third_party_integrations", status=200, body=b'{"api_call_id": ')
    garbled = await http.get("/v2/site_third_party_integrations", params={"limit": 1, "page": 1})
    with pytest.raises(ValueError):
        garbled.json()
    assert len(emu.requests) == 2


async def test_requests_are_recorded_with_bodies(http: httpx2.AsyncClient, emu: RevCentEmulator) -> None:
    await create(http, emu)
    await http.get("/v2/user_third_party_integrations", params={"limit": 5, "page": 1})
    assert [(r.method, r.path) for r in emu.requests] == [("POST", "/v2/user_third_party_integrations"),
                                                         ("GET", "/v2/user_third_party_integrations")]
    assert emu.writes()[0].json() == {"name": "Tax main", "site_third_party_integration": emu.site_id("tax")}
    assert emu.requests[0].headers["x-api-key"] == SANDBOX_API_KEY


# --- loopback ------------------------------------------------------------------------------------------------------

async def test_served_on_loopback_over_real_http() -> None:
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY, contract=GUIDE_CONTRACT)
    with serve_loopback(emu.app) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=KEY, timeout=10) as http:
            form = await new_form(http, emu, "offline_payment")
            assert form["form_url"] == f"{server.url}/secure_forms/{form['secure_form_id']}"
            values = creds(emu, "offline_payment", required_only=True)
            saved = await fill_page(http, form["form_url"], values, {"origin": server.url})
            assert saved.status_code == 200 and "Saved" in saved.text
            uid = await create(http, emu, "offline_payment", "Pay later", secure_form_id=form["secure_form_id"],
                               enabled=True)
            record = await get_record(http, uid)
            assert record["third_party_credentials_saved"] == ["pay_later_credentials"] and record["enabled"]
    assert emu.stored_credentials(uid) == values


async def test_a_sandbox_emulator_keeps_few_requests_and_no_bodies_or_keys() -> None:
    """A long-running --sandbox must not pile up the secrets people typed (bodies) or the API key (headers)."""
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY, keep_requests=3, contract=GUIDE_CONTRACT)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=BASE,
                                  headers={"x-api-key": SANDBOX_API_KEY}) as http:
        for _ in range(5):
            await http.post("/v2/secure_forms", json={"form_source": "third_party_integration",
                                                       "form_source_id": emu.site_id("tax")})
    assert len(emu.requests) == 3
    assert all(r.body == b"" and r.headers == {} for r in emu.requests)


# --- the switches for what the documents allow but do not settle ---------------------------------------------------

async def test_switches_for_ids_select_names_booleans_and_secret_options(clock: FakeClock) -> None:
    """Contract.id_alphabet, select_names, booleans, secret_options: each changes only what it names."""
    contract = Contract(id_alphabet="urlsafe", select_names="remote_asset", booleans="strings",
                        secret_options="masked")
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY, clock=clock, contract=contract)
    uid = emu.add_user_integration(name="Calls", site_id=emu.site_id("call_events"), credentials={"api_key": "k"},
                                   options_saved=[{"id": "webhook", "fields": [
                                       {"id": "signing_secret", "value": ["s3cret-value"]},
                                       {"id": "endpoint_url", "value": ["https://x.invalid"]}]}])
    assert "_" in uid and "-" in uid and len(uid) == 20
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url="http://revcent.test",
                                  headers={"x-api-key": SANDBOX_API_KEY}) as http:
        record = assert_ok(await http.get(f"/v2/user_third_party_integrations/{uid}"))  # off the seed schema
        site = assert_ok(await http.get(f"/v2/site_third_party_integrations/{emu.site_id('tax')}"))
    assert record["enabled"] == "false" and "s3cret-value" not in str(record)
    assert record["third_party_options_saved"] == [{"id": "webhook", "fields": [
        {"id": "endpoint_url", "value": ["https://x.invalid"]}, {"id": "signing_secret", "value": ["********"]}]}] \
        or record["third_party_options_saved"] == [{"id": "webhook", "fields": [
            {"id": "signing_secret", "value": ["********"]}, {"id": "endpoint_url", "value": ["https://x.invalid"]}]}]
    settings = site["third_party_options"][0]["fields"][0]["select_settings"]
    assert set(settings) == {"remote_asset", "options", "is_multiple"} and settings["remote_asset"] == "true"
    omitted = RevCentEmulator(api_key=SANDBOX_API_KEY, clock=clock, contract=Contract(secret_options="omitted"))
    oid = omitted.add_user_integration(name="Calls", site_id=omitted.site_id("call_events"),
                                       options_saved=[{"id": "webhook", "fields": [
                                           {"id": "signing_secret", "value": ["s3cret-value"]}]}])
    assert omitted.view(omitted.user_integrations[oid])["third_party_options_saved"] == []
