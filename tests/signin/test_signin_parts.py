"""The sign-in parts in one process, over a real ASGI path: the signed cookies, the approval page's gate with the
real OIDC method (its session cookie, no issuer needed), the OIDC endpoints' refusals of what a person's browser
never sends, the approval record naming who decided, and the client secret kept out of every output."""

from __future__ import annotations

import secrets

import httpx2
import pytest
from starlette.applications import Starlette

from integrations_mcp.approvals.kinds import ChangeKind
from integrations_mcp.approvals.page import approval_routes
from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import ApprovalState, ApprovalStore
from integrations_mcp.guardrails.outputs import clean_text, forget_configured_secrets
from integrations_mcp.pages.signin.cookies import CookieSigner
from integrations_mcp.pages.signin.gate import Gate
from integrations_mcp.pages.signin.oidc import FLOW_COOKIE, SESSION_COOKIE, OidcSignIn
from integrations_mcp.pages.signin.policy import ApproverPolicy
from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT, read_form
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import load_settings
from integrations_mcp.state.store import StateStore
from tests.conftest import FakeClock
from tests.test_cli import run_cli

pytestmark = pytest.mark.anyio

ISSUER, CLIENT = "http://127.0.0.1:9", "pages"
ORIGIN = "http://testserver"
PREFIX = "/secure-forms"
SUMMARY = Question("Turn off the CxEngage integration 'Support CRM'?", ["Active: true → false"]).to_json()


async def never_verifies(token: str) -> None:
    raise AssertionError("no ID token is verified in these tests")


def method(key: bytes) -> OidcSignIn:
    return OidcSignIn(issuer=ISSUER, client_id=CLIENT, client_secret="s", verify_id_token=never_verifies, key=key,
                      timeout=2, reserved=frozenset({"ci-bot"}))


def session_cookie(key: bytes, sub: str, roles: list[str], *, iss: str = ISSUER, aud: str = CLIENT) -> str:
    return CookieSigner(key, "oidc-session").seal({"iss": iss, "aud": aud, "sub": sub, "name": sub.title(),
                                                   "roles": roles}, 600)


@pytest.fixture
async def state():
    store = StateStore("sqlite+aiosqlite:///:memory:")
    yield store
    await store.close()


async def page_with_gate(state: StateStore, key: bytes, *, separate: frozenset[ChangeKind] = frozenset()):
    store = ApprovalStore(state=state)
    gate = Gate([method(key)], ApproverPolicy(separate=separate))
    app = Starlette(routes=[*approval_routes(store, PREFIX, gate=gate), *gate.routes(PREFIX, lambda: None)])
    approval = await store.create(tool="EditCxEngageIntegration", target="x", summary=SUMMARY, digest="d",
                                  owner="session", on_page=True, kinds=frozenset({ChangeKind.DISABLE}),
                                  requested_by="alice")
    return store, app, approval.page_id


async def post_decision(app: Starlette, page_id: str, cookie: str | None) -> httpx2.Response:
    url = f"{ORIGIN}{PREFIX}/approvals/{page_id}"
    cookies = {"cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        page = await http.get(url, headers=cookies)
        data = {**read_form(page.text).hidden, "decision": "approve"}
        return await http.post(url, data=data, headers={**BROWSER_SUBMIT, "origin": ORIGIN, **cookies})


def test_cookies_are_sealed_per_key_and_use_and_expire() -> None:
    key, clock = secrets.token_bytes(32), FakeClock()
    signer = CookieSigner(key, "oidc-session", clock=clock)
    sealed = signer.seal({"sub": "bob"}, 60)
    assert signer.open(sealed)["sub"] == "bob"
    assert CookieSigner(key, "oidc-flow", clock=clock).open(sealed) is None  # another use
    assert CookieSigner(secrets.token_bytes(32), "oidc-session", clock=clock).open(sealed) is None  # another key
    body, mac = sealed.split(".")
    for bad in (f"{body}x.{mac}", f"{body}.{mac[:-2]}", "", "a.b.c", "x" * 5000, f"{body}.{mac}.{mac}"):
        assert signer.open(bad) is None
    clock.now += 61
    assert signer.open(sealed) is None


async def test_the_gate_counts_only_a_signed_in_person_the_policy_allows(state: StateStore) -> None:
    key = secrets.token_bytes(32)
    store, app, page_id = await page_with_gate(state, key, separate=frozenset({ChangeKind.DISABLE}))
    attempts = {"no cookie": (None, 401), "another key": (session_cookie(secrets.token_bytes(32), "bob", [
        "integrations:approve"]), 401), "another issuer": (session_cookie(key, "bob", ["integrations:approve"],
                                                                        iss="http://other.test"), 401),
                "another client": (session_cookie(key, "bob", ["integrations:approve"], aud="other"), 401),
                "a static token's name": (session_cookie(key, "ci-bot", ["integrations:approve"]), 401),
                "no role": (session_cookie(key, "carol", []), 403),
                "the requester, separated": (session_cookie(key, "alice", ["integrations:approve"]), 403)}
    for name, (cookie, status) in attempts.items():
        answer = await post_decision(app, page_id, cookie)
        assert answer.status_code == status, name
        assert "Approved" not in answer.text
        assert (await store.lookup(page_id)).state == ApprovalState.PENDING, name
    answer = await post_decision(app, page_id, session_cookie(key, "bob", ["integrations:approve"]))
    assert answer.status_code == 200 and "Approved" in answer.text
    assert await store.decider(store.handle(page_id)) == ("bob", "signed in (oidc)")


async def test_the_page_tells_a_person_how_to_sign_in(state: StateStore) -> None:
    key = secrets.token_bytes(32)
    _, app, page_id = await page_with_gate(state, key)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        page = await http.get(f"{ORIGIN}{PREFIX}/approvals/{page_id}")
        assert f'href="{PREFIX}/signin/oidc/start?return_to=%2Fsecure-forms%2Fapprovals%2F{page_id}"' in page.text
        signed = await http.get(f"{ORIGIN}{PREFIX}/approvals/{page_id}", headers={
            "cookie": f"{SESSION_COOKIE}={session_cookie(key, 'bob', [])}"})
        assert "Signed in as <strong>Bob</strong>" in signed.text and "signout" in signed.text
        assert "Sign in below before you decide" in page.text and "Sign in below" not in signed.text


@pytest.mark.parametrize("return_to", ["//evil.example/x", "https://evil.example/", "/elsewhere/x",
                                       f"{PREFIX}/signin/oidc/callback", f"{PREFIX}/../x", "", f"{PREFIX}/a b"])
async def test_sign_in_starts_only_for_the_pages_own_paths(state: StateStore, return_to: str) -> None:
    _, app, _ = await page_with_gate(state, secrets.token_bytes(32))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        answer = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/start", params={"return_to": return_to})
    assert answer.status_code == 400 and "location" not in answer.headers


async def test_an_unreachable_issuer_is_a_page_saying_so(state: StateStore) -> None:
    _, app, page_id = await page_with_gate(state, secrets.token_bytes(32))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        answer = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/start",
                                params={"return_to": f"{PREFIX}/approvals/{page_id}"})
    assert answer.status_code == 502 and "cannot be reached" in answer.text


async def test_a_callback_without_this_browsers_sign_in_is_refused(state: StateStore) -> None:
    key = secrets.token_bytes(32)
    _, app, _ = await page_with_gate(state, key)
    flow = CookieSigner(key, "oidc-flow").seal({"state": "s1", "nonce": "n", "verifier": "v",
                                                "return_to": f"{PREFIX}/approvals/x"}, 600)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        for cookie, query in ((None, {"code": "c", "state": "s1"}), (flow, {"code": "c", "state": "s2"}),
                              (flow + "x", {"code": "c", "state": "s1"})):
            headers = {"cookie": f"{FLOW_COOKIE}={cookie}"} if cookie else {}
            answer = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/callback", params=query, headers=headers)
            assert answer.status_code == 400 and "started too long ago, or in another browser" in answer.text
            assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
        denied = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/callback",
                                params={"error": "access_denied<script>", "state": "s1"},
                                headers={"cookie": f"{FLOW_COOKIE}={flow}"})
        assert denied.status_code == 403 and "access_denied" in denied.text and "<script>" not in denied.text


async def test_the_approval_records_its_kinds_requester_and_decider(state: StateStore) -> None:
    store = ApprovalStore(state=state)
    approval = await store.create(tool="t", target="x", summary=SUMMARY, digest="d", owner="o", on_page=True,
                                  kinds=frozenset({ChangeKind.CREDENTIALS, ChangeKind.OVERWRITE}),
                                  requested_by="alice")
    found = await store.lookup(approval.page_id)
    assert found.kinds == {ChangeKind.CREDENTIALS, ChangeKind.OVERWRITE} and found.requested_by == "alice"
    assert await store.decider(approval.id) == (None, None)
    await store.decide(approval.page_id, approval.csrf_token, True, by="bob", how="signed in (oidc)")
    assert await store.decider(approval.id) == ("bob", "signed in (oidc)")
    assert store.purpose(approval.id).startswith("approval:") and approval.id not in store.purpose(approval.id)


CLIENT_SECRET = "canary-oidc-client-secret-4f1e9b7a2c"
OIDC_ENV = {"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_OAUTH_ISSUER": ISSUER,
            "INTEGRATIONS_OAUTH_JWKS_URL": f"{ISSUER}/jwks", "INTEGRATIONS_SIGNIN": "oidc",
            "INTEGRATIONS_OIDC_CLIENT_ID": CLIENT, "INTEGRATIONS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:"}


def test_the_client_secret_is_hidden_in_the_config_report(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "config", "--sandbox", **OIDC_ENV)
    assert code == 0, err
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines()[1:-1]}
    assert rows["INTEGRATIONS_OIDC_CLIENT_SECRET"] == ["env", "<set, hidden>"]
    assert rows["INTEGRATIONS_SIGNIN"] == ["env", "oidc"]
    assert rows["INTEGRATIONS_APPROVER_ROLE"] == ["default", "integrations:approve"]
    assert CLIENT_SECRET not in out + err


def test_the_client_secret_joins_the_output_filter() -> None:
    settings = load_settings({**OIDC_ENV, "CXENGAGE_API_KEY": "k" * 20, "CXENGAGE_API_SECRET": "s" * 20})
    try:
        server = build_server(settings)
        assert CLIENT_SECRET not in clean_text(f"the client secret is {CLIENT_SECRET}")
        assert CLIENT_SECRET not in repr(settings) and CLIENT_SECRET not in repr(server.secure_forms.gate.methods)
    finally:
        forget_configured_secrets()
