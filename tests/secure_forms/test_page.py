"""The secure form page over ASGI: accessible and self-contained, never echoing a value, taking only the person's
own submit, refusing what the store refuses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx2
import pytest
from starlette.applications import Starlette

from integrations_mcp.secure_forms.page import CSRF_FIELD, secure_form_routes
from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT
from integrations_mcp.secure_forms.store import SecureFormStore
from tests.harness import CLOCK_START as START
from tests.harness import FakeClock
from tests.pages import ACCEPTED, OWN, REFUSED, parse
from tests.secure_forms.helpers import CANARY, FIELDS, OWNER, PURPOSE, assert_secure_headers, new_form, path, post_data

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:9999"


@pytest.fixture
async def http(store: SecureFormStore) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser at the page: its POSTs carry what the page's own submit carries (a test gives other headers to
    `raw`)."""
    app = Starlette(routes=secure_form_routes(store))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                                  headers=BROWSER_SUBMIT) as client:
        yield client


@pytest.fixture
async def raw(store: SecureFormStore) -> AsyncIterator[httpx2.AsyncClient]:
    """A client that sends only the headers a test gives (curl, a script, another page)."""
    app = Starlette(routes=secure_form_routes(store))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
        yield client


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


@pytest.mark.parametrize(("headers", "accepted"), [*[pytest.param(*p.values, True, id=p.id) for p in ACCEPTED],
                                                  *[pytest.param(*p.values, False, id=p.id) for p in REFUSED]])
async def test_only_the_forms_own_page_can_submit(store: SecureFormStore, raw: httpx2.AsyncClient,
                                                  headers: dict[str, str], accepted: bool) -> None:
    """`Origin: null` is what browsers send for a page with Referrer-Policy: no-referrer; Sec-Fetch-Site vouches.
    Any other page is refused, and the person is told what to do."""
    form = new_form(store)
    headers = {k: (BASE if v == OWN else v) for k, v in headers.items()}
    response = await raw.post(path(form), data=post_data(form, password=CANARY, token="t"), headers=headers)
    if accepted:
        assert response.status_code == 200 and "Saved" in response.text
    else:
        assert response.status_code == 403 and "Open the link your assistant gave you" in response.text
        assert_secure_headers(response)
    assert CANARY not in response.text
    assert store.status(form.id, owner=OWNER).completed is accepted


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
    # A declared length over the cap is refused before anything is read; so is a stream that grows past it.
    declared = await http.post(path(form), content=b"x", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(10**12)})
    assert declared.status_code == 413

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"password=" + b"x" * 65536

    streamed = await http.post(path(form), content=endless(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    assert repeated.status_code == 400
    extra = await http.post(path(form), data=post_data(form, password=CANARY, token="t", apiKey=CANARY))
    assert extra.status_code == 400 and CANARY not in extra.text and parse(extra.text).find("p", role="alert")
    assert not store.status(form.id, owner=OWNER).completed
