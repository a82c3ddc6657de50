"""Passkeys on the approval page in real Chromium with virtual authenticators (issue 18, item 4): people enrol
through the operator's one-time links, then the decision counts only with a fresh passkey assertion made for this
approval by someone the approver policy lets decide, and the approval records who. A shell agent without a passkey,
a replayed or re-targeted assertion, an expired challenge and a header-less POST count for nothing.

In process (the page listener on localhost, a file state database); the served server end to end (HTTP with static
tokens, stdio opt-in, the operator's command): test_passkey_served.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import anyio
import httpx2
import pytest
from playwright.async_api import expect

from integrations_mcp.approvals.kinds import ChangeKind
from integrations_mcp.approvals.page import approval_routes
from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import ApprovalState, ApprovalStore
from integrations_mcp.pages.signin.challenges import Challenges
from integrations_mcp.pages.signin.gate import Gate
from integrations_mcp.pages.signin.passkey import PasskeySignIn
from integrations_mcp.pages.signin.passkey_store import PasskeyStore
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import FormField
from integrations_mcp.state import StateStore
from tests.browser import needs_chromium
from tests.harness import FakeClock
from tests.signin.passkey_browser import chromium, enrol_in_browser, person_with_authenticator, press

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]

TITLE = "Turn off the CxEngage integration 'Support CRM'?"
SUMMARY = Question(TITLE, ["Active: true → false"], ["Calls stop reaching Support CRM."]).to_json()


@dataclass
class Deployment:
    pages: SecureFormServer
    approvals: ApprovalStore
    passkeys: PasskeyStore
    signin: PasskeySignIn
    clock: FakeClock  # the challenges' clock
    base: str

    async def link_for(self, subject: str, name: str) -> str:
        token = await self.passkeys.create_enrolment(subject=subject, name=name, roles=frozenset(), seconds=600)
        return f"{self.base}{self.signin.enrol_path(token)}"

    async def pending(self, requested_by: str = "dana") -> tuple[str, str]:
        """A pending approval: its page id (not the agent's approval id) and its page's link."""
        approval = await self.approvals.create(tool="EditCxEngageIntegration", target="Support CRM",
                                               summary=SUMMARY, digest="d", owner="session-1", on_page=True,
                                               kinds=frozenset({ChangeKind.DISABLE}), requested_by=requested_by)
        return approval.page_id, await self.pages.page_url(f"approvals/{approval.page_id}")

    async def state_of(self, page_id: str) -> ApprovalState:
        return (await self.approvals.lookup(page_id)).state


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    state = StateStore(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}")
    clock = FakeClock()
    passkeys = PasskeyStore(state, key=b"e" * 32)
    signin = PasskeySignIn(passkeys, Challenges(b"c" * 32, clock=clock))
    approvals = ApprovalStore(state=state)
    gate = Gate([signin])
    pages = SecureFormServer(localhost_links=True, gate=gate)
    pages.add_pages(gate.routes)
    pages.add_pages(lambda prefix, public: approval_routes(approvals, prefix, public, gate))
    base = await pages.ensure_listening()
    assert base.startswith("http://localhost:")  # WebAuthn: a domain, never 127.0.0.1
    try:
        yield Deployment(pages, approvals, passkeys, signin, clock, base)
    finally:
        await pages.aclose()
        await state.close()


def _csrf(page: str) -> str:
    return unescape(re.search(r'name="_csrf" value="([^"]*)"', page)[1])


async def test_the_person_who_asked_approves_with_their_passkey_and_others_cannot(deployment: Deployment) -> None:
    d = deployment
    approval_a, url_a = await d.pending()
    approval_b, url_b = await d.pending()
    with anyio.fail_after(90):
        async with chromium() as browser:
            dana, _ = await person_with_authenticator(browser)
            erin, _ = await person_with_authenticator(browser)
            dana_link = await d.link_for("dana", "Dana")
            await enrol_in_browser(dana, dana_link)
            await enrol_in_browser(erin, await d.link_for("erin", "Erin"))
            # The link works once.
            await dana.goto(dana_link)
            assert await dana.get_by_role("heading", level=1).text_content() == "Enrolment link used or expired"

            # Erin signs with her passkey, but neither asked for the change nor holds the approver role.
            assert await press(erin, "Approve", url=url_a) == TITLE
            assert "may not decide" in await erin.locator("p[role=alert]").first.text_content()
            assert await d.state_of(approval_a) == ApprovalState.PENDING

            # A person with no passkey for this server on this device is told what to do; nothing is sent.
            frank, _ = await person_with_authenticator(browser)
            await frank.goto(url_a)
            await frank.get_by_role("button", name="Approve").click()
            await expect(frank.locator(".passkey-error")).to_contain_text("Ask its operator to enrol you")
            assert await d.state_of(approval_a) == ApprovalState.PENDING

            # Dana (who asked) approves; her POST is kept to be replayed below.
            sent: list[str] = []
            dana.on("request", lambda r: sent.append(r.post_data) if r.method == "POST" else None)
            assert await press(dana, "Approve", url=url_a) == "Approved — return to your assistant"
            assert await d.state_of(approval_a) == ApprovalState.APPROVED
            assert await d.approvals.decider(d.approvals.handle(approval_a)) == ("dana", "signed in (passkey)")

            # An expired challenge: the page was opened, the person pressed Approve too late.
            await dana.goto(url_b)
            d.clock.now += d.signin.challenges.seconds + 1
            assert await press(dana, "Approve") == TITLE
            assert await d.state_of(approval_b) == ApprovalState.PENDING

    async with httpx2.AsyncClient() as shell:  # an agent with a shell: the links, but no passkey
        forged = {"origin": d.base, "sec-fetch-site": "same-origin",
                  "content-type": "application/x-www-form-urlencoded"}
        # Dana's real assertion, replayed at its own approval (its challenge is spent) and at another one.
        replay = dict(parse_qsl(sent[0]))
        assert replay["decision"] == "approve" and len(replay["_passkey"]) > 200
        again = await shell.post(url_a, content=urlencode(replay), headers=forged)
        assert again.status_code == 401 and "not signed in" in again.text
        csrf_b = _csrf((await shell.get(url_b)).text)
        moved = await shell.post(url_b, content=urlencode({**replay, "_csrf": csrf_b}), headers=forged)
        assert moved.status_code == 401 and "not signed in" in moved.text
        # A header-less POST, and one with the browser's headers forged but no passkey.
        bare = {"_csrf": csrf_b, "decision": "approve"}
        assert (await shell.post(url_b, data=bare)).status_code == 403
        assert (await shell.post(url_b, content=urlencode(bare), headers=forged)).status_code == 401
        junk = {**bare, "_passkey": '{"id": "x", "rawId": "x", "type": "public-key", "response": {}}'}
        assert (await shell.post(url_b, content=urlencode(junk), headers=forged)).status_code == 401
    assert await d.state_of(approval_b) == ApprovalState.PENDING


async def test_a_secure_form_keeps_values_only_from_the_person_who_asked_signed_with_a_passkey(
        deployment: Deployment) -> None:
    d = deployment
    fields = [FormField("password", "Salesforce password")]
    purpose = {"vendor": "cxengage", "type": "salesforce", "tenant_id": "t-1", "integration_id": ""}
    form, url = await d.pages.create_form(owner="session-1", subject="Salesforce", fields=fields, purpose=purpose,
                                          requested_by="dana")
    assert url.startswith("http://localhost:")
    with anyio.fail_after(90):
        async with chromium() as browser:
            dana, _ = await person_with_authenticator(browser)
            erin, _ = await person_with_authenticator(browser)
            await enrol_in_browser(dana, await d.link_for("dana", "Dana"))
            await enrol_in_browser(erin, await d.link_for("erin", "Erin"))
            await erin.goto(url)
            await erin.get_by_label("Salesforce password", exact=True).fill("typed-by-erin")
            assert await press(erin, "Save") == "Salesforce"
            assert "may not decide" in await erin.locator("p[role=alert]").first.text_content()
            assert not d.pages.store.status(form.id, owner="session-1").completed
            await dana.goto(url)
            await dana.get_by_label("Salesforce password", exact=True).fill("typed-by-dana")
            assert (await press(dana, "Save")).startswith("Saved")
    assert d.pages.store.take(form.id, owner="session-1", purpose=purpose) == {"password": "typed-by-dana"}
