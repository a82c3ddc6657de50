"""End to end as a new user meets it: `integrations-mcp serve` over stdio, an MCP client creates a secure form, and a
person fills it in headless Chromium (Debian's, driven by Playwright), on each credential path: the server's own page
(`--sandbox`, REVCENT_CREDENTIALS_VIA's default server-form, against the documents' schemas) and RevCent's page
(revcent-form, against an emulator taking the agent guide's secure_form_id). A page on another origin that posts to
the form, even with the form's own anti-forgery token, is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html import escape

import anyio
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, read_form
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.contract import GUIDE_CONTRACT
from tests.browser import needs_chromium, open_page, save_every_secret
from tests.harness import Stdio, serve_stdio

CANARY = "CANARY-revcent-browser-5e1f"

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]


def sandbox_server() -> AbstractAsyncContextManager[Stdio]:
    return serve_stdio("--sandbox", env={"INTEGRATIONS_LOG_LEVEL": "DEBUG"})


@asynccontextmanager
async def revcent_form_server() -> AsyncIterator[Stdio]:
    """The revcent-form path: RevCent's own form page, against an emulator that takes secure_form_id."""
    with serve_loopback(RevCentEmulator(contract=GUIDE_CONTRACT).app) as vendor:
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "REVCENT_CREDENTIALS_VIA": "revcent-form", "INTEGRATIONS_LOG_LEVEL": "DEBUG"}
        async with serve_stdio(env=env) as box:
            yield box


SERVERS = {"server-form": sandbox_server, "revcent-form": revcent_form_server}


async def tax_form(box: Stdio) -> tuple[str, dict]:
    sites = (await box.ok("GetSiteThirdPartyIntegrations", {}))["results"]
    tax = next(site for site in sites if site["integration_type"] == "tax")
    return tax["id"], await box.ok("CreateSecureForm", {"site_third_party_integration_id": tax["id"]})


@pytest.mark.parametrize("via", SERVERS)
async def test_person_completes_the_form_in_chromium_and_the_create_uses_it(via: str) -> None:
    with anyio.fail_after(90):
        async with SERVERS[via]() as box:
            site_id, form = await tax_form(box)
            async with open_page(form["form_url"]) as page:
                await save_every_secret(page, CANARY)
                assert CANARY not in await page.content()
            checked = await box.ok("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
            assert checked["completed"] is True
            created = await box.ok("CreateUserThirdPartyIntegration", {
                "name": "Browser tax", "site_third_party_integration": site_id,
                "secure_form_id": form["secure_form_id"]})
            assert created["mismatches"] == []
            assert created["verified"]["readiness"]["credentials_saved"] is True
    assert "GetUserThirdPartyIntegration" in box.stderr  # the server's debug log was really captured
    for output in [*box.seen, box.stderr]:
        assert CANARY not in output


def _auto_submitting_page(form_url: str, hidden: dict[str, str]) -> Starlette:
    """Another site's page that posts to the form as soon as it loads, with the form's real token."""
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items())

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><html><body onload="document.forms[0].submit()">'
                            f'<form method="post" action="{escape(form_url)}">{inputs}'
                            f'<input type="hidden" name="api_key" value="{CANARY}"></form></body></html>')

    return Starlette(routes=[Route("/", page)])


@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"], ids=["cross-site", "same-site-other-port"])
async def test_a_page_on_another_origin_cannot_complete_the_form(attacker_host: str) -> None:
    import httpx2

    with anyio.fail_after(90):
        async with sandbox_server() as box:
            _, form = await tax_form(box)
            async with httpx2.AsyncClient() as http:  # the attacker read the page, token included
                hidden = read_form((await http.get(form["form_url"], headers=BROWSER_NAVIGATION)).text).hidden
            assert hidden
            with serve_loopback(_auto_submitting_page(form["form_url"], hidden)) as attacker:
                async with open_page(f"http://{attacker_host}:{attacker.port}/") as page:
                    await expect(page.get_by_role("heading", level=1)).to_have_text("Refused")
                    await expect(page.get_by_role("alert")).to_contain_text(
                        "Open the link your assistant gave you")
            checked = await box.ok("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
            assert checked["completed"] is False
