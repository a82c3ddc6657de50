"""The approval page in real Chromium: the person sees the change and approves or rejects it; a page on another
origin that posts the decision (even with the page's own token) is refused."""

from __future__ import annotations

from html import escape

import anyio
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from integrations_mcp.approvals.page import CSRF_FIELD, approval_routes
from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import ApprovalState, ApprovalStore
from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.server import SecureFormServer
from tests.browser import needs_chromium, open_page

pytestmark = [pytest.mark.anyio, needs_chromium]

TITLE = "Replace saved settings of the RevCent tax integration 'Tax main'?"
SUMMARY = Question(TITLE, ["Tax settings: Mode: “gross” → “net”"], ["These settings may drive tax profiles."]).to_json()


async def approval_page() -> tuple[SecureFormServer, ApprovalStore, str, str]:
    store = ApprovalStore()
    server = SecureFormServer()
    server.add_pages(lambda prefix, public: approval_routes(store, prefix, public))
    approval = await store.create(tool="EditUserThirdPartyIntegration", target="the RevCent integration 'Tax main'",
                            summary=SUMMARY, digest="d", owner="session-1", on_page=True)
    return server, store, approval.page_id, await server.page_url(f"approvals/{approval.page_id}")


@pytest.mark.parametrize(("button", "state", "heading"), [
    ("Approve", ApprovalState.APPROVED, "Approved — return to your assistant"),
    ("Reject", ApprovalState.REJECTED, "Rejected — nothing was changed"),
])
async def test_the_person_decides_in_the_browser(button: str, state: ApprovalState, heading: str) -> None:
    server, store, page_id, url = await approval_page()
    try:
        with anyio.fail_after(30):
            async with open_page(url) as page:
                await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
                await expect(page.get_by_role("listitem")).to_contain_text(["Tax settings: Mode: “gross” → “net”"])
                await page.get_by_role("button", name=button).click()
                await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert (await store.lookup(page_id)).state == state
    finally:
        await server.aclose()


async def test_a_page_on_another_origin_cannot_approve() -> None:
    server, store, page_id, url = await approval_page()
    token = (await store.lookup(page_id)).csrf_token

    async def attacker(request: object) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><html><body onload="document.forms[0].submit()">'
                            f'<form method="post" action="{escape(url)}">'
                            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'
                            '<input type="hidden" name="decision" value="approve"></form></body></html>')

    try:
        with serve_loopback(Starlette(routes=[Route("/", attacker)])) as other, anyio.fail_after(30):
            async with open_page(f"http://localhost:{other.port}/") as page:
                await expect(page.get_by_role("heading", level=1)).to_have_text("Not counted")
        assert (await store.lookup(page_id)).state == ApprovalState.PENDING
    finally:
        await server.aclose()
