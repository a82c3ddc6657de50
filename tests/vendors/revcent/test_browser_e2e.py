"""End to end as a new user meets it: `integrations-mcp serve --sandbox` over stdio, an MCP client creates a
RevCent secure form, and a person fills it in headless Chromium (Debian's, driven by Playwright). A page on
another origin that posts to the form, even with the form's own anti-forgery token, is refused."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, read_form
from tests.browser import needs_chromium, open_page

CANARY = "CANARY-revcent-browser-5e1f"

pytestmark = [pytest.mark.anyio, needs_chromium]


class Sandbox:
    def __init__(self, client: Client) -> None:
        self.client, self.outputs = client, []

    async def call(self, tool: str, arguments: dict) -> dict:
        result = await self.client.call_tool(tool, arguments)
        self.outputs.append(result.model_dump_json())
        assert not result.is_error, result.content[0].text
        return result.structured_content or {}

    async def tax_form(self) -> tuple[str, dict]:
        sites = (await self.call("GetSiteThirdPartyIntegrations", {}))["results"]
        tax = next(site for site in sites if site["integration_type"] == "tax")
        return tax["id"], await self.call("CreateSecureForm", {"site_third_party_integration_id": tax["id"]})


@asynccontextmanager
async def sandbox_server(errlog: object) -> AsyncIterator[Sandbox]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
    env["INTEGRATIONS_LOG_LEVEL"] = "DEBUG"
    params = StdioServerParameters(command=sys.executable, args=["-m", "integrations_mcp", "serve", "--sandbox"],
                                   env=env)
    async with Client(stdio_client(params, errlog=errlog)) as client:
        yield Sandbox(client)


async def test_person_completes_the_revcent_form_in_chromium_and_the_create_uses_it() -> None:
    with tempfile.TemporaryFile("w+") as errlog:
        with anyio.fail_after(90):
            async with sandbox_server(errlog) as box:
                site_id, form = await box.tax_form()
                async with open_page(form["form_url"]) as page:
                    fields = page.locator("input[type=password]")
                    assert await fields.count() >= 1
                    for i in range(await fields.count()):
                        await fields.nth(i).fill(f"{CANARY}-{i}")
                    await page.get_by_role("button", name="Save").click()
                    await expect(page.get_by_role("heading", level=1)).to_have_text("Saved")
                    assert CANARY not in await page.content()
                checked = await box.call("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
                assert checked["completed"] is True
                created = await box.call("CreateUserThirdPartyIntegration", {
                    "name": "Browser tax", "site_third_party_integration": site_id,
                    "secure_form_id": form["secure_form_id"]})
                assert created["mismatches"] == []
                assert created["verified"]["readiness"]["credentials_saved"] is True
        errlog.seek(0)
        stderr = errlog.read()
    assert "CreateSecureForm" in stderr  # the server's debug log was really captured
    for output in [*box.outputs, stderr]:
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

    with tempfile.TemporaryFile("w+") as errlog:
        with anyio.fail_after(90):
            async with sandbox_server(errlog) as box:
                _, form = await box.tax_form()
                async with httpx2.AsyncClient() as http:  # the attacker read the page, token included
                    hidden = read_form((await http.get(form["form_url"], headers=BROWSER_NAVIGATION)).text).hidden
                assert hidden
                with serve_loopback(_auto_submitting_page(form["form_url"], hidden)) as attacker:
                    async with open_page(f"http://{attacker_host}:{attacker.port}/") as page:
                        await expect(page.get_by_role("heading", level=1)).to_have_text("Refused")
                        await expect(page.get_by_role("alert")).to_contain_text(
                            "Open the link your assistant gave you")
                checked = await box.call("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
                assert checked["completed"] is False
