"""Approvers sign in with OpenID Connect (issue 18 item 4), tested with real components: panva's certified
`oidc-provider` (Node, tests/signin/provider.py), two `serve --transport http` replicas with OAuth on one real
PostgreSQL, the CxEngage emulator on loopback, people in real Chromium signing in at the provider's login page, and a
shell agent with httpx. The MCP client's access tokens come from the same issuer (its signing key)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import psycopg
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult
from playwright.async_api import expect

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.pages.signin.cookies import CookieSigner
from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT, read_form
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    CxEngageEmulator,
)
from tests.browser import needs_chromium, open_page
from tests.harness import Served, Transcript, free_port, serve_process
from tests.server.test_http_auth import session
from tests.signin.provider import ACCOUNTS, CLIENT_ID, CLIENT_SECRET, Provider, oidc_provider
from tests.state.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]

AUDIENCE = "http://integrations.test/mcp"  # both replicas' resource name
DEACTIVATE = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}
APPROVAL_LINK = re.compile(r"(http://\S+/approvals/[A-Za-z0-9_-]+)")
SIGN_IN = "Sign in with your organisation's account"


@dataclass
class Deployment:
    provider: Provider
    a: Served
    b: Served
    emu: CxEngageEmulator

    def token(self, sub: str) -> str:
        return self.provider.access_token(AUDIENCE, sub)


def _database(server: PostgresServer) -> str:
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(scope="module")
def deployment(postgres_server: PostgresServer) -> Iterator[Deployment]:
    ports = free_port(), free_port()
    callbacks = [f"http://127.0.0.1:{p}/secure-forms/signin/oidc/callback" for p in ports]
    emu = CxEngageEmulator()
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_loopback(emu.app))
        provider = stack.enter_context(oidc_provider(callbacks))
        env = {"CXENGAGE_API_KEY": SANDBOX_API_KEY, "CXENGAGE_API_SECRET": SANDBOX_API_SECRET,
               "CXENGAGE_BASE_URL": vendor.url, "CXENGAGE_TENANT_ID": SANDBOX_TENANT_ID,
               "INTEGRATIONS_OAUTH_ISSUER": provider.issuer, "INTEGRATIONS_OAUTH_JWKS_URL": provider.jwks_url,
               "INTEGRATIONS_OAUTH_AUDIENCE": AUDIENCE, "INTEGRATIONS_SIGNIN": "oidc",
               "INTEGRATIONS_OIDC_CLIENT_ID": CLIENT_ID, "INTEGRATIONS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
               "INTEGRATIONS_SEPARATE_APPROVER": "disable",
               "INTEGRATIONS_STATE_URL": _database(postgres_server),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32), "INTEGRATIONS_LOG_LEVEL": "DEBUG",
               "INTEGRATIONS_FORM_WAIT_SECONDS": "3"}  # a page handed to a client nobody decides on
        a = stack.enter_context(serve_process(env=env, port=ports[0]))
        b = stack.enter_context(serve_process(env=env, port=ports[1]))
        yield Deployment(provider, a, b, emu)


def on(served: Served, link: str) -> str:
    """The same page, through the given replica."""
    return served.base + link[link.index("/", len("http://")):]


async def ask(deployment: Deployment, served: Served, sub: str, needle: str = "approval",
              **arguments: Any) -> tuple[str, str, str]:
    """A change asked for over MCP: the refusal, its approval page and its approval id."""
    async with session(served.url, deployment.token(sub)) as client:
        refusal = await client.refused("EditCxEngageIntegration", needle, **arguments)
    return refusal, APPROVAL_LINK.search(refusal).group(1), re.search(r"approval_id=([A-Za-z0-9_-]+)",
                                                                      refusal).group(1)


async def sign_in(page: Any, user: str) -> None:
    """As a person does on a page that needs them signed in: the link, the provider's login and consent pages, and
    back."""
    await page.get_by_role("link", name=SIGN_IN).click()
    await page.locator("input[name=login]").fill(user)
    await page.locator("input[name=password]").fill("any password")
    await page.get_by_role("button", name="Sign-in").click()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator(".signin")).to_contain_text(f"Signed in as {ACCOUNTS[user]['name']}")


async def decide_signed_in(url: str, user: str | None, button: str = "Approve") -> tuple[str, str, list[dict]]:
    """Open the page in a fresh browser, sign in as `user` (None: not at all) and press `button`: the page's h1,
    its text and the browser's cookies."""
    async with open_page(url) as page:
        page.set_default_timeout(15000)
        if user is not None:
            await sign_in(page, user)
        await page.get_by_role("button", name=button).click()
        await page.wait_for_load_state()
        heading = await page.get_by_role("heading", level=1).inner_text()
        return heading, await page.locator("main").inner_text(), await page.context.cookies()


async def still_pending(deployment: Deployment, sub: str, approval_id: str, **arguments: Any) -> None:
    async with session(deployment.b.url, deployment.token(sub)) as client:
        await client.refused("EditCxEngageIntegration", "has not approved this change yet", approval_id=approval_id,
                             **arguments)


async def test_an_approver_signs_in_and_the_write_through_the_other_replica_names_them(
        deployment: Deployment) -> None:
    with anyio.fail_after(180):
        refusal, link, approval_id = await ask(deployment, deployment.a, "alice", **DEACTIVATE)
        assert "must sign in on that page and approve there themselves" in refusal
        # Not signed in: not counted, and the page says how to sign in.
        heading, text, _ = await decide_signed_in(link, None)
        assert "not counted because you are not signed in" in text and SIGN_IN in text
        # carol signs in but neither asked nor holds the approver role.
        heading, text, _ = await decide_signed_in(link, "carol")
        assert "Carol Reader, who may not decide this change" in text and "integrations:approve" in text
        # alice asked: turning an integration off needs a second person (INTEGRATIONS_SEPARATE_APPROVER=disable).
        heading, text, _ = await decide_signed_in(link, "alice")
        assert "needs a second person" in text
        await still_pending(deployment, "alice", approval_id, **DEACTIVATE)
        # bob holds the role: signed in on replica A, decided there; the write is retried through replica B.
        heading, _, _ = await decide_signed_in(link, "bob")
        assert heading == "Approved — return to your assistant"
        async with session(deployment.b.url, deployment.token("alice")) as alice:
            done = await alice.ok("EditCxEngageIntegration", approval_id=approval_id, **DEACTIVATE)
            assert done["verified"]["integration"]["active"] is False
            journal = await alice.ok("GetIntegrationChanges", limit=5)
            await alice.ok("EditCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID, active=True)
    latest = next(c for c in journal["results"] if c["outcome"].startswith("written"))
    assert latest["principal"] == "alice"
    assert latest["approved"] == "bob on the approval page, signed in (oidc)"


async def test_a_client_that_answers_its_own_question_is_handed_the_page_for_the_person(deployment: Deployment) -> None:
    """With sign-in on, an answer in the client proves no one: an agent holding the MCP token can run a client that
    declares elicitation and says yes. So the client is handed the page for the person (URL elicitation, both eras)
    instead of a question; its yes and the agent's shell POST on that page count for nothing, the model never sees
    the link, and only the approver's signed-in decision lets the retry write."""
    asked: list[ElicitRequestParams] = []
    shell: list[int] = []

    async def says_yes(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        if isinstance(params, ElicitRequestURLParams):  # the agent's shell tries the page it was not given
            async with httpx2.AsyncClient(timeout=10) as http:
                page = await http.get(params.url)
                posted = await http.post(params.url, data={**read_form(page.text).hidden, "decision": "approve"},
                                         headers=BROWSER_SUBMIT)
                shell.append(posted.status_code)
            return ElicitResult(action="accept")
        return ElicitResult(action="accept", content={"approve": True})

    asked_by: dict[str, tuple[str, str]] = {}  # mode -> (the page handed over, the refusal the model got)
    with anyio.fail_after(180):
        for mode in ("legacy", "auto"):
            async with httpx2.AsyncClient(headers={"authorization": f"Bearer {deployment.token('alice')}"},
                                          timeout=60) as http, \
                    Client(streamable_http_client(deployment.a.url, http_client=http), mode=mode,
                           elicitation_callback=says_yes) as client:
                t = Transcript(client=client)
                refusal = await t.refused("EditCxEngageIntegration", "has not decided on the approval page yet",
                                          **DEACTIVATE)
            url = asked[-1].url
            assert isinstance(asked[-1], ElicitRequestURLParams) and shell[-1] == 401
            assert "/approvals/" not in refusal and url.rsplit("/", 1)[1] not in refusal
            asked_by[mode] = url, refusal
        assert all(isinstance(p, ElicitRequestURLParams) for p in asked) and len(asked) == 2
        # 2026-07-28 has no MCP session: the approval is the principal's, so alice's next client retries it.
        url, refusal = asked_by["auto"]
        approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", refusal).group(1)
        heading, _, _ = await decide_signed_in(on(deployment.b, url), "bob")  # the person, signed in
        assert heading == "Approved — return to your assistant"
        async with session(deployment.a.url, deployment.token("alice")) as alice:
            done = await alice.ok("EditCxEngageIntegration", approval_id=approval_id, **DEACTIVATE)
            assert done["verified"]["integration"]["active"] is False
            journal = await alice.ok("GetIntegrationChanges", limit=5)
            await alice.ok("EditCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID, active=True)
    latest = next(c for c in journal["results"] if c["outcome"].startswith("written"))
    assert latest["approved"] == "bob on the approval page, signed in (oidc)"


async def test_the_requester_approves_their_own_change_signed_in_on_another_replica(deployment: Deployment) -> None:
    """A rename of an active integration (an overwrite, not a listed kind): alice, who asked through A, signs in on
    B's page and approves; the cookie B set is accepted by A's page too (one key, derived from the state key)."""
    rename = {"integration_id": SANDBOX_INTEGRATION_ID, "name": "Support CRM (renamed)"}
    with anyio.fail_after(120):
        _, link, approval_id = await ask(deployment, deployment.a, "alice", **rename)
        heading, _, cookies = await decide_signed_in(on(deployment.b, link), "alice")
        assert heading == "Approved — return to your assistant"
        session_cookie = next(c for c in cookies if c["name"] == "imcp_signin")
        assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"
        assert session_cookie["path"] == "/secure-forms"
        async with session(deployment.a.url, deployment.token("alice")) as alice:
            await alice.ok("EditCxEngageIntegration", approval_id=approval_id, **rename)
            journal = await alice.ok("GetIntegrationChanges", limit=5)
    latest = next(c for c in journal["results"] if c["outcome"].startswith("written"))
    assert latest["approved"] == "alice on the approval page, signed in (oidc)"


def _forged(payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{body}.{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"


async def test_a_shell_agent_gets_no_approval(deployment: Deployment) -> None:
    """An agent with a shell has the link and forges a browser's headers; without a person's sign-in nothing it
    sends counts: no cookie, a forged cookie, a real one altered, one sealed with another deployment's key, and a
    header-less POST."""
    with anyio.fail_after(120):
        _, link, approval_id = await ask(deployment, deployment.a, "alice", **DEACTIVATE)
        # carol's real session, to alter
        _, _, cookies = await decide_signed_in(link, "carol")
        real = next(c["value"] for c in cookies if c["name"] == "imcp_signin")
        body, mac = real.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        elevated = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "bob", "roles": [
            "integrations:approve"]}).encode()).decode().rstrip("=")
        bob = {**claims, "sub": "bob", "name": "Bob", "roles": ["integrations:approve"]}
        other_key = CookieSigner(secrets.token_bytes(32), "oidc-session").seal(bob, 600)
        attempts = {"no cookie": None, "forged": _forged(bob), "altered": f"{elevated}.{mac}",
                    "another key": other_key, "carol's own": real}
        async with httpx2.AsyncClient(timeout=10) as http:
            for name, cookie in attempts.items():
                for url in (link, on(deployment.b, link)):
                    headers = {"cookie": f"imcp_signin={cookie}"} if cookie else {}
                    page = await http.get(url, headers=headers)
                    data = {**read_form(page.text).hidden, "decision": "approve"}
                    origin = url[:url.index("/", len("http://"))]
                    answer = await http.post(url, data=data, headers={**BROWSER_SUBMIT, "origin": origin,
                                                                      **headers})
                    assert answer.status_code in (401, 403), (name, answer.status_code)
                    assert "Approved" not in answer.text, name
            headerless = await http.post(link, data=data, headers={"cookie": f"imcp_signin={real}"})
            assert headerless.status_code == 403 and "not sent from the approval page" in headerless.text
        await still_pending(deployment, "alice", approval_id, **DEACTIVATE)
    for served in (deployment.a, deployment.b):
        log = served.log()
        assert CLIENT_SECRET not in log and real not in log and mac not in log


async def fill_and_save(page: Any) -> None:
    fields = page.locator("input[type=password]")
    for i in range(await fields.count()):
        await fields.nth(i).fill(f"typed-secret-{i}")
    await page.get_by_role("button", name="Save").click()


async def test_a_secure_form_counts_only_from_a_signed_in_person(deployment: Deployment) -> None:
    with anyio.fail_after(120):
        async with session(deployment.a.url, deployment.token("alice")) as alice:
            form = await alice.ok("CreateCxEngageSecureForm", type="salesforce")
        url = form["form_url"]
        async with open_page(url) as page:
            page.set_default_timeout(15000)
            await fill_and_save(page)
            await expect(page.get_by_role("alert")).to_contain_text("not signed in")
            await sign_in(page, "carol")  # neither asked for the form nor holds the approver role
            await fill_and_save(page)
            await expect(page.get_by_role("alert")).to_contain_text("Carol Reader, who may not decide")
            await page.get_by_role("link", name="Sign out").click()
            await sign_in(page, "alice")
            await fill_and_save(page)
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Saved")
        create = {"name": "Signed-in CRM", "type": "salesforce", "secure_form_id": form["secure_form_id"],
                  "properties": {"username": "sf@example.invalid", "consumerKey": "ck-123"}}
        async with session(deployment.b.url, deployment.token("alice")) as alice:
            created = await alice.ok("CreateCxEngageIntegration", **create)
    saved = deployment.emu.integrations[SANDBOX_TENANT_ID][created["verified"]["integration"]["id"]]
    assert "typed-secret-0" in json.dumps(saved.properties)
