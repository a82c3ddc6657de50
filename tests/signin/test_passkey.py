"""Passkeys without a browser: the enrolment and assertion ceremonies verified by the `webauthn` library against a
software authenticator, over the pages' real ASGI routes and a real state database. Each way to make a proof count
that should not (replay, another decision, expired, another origin or RP ID, no user verification, a used link) is
refused here; the browser tests (test_passkey_browser.py) do the same with Chromium's virtual authenticator."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from integrations_mcp.pages.post import PostRefused, read_own_post
from integrations_mcp.pages.signin.challenges import Challenges
from integrations_mcp.pages.signin.passkey import (
    ASSERTION_FIELD,
    REGISTRATION_FIELD,
    PasskeySignIn,
)
from integrations_mcp.pages.signin.passkey_store import PasskeyStore
from integrations_mcp.pages.signin.policy import DEFAULT_APPROVER_ROLE as APPROVER_ROLE
from integrations_mcp.pages.signin.relying_party import relying_party
from integrations_mcp.state import StateStore
from tests.harness import FakeClock
from tests.signin.authenticator import SoftAuthenticator

pytestmark = pytest.mark.anyio

ORIGIN = "http://localhost:8765"
OWN = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}


@dataclass
class Pages:
    http: httpx2.AsyncClient
    signin: PasskeySignIn
    store: PasskeyStore
    clock: FakeClock

    async def enrol_link(self, subject: str = "dana", roles: frozenset[str] = frozenset({APPROVER_ROLE})) -> str:
        token = await self.store.create_enrolment(subject=subject, name=subject.title(), roles=roles, seconds=600)
        return self.signin.enrol_path(token)

    async def options(self, path: str) -> dict:
        page = await self.http.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'data-options="([^"]*)"', page.text)
        assert found, page.text
        return json.loads(html.unescape(found[1]))

    async def enrol(self, authenticator: SoftAuthenticator, path: str | None = None) -> httpx2.Response:
        path = path or await self.enrol_link()
        options = await self.options(path)
        return await self.http.post(path, data={REGISTRATION_FIELD: authenticator.create(options)}, headers=OWN)

    async def decide(self, purpose: str, assertion: str, headers: dict | None = None) -> dict:
        answer = await self.http.post(f"/decide/{purpose}", data={ASSERTION_FIELD: assertion},
                                      headers=OWN if headers is None else headers)
        return answer.json() if answer.status_code == 200 else {"status": answer.status_code}


def gated_app(signin: PasskeySignIn) -> Starlette:
    """The passkey method's routes, and what a gate does with it: a page showing its part, a POST asking who sent it
    for a purpose (`/decide/{purpose}`, answering the Approver as JSON, or null)."""

    def public() -> str:
        return ORIGIN

    async def page(request: Request) -> HTMLResponse:
        part = await signin.page_part(request, purpose=request.path_params["purpose"], return_to="/")
        return HTMLResponse(f'<form method="post">{part.html}<button name="decision" value="approve">Approve'
                            f"</button></form>{part.scripts}")

    async def decide(request: Request) -> JSONResponse:
        try:
            fields = await read_own_post(request, public, max_bytes=8192, max_fields=10)
        except PostRefused as refused:
            return JSONResponse(refused.reason, status_code=refused.status)
        who = await signin.approver(request, fields, purpose=request.path_params["purpose"])
        return JSONResponse(None if who is None else {"subject": who.subject, "name": who.name,
                                                      "roles": sorted(who.roles), "method": who.method})

    return Starlette(routes=[*signin.routes("/secure-forms", public), Route("/page/{purpose}", page),
                             Route("/decide/{purpose}", decide, methods=["POST"])])


@pytest.fixture
async def pages(clock: FakeClock) -> AsyncIterator[Pages]:
    state = StateStore("sqlite+aiosqlite:///:memory:")
    store = PasskeyStore(state, key=b"k" * 32, clock=clock)
    signin = PasskeySignIn(store, Challenges(b"c" * 32, clock=clock))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gated_app(signin)), base_url=ORIGIN) as http:
        yield Pages(http, signin, store, clock)
    await state.close()


@pytest.mark.parametrize("counting", [True, False])
async def test_an_enrolled_passkey_proves_who_decides_once_per_challenge(pages: Pages, counting: bool) -> None:
    person = SoftAuthenticator(ORIGIN, counting=counting)
    enrolled = await pages.enrol(person)
    assert enrolled.status_code == 200 and "Passkey created" in enrolled.text
    [credential] = await pages.store.credentials("dana")
    assert credential.rp_id == "localhost" and credential.roles == {APPROVER_ROLE}

    options = await pages.options("/page/approval:one")
    assert options["userVerification"] == "required" and options["rpId"] == "localhost"
    assertion = person.get(options)
    assert await pages.decide("approval:one", assertion) == {"subject": "dana", "name": "Dana",
                                                             "roles": [APPROVER_ROLE], "method": "passkey"}
    assert (await pages.store.credential(credential.id)).sign_count == (1 if counting else 0)
    # The same assertion again (a copied POST): the challenge is spent.
    assert await pages.decide("approval:one", assertion) is None


async def test_an_assertion_made_for_another_decision_does_not_count(pages: Pages) -> None:
    person = SoftAuthenticator(ORIGIN)
    await pages.enrol(person)
    assertion = person.get(await pages.options("/page/approval:one"))
    assert await pages.decide("approval:two", assertion) is None
    assert await pages.decide("approval:one", assertion) is not None  # still good for its own


async def test_an_expired_challenge_does_not_count(pages: Pages) -> None:
    person = SoftAuthenticator(ORIGIN)
    await pages.enrol(person)
    options = await pages.options("/page/approval:one")
    pages.clock.now += pages.signin.challenges.seconds + 1
    assert await pages.decide("approval:one", person.get(options)) is None


@pytest.mark.parametrize("bend", ["origin", "rp_id", "unverified", "unknown", "tampered", "counter"])
async def test_a_bent_assertion_does_not_count(pages: Pages, bend: str) -> None:
    person = SoftAuthenticator(ORIGIN)
    await pages.enrol(person)
    options = await pages.options("/page/approval:one")
    if bend == "origin":
        person.origin = "http://localhost:9999"
    if bend == "unverified":
        person.verified = False
    if bend == "unknown":
        person = SoftAuthenticator(ORIGIN)  # never enrolled
    if bend == "counter":  # a used passkey's counter that does not move on: a copy of the authenticator
        assert await pages.decide("approval:zero", person.get(await pages.options("/page/approval:zero")))
        person.counter -= 1
    assertion = person.get(options, rp_id="evil.localhost" if bend == "rp_id" else None)
    if bend == "tampered":
        answer = json.loads(assertion)
        answer["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
        assertion = json.dumps(answer)
    assert await pages.decide("approval:one", assertion) is None


@pytest.mark.parametrize("junk", ["", "{}", "null", "[]", '{"id": 1}', "x" * 5000, '{"response": {}}',
                                  json.dumps({"id": "AA", "rawId": "AA", "type": "public-key", "response": {
                                      "clientDataJSON": "!!", "authenticatorData": "", "signature": ""}})])
async def test_junk_instead_of_an_assertion_is_nobody(pages: Pages, junk: str) -> None:
    assert await pages.decide("approval:one", junk) is None


async def test_a_post_without_the_pages_headers_is_refused_before_any_passkey_is_looked_at(pages: Pages) -> None:
    person = SoftAuthenticator(ORIGIN)
    await pages.enrol(person)
    assertion = person.get(await pages.options("/page/approval:one"))
    assert await pages.decide("approval:one", assertion, headers={}) == {"status": 403}
    assert await pages.decide("approval:one", assertion) is not None  # the page's own POST still counts


async def test_an_enrolment_link_works_once(pages: Pages) -> None:
    path = await pages.enrol_link()
    options = await pages.options(path)
    first = await pages.http.post(path, data={REGISTRATION_FIELD: SoftAuthenticator(ORIGIN).create(options)},
                                  headers=OWN)
    assert first.status_code == 200
    again = await pages.http.post(path, data={REGISTRATION_FIELD: SoftAuthenticator(ORIGIN).create(options)},
                                  headers=OWN)
    assert again.status_code == 404 and "already used or has expired" in again.text
    assert (await pages.http.get(path)).status_code == 404
    assert len(await pages.store.credentials("dana")) == 1


async def test_an_expired_enrolment_link_says_what_to_do(pages: Pages) -> None:
    path = await pages.enrol_link()
    pages.clock.now += 601
    page = await pages.http.get(path)
    assert page.status_code == 404 and "approvers enrol" in page.text
    assert (await pages.http.get(pages.signin.enrol_path("made-up"))).status_code == 404


@pytest.mark.parametrize("bend", ["unverified", "origin", "headerless", "other_link", "long_id"])
async def test_a_bent_enrolment_saves_nothing_and_leaves_the_link_usable(pages: Pages, bend: str) -> None:
    path = await pages.enrol_link()
    options = await pages.options(path)
    person = SoftAuthenticator("http://localhost:1" if bend == "origin" else ORIGIN, verified=bend != "unverified")
    if bend == "long_id":  # longer than WebAuthn allows (1023 bytes)
        person.credential_id = bytes(1024)
    if bend == "other_link":  # the challenge of another person's link
        options["challenge"] = (await pages.options(await pages.enrol_link("erin")))["challenge"]
    answer = await pages.http.post(path, data={REGISTRATION_FIELD: person.create(options)},
                                   headers={} if bend == "headerless" else OWN)
    assert answer.status_code in (400, 403)
    assert await pages.store.credentials() == []
    assert (await pages.enrol(SoftAuthenticator(ORIGIN), path)).status_code == 200


async def test_the_database_holds_no_enrolment_token(pages: Pages) -> None:
    from sqlalchemy import select

    from integrations_mcp.state.schema import passkey_enrolments

    path = await pages.enrol_link()
    token = path.rsplit("/", 1)[1]
    async with pages.store.state.begin() as conn:
        rows = (await conn.execute(select(passkey_enrolments))).mappings().all()
    assert rows and all(token not in json.dumps(dict(row), default=str) for row in rows)


@pytest.mark.parametrize(("origin", "rp_id"), [("https://approvals.example.com", "approvals.example.com"),
                                               ("http://localhost:8000", "localhost"),
                                               ("http://127.0.0.1:8000", None), ("http://[::1]:8000", None),
                                               ("http://approvals.example.com", None), ("https://10.0.0.5", None)])
def test_passkeys_need_a_domain_in_a_secure_context(origin: str, rp_id: str | None) -> None:
    found = relying_party(origin)
    assert (found and found.rp_id) == rp_id
