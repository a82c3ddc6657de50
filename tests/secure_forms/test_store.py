"""The one-time secure forms integrations-mcp serves itself: the in-memory store, the page over ASGI, and the
on-demand loopback listener. A canary secret must never come back in a page, an error, a repr or a log."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from integrations_mcp.errors import GuardrailError
from integrations_mcp.secure_forms.html import SECURITY_HEADERS
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.secure_forms.page import CSRF_FIELD, secure_form_routes
from integrations_mcp.secure_forms.store import (
    FormField,
    FormState,
    SecureFormError,
    SecureFormStore,
)
from tests.conftest import CLOCK_START as START
from tests.conftest import FakeClock
from tests.test_secure_form_origin import ACCEPTED, OWN, REFUSED

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:9999"
CANARY = "CANARY-secret-9f3a"
OWNER = "session-a"
PURPOSE = {"vendor": "cxengage", "type": "zendesk", "tenant_id": "t-1", "integration_id": ""}
FIELDS = [FormField("password", "Zendesk password"), FormField("token", "API token"),
          FormField("securityToken", "Security token", required=False)]



@pytest.fixture
def store(clock: FakeClock) -> SecureFormStore:
    return SecureFormStore(clock=clock)


def new_form(store: SecureFormStore, owner: str = OWNER, **overrides: Any):
    args: dict[str, Any] = {"owner": owner, "subject": "Zendesk integration 'Support desk' on tenant t-1",
                            "fields": FIELDS, "purpose": PURPOSE, "create_tool": "CreateCxEngageSecureForm"} | overrides
    return store.create(**args)


def fill(store: SecureFormStore, form, **values: str) -> None:
    store.submit(form.id, form.csrf_token, values or {"password": CANARY, "token": "tok-1"})


def refusal(reason: str, *needles: str):
    """Context manager: a SecureFormError with this reason whose message names every needle."""
    return _Refusal(reason, needles)


class _Refusal:
    def __init__(self, reason: str, needles: tuple[str, ...]) -> None:
        self.reason, self.needles = reason, needles
        self.error: SecureFormError | None = None

    def __enter__(self) -> _Refusal:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        assert isinstance(exc, SecureFormError), f"expected SecureFormError({self.reason}), got {exc!r}"
        assert exc.reason == self.reason, (exc.reason, str(exc))
        for needle in self.needles:
            assert needle in str(exc), f"{needle!r} not in {exc}"
        assert CANARY not in str(exc) and CANARY not in repr(exc.details)
        self.error = exc
        return True


# =========================================================================== store


def test_create_gives_unguessable_id_csrf_and_one_hour_expiry(store: SecureFormStore) -> None:
    forms = [new_form(store) for _ in range(20)]
    ids = {f.id for f in forms}
    assert len(ids) == 20 and all(len(i) >= 32 for i in ids)
    assert len({f.csrf_token for f in forms}) == 20 and all(len(f.csrf_token) >= 32 for f in forms)
    form = forms[0]
    assert form.expires_at == int(START) + 3600
    assert form.purpose == PURPOSE and [f.id for f in form.fields] == ["password", "token", "securityToken"]
    assert form.csrf_token not in repr(form) and OWNER not in repr(form)


def test_create_rejects_bad_field_definitions(store: SecureFormStore) -> None:
    for fields in ([], [FormField("_csrf", "x")], [FormField("a b", "x")],
                   [FormField("password", "A"), FormField("password", "B")], [FormField("password", " ")]):
        with pytest.raises(ValueError):
            new_form(store, fields=fields)
    with pytest.raises(ValueError):
        new_form(store, owner="")


def test_status_reports_fields_filled_never_values(store: SecureFormStore) -> None:
    form = new_form(store)
    status = store.status(form.id, owner=OWNER)
    assert (status.completed, status.used, status.filled_fields) == (False, False, [])
    assert status.fields == ["password", "token", "securityToken"]
    assert status.required_fields == ["password", "token"]
    assert status.expires_at == form.expires_at and status.purpose == PURPOSE
    fill(store, form)
    status = store.status(form.id, owner=OWNER)
    assert status.completed and status.filled_fields == ["password", "token"]
    assert CANARY not in status.model_dump_json() and CANARY not in repr(status)


def test_take_is_one_time(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    assert store.take(form.id, owner=OWNER, purpose=dict(PURPOSE)) == {"password": CANARY, "token": "tok-1"}
    with refusal(SecureFormError.USED, "already used", "CreateCxEngageSecureForm"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    status = store.status(form.id, owner=OWNER)
    assert status.used and status.completed
    assert store.lookup(form.id).state == FormState.USED


def test_take_before_completion_is_refused_and_says_what_to_do(store: SecureFormStore) -> None:
    form = new_form(store)
    with refusal(SecureFormError.NOT_COMPLETED, "not saved", "Zendesk password", "API token", "Save"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    fill(store, form)
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE)["password"] == CANARY


def test_another_sessions_form_looks_exactly_like_an_unknown_one(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    with refusal(SecureFormError.NOT_FOUND, "SecureForm tool") as unknown:
        store.status("no-such-form", owner=OWNER)
    with refusal(SecureFormError.NOT_FOUND) as foreign_status:
        store.status(form.id, owner="session-b")
    with refusal(SecureFormError.NOT_FOUND) as foreign_take:
        store.take(form.id, owner="session-b", purpose=PURPOSE)
    assert unknown.error and foreign_status.error and foreign_take.error
    assert str(foreign_status.error) == str(unknown.error) == str(foreign_take.error)
    assert foreign_status.error.details == unknown.error.details == foreign_take.error.details
    # ...and the failed attempt did not spend the form
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}


def test_purpose_mismatch_names_the_key_and_does_not_spend_the_form(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    with refusal(SecureFormError.PURPOSE_MISMATCH, "made for type zendesk, not salesforce") as r:
        store.take(form.id, owner=OWNER, purpose=PURPOSE | {"type": "salesforce"})
    assert r.error and r.error.details["key"] == "type"
    with refusal(SecureFormError.PURPOSE_MISMATCH, "integration_id (none), not i-42"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE | {"integration_id": "i-42"})
    with refusal(SecureFormError.PURPOSE_MISMATCH, "tenant_id"):
        store.take(form.id, owner=OWNER, purpose={k: v for k, v in PURPOSE.items() if k != "tenant_id"})
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE)["token"] == "tok-1"


def test_expiry_drops_values_then_forgets_the_form(store: SecureFormStore, clock: FakeClock) -> None:
    form = new_form(store)
    fill(store, form)
    clock.now = START + 3599
    assert store.status(form.id, owner=OWNER).completed
    clock.now = START + 3600
    with refusal(SecureFormError.EXPIRED, "expired", "CreateCxEngageSecureForm"):
        store.take(form.id, owner=OWNER, purpose=PURPOSE)
    with refusal(SecureFormError.EXPIRED):
        store.status(form.id, owner=OWNER)
    with refusal(SecureFormError.EXPIRED):
        store.lookup(form.id)
    with refusal(SecureFormError.EXPIRED):
        fill(store, form)
    assert store._entries[form.id].values is None  # the values themselves are gone
    clock.now = START + 2 * 3600
    assert store.sweep() == 1 and len(store) == 0
    with refusal(SecureFormError.NOT_FOUND):
        store.lookup(form.id)


def test_submit_checks_csrf_required_and_unknown_fields_and_stores_nothing_on_refusal(store: SecureFormStore) -> None:
    form = new_form(store)
    with refusal(SecureFormError.CSRF, "security check"):
        store.submit(form.id, "forged", {"password": CANARY, "token": "t"})
    with refusal(SecureFormError.MISSING_FIELDS, "API token") as r:
        store.submit(form.id, form.csrf_token, {"password": CANARY, "token": "   "})
    assert r.error and r.error.details["fields"] == ["token"]
    with refusal(SecureFormError.MISSING_FIELDS, "Zendesk password", "API token"):
        store.submit(form.id, form.csrf_token, {})
    with refusal(SecureFormError.UNKNOWN_FIELDS):
        store.submit(form.id, form.csrf_token, {"password": CANARY, "token": "t", "apiKey": "x"})
    with refusal(SecureFormError.TOO_LONG, "Zendesk password"):
        store.submit(form.id, form.csrf_token, {"password": "x" * 10_000, "token": "t"})
    with refusal(SecureFormError.NOT_FOUND):
        store.submit("nope", form.csrf_token, {})
    assert not store.status(form.id, owner=OWNER).completed


def test_blank_optional_fields_are_left_out_and_completed_forms_cannot_be_modified(store: SecureFormStore) -> None:
    form = new_form(store)
    store.submit(form.id, form.csrf_token, {"password": CANARY, "token": "tok-1", "securityToken": ""})
    with refusal(SecureFormError.COMPLETED, "already completed"):
        store.submit(form.id, form.csrf_token, {"password": "overwrite", "token": "overwrite"})
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}
    with refusal(SecureFormError.COMPLETED):
        store.submit(form.id, form.csrf_token, {"password": "again", "token": "again"})


def test_errors_are_guardrail_errors(store: SecureFormStore) -> None:
    with pytest.raises(GuardrailError) as info:
        store.status("nope", owner=OWNER)
    assert info.value.details["reason"] == "not_found"


def test_reprs_never_include_values(store: SecureFormStore) -> None:
    form = new_form(store)
    fill(store, form)
    for text in (repr(store), repr(store._entries), repr(form), repr(store.lookup(form.id)),
                 repr(store.status(form.id, owner=OWNER))):
        assert CANARY not in text


def test_concurrent_submits_store_exactly_one(store: SecureFormStore) -> None:
    form = new_form(store)
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            store.submit(form.id, form.csrf_token, {"password": f"p{n}", "token": f"t{n}"})
            outcomes.append(f"ok{n}")
        except SecureFormError as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("completed") == 15
    n = winners[0][2:]
    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": f"p{n}", "token": f"t{n}"}


# =========================================================================== page over ASGI


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open[-1]] = self.text.get(self._open[-1], "") + data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


@pytest.fixture
async def http(store: SecureFormStore) -> AsyncIterator[httpx2.AsyncClient]:
    app = Starlette(routes=secure_form_routes(store))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def path(form) -> str:
    return f"/secure-forms/{form.id}"


def assert_secure_headers(response: httpx2.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert response.headers["content-type"].startswith("text/html")


def post_data(form, **values: str) -> dict[str, str]:
    return {CSRF_FIELD: form.csrf_token, **values}


async def test_form_page_is_accessible_and_self_contained(store: SecureFormStore, http: httpx2.AsyncClient) -> None:
    form = new_form(store, subject="Zendesk <Support & desk>")
    response = await http.get(path(form))
    assert response.status_code == 200
    assert_secure_headers(response)
    html = response.text
    page = parse(html)
    assert page.find("html", lang="en")
    assert page.text["title"] == "Secure form: Zendesk <Support & desk>"
    assert page.text["h1"] == "Zendesk <Support & desk>" and "<Support" not in html
    assert "src=" not in html and "href=" not in html and "<script" not in html and "<link" not in html
    assert "http://" not in html and "https://" not in html
    inputs = {a["name"]: a for a in page.find("input") if a.get("type") == "password"}
    assert list(inputs) == ["password", "token", "securityToken"]
    labels = {a["for"] for a in page.find("label")}
    for f in FIELDS:
        attrs = inputs[f.id]
        assert attrs["id"] in labels and attrs["autocomplete"] == "off" and "value" not in attrs
        assert ("required" in attrs) is f.required
    hidden = page.find("input", type="hidden")
    assert hidden == [{"type": "hidden", "name": CSRF_FIELD, "value": form.csrf_token}]
    forms = page.find("form")
    assert forms and forms[0]["method"] == "post" and "action" not in forms[0]
    assert page.find("button", type="submit") and page.text["button"] == "Save"
    assert page.find("time", datetime="2027-01-15T09:00:00+00:00") and "2027-01-15 09:00 UTC" in html


async def test_submit_saves_and_the_values_are_never_echoed(store: SecureFormStore, http: httpx2.AsyncClient,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    form = new_form(store)
    bodies: list[str] = []
    # missing required field: the form comes back with an alert naming the label, without the typed value
    missing = await http.post(path(form), data=post_data(form, password=CANARY, token=""))
    bodies.append(missing.text)
    assert missing.status_code == 400
    assert_secure_headers(missing)
    page = parse(missing.text)
    alert = [a for t, a in page.tags if a.get("role") == "alert"]
    assert alert and "Please fill in: API token." in missing.text
    assert parse(missing.text).find("input", name="token")[0]["aria-invalid"] == "true"
    assert not store.status(form.id, owner=OWNER).completed

    saved = await http.post(path(form), data=post_data(form, password=CANARY, token="tok-1"),
                            headers={"Origin": BASE})
    bodies.append(saved.text)
    assert saved.status_code == 200
    assert_secure_headers(saved)
    assert "Saved — return to your assistant" in saved.text

    again = await http.get(path(form))
    bodies.append(again.text)
    assert again.status_code == 200 and "Already completed" in again.text and "<form" not in again.text
    repost = await http.post(path(form), data=post_data(form, password="other", token="other"))
    bodies.append(repost.text)
    assert repost.status_code == 409 and "cannot be modified" in repost.text

    assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}
    used = await http.get(path(form))
    bodies.append(used.text)
    assert "Already completed" in used.text
    for body in bodies:
        assert CANARY not in body
    assert CANARY not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("integrations_mcp")]
    assert any("completed" in m for m in ours)  # outcomes are logged...
    assert not any(form.id in m for m in ours)  # ...naming forms by a short prefix only (the id opens the page)


async def test_csrf_failure_is_403(store: SecureFormStore, http: httpx2.AsyncClient) -> None:
    form = new_form(store)
    for data in ({CSRF_FIELD: "forged", "password": CANARY, "token": "t"}, {"password": CANARY, "token": "t"}):
        response = await http.post(path(form), data=data)
        assert response.status_code == 403 and CANARY not in response.text
        assert_secure_headers(response)
    assert not store.status(form.id, owner=OWNER).completed


@pytest.mark.parametrize("headers", REFUSED)
async def test_cross_site_submission_is_403(store: SecureFormStore, http: httpx2.AsyncClient,
                                            headers: dict[str, str]) -> None:
    form = new_form(store)
    headers = {k: (BASE if v == OWN else v) for k, v in headers.items()}
    response = await http.post(path(form), data=post_data(form, password=CANARY, token="t"), headers=headers)
    assert response.status_code == 403 and CANARY not in response.text
    assert "Open the link your assistant gave you" in response.text
    assert_secure_headers(response)
    assert not store.status(form.id, owner=OWNER).completed


@pytest.mark.parametrize("headers", ACCEPTED)
async def test_same_origin_submission_is_accepted(store: SecureFormStore, http: httpx2.AsyncClient,
                                                  headers: dict[str, str]) -> None:
    """`Origin: null` is what browsers send for a page with Referrer-Policy: no-referrer; Sec-Fetch-Site vouches."""
    form = new_form(store)
    headers = {k: (BASE if v == OWN else v) for k, v in headers.items()}
    response = await http.post(path(form), data=post_data(form, password=CANARY, token="t"), headers=headers)
    assert response.status_code == 200 and "Saved" in response.text
    assert store.status(form.id, owner=OWNER).completed


async def test_unknown_and_expired_forms(store: SecureFormStore, http: httpx2.AsyncClient, clock: FakeClock) -> None:
    unknown = await http.get("/secure-forms/does-not-exist")
    assert unknown.status_code == 404 and "Form not found" in unknown.text
    assert_secure_headers(unknown)
    form = new_form(store)
    clock.now = START + 3600
    expired = await http.get(path(form))
    assert expired.status_code == 410 and "expired" in expired.text
    assert_secure_headers(expired)
    posted = await http.post(path(form), data=post_data(form, password=CANARY, token="t"))
    assert posted.status_code == 410 and CANARY not in posted.text


async def test_only_plain_url_encoded_submissions(store: SecureFormStore, http: httpx2.AsyncClient) -> None:
    form = new_form(store)
    multipart = await http.post(path(form), files={"password": ("a", b"x")}, data=post_data(form))
    assert multipart.status_code == 415
    huge = await http.post(path(form), data=post_data(form, password="x" * 70_000, token="t"))
    assert huge.status_code == 413
    repeated = await http.post(path(form), content=f"{CSRF_FIELD}={form.csrf_token}&password=a&password=b&token=t",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert repeated.status_code == 400
    extra = await http.post(path(form), data=post_data(form, password=CANARY, token="t", apiKey=CANARY))
    assert extra.status_code == 400 and CANARY not in extra.text and parse(extra.text).find("p", role="alert")
    assert not store.status(form.id, owner=OWNER).completed


# =========================================================================== the on-demand listener


async def test_listener_serves_real_http_on_loopback(store: SecureFormStore) -> None:
    server = SecureFormServer(store)
    with pytest.raises(RuntimeError):
        server.url_for("x")
    try:
        form, url = await server.create_form(owner=OWNER, subject="Zendesk", fields=FIELDS, purpose=PURPOSE)
        assert server.listening and url.startswith("http://127.0.0.1:") and url.endswith(f"/secure-forms/{form.id}")
        assert await server.ensure_listening() == server.base_url  # started once
        async with httpx2.AsyncClient() as client:
            page = await client.get(url)
            assert page.status_code == 200 and "<h1>Zendesk</h1>" in page.text
            assert_secure_headers(page)
            saved = await client.post(url, data=post_data(form, password=CANARY, token="tok-1"),
                                      headers={"Origin": server.base_url or ""})
            assert saved.status_code == 200 and "Saved" in saved.text and CANARY not in saved.text
            other = await client.get(f"{server.base_url}/")
            assert other.status_code == 404
            assert_secure_headers(other)
            rebinding = await client.get(url, headers={"Host": "evil.example"})
            assert rebinding.status_code == 421
        assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}
    finally:
        await server.aclose()
    assert not server.listening and server.base_url is None
    async with httpx2.AsyncClient() as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get(url)


async def test_http_transport_mode_uses_the_given_base_url(store: SecureFormStore) -> None:
    server = SecureFormServer(store)
    server.set_base_url("http://127.0.0.1:8000/")
    assert await server.ensure_listening() == "http://127.0.0.1:8000"
    assert not server.listening
    assert server.url_for("abc") == "http://127.0.0.1:8000/secure-forms/abc"
    assert [r.path for r in server.routes()] == ["/secure-forms/{form_id}"] * 2
    server.close()
    assert server.base_url == "http://127.0.0.1:8000"
