"""A person fills the secure form in a real browser (Debian chromium driven by Playwright, loopback only)."""

from __future__ import annotations

import os

import anyio
import pytest

from integrations_mcp.guardrails.secret_forms import SecretField, SecretFormStore
from integrations_mcp.server.secret_form_page import SecretFormServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no system chromium at {CHROMIUM} (Playwright is "
                       "used with the Debian browser; it cannot download its own)"),
]

PURPOSE = {"vendor": "cxengage", "type": "salesforce", "tenant_id": "t-1", "integration_id": ""}
FIELDS = [SecretField("password", "Salesforce password"), SecretField("securityToken", "Security token"),
          SecretField("consumerSecret", "Consumer secret", required=False)]
TYPED = {"password": "CANARY-secret-9f3a p@ss w0rd!", "securityToken": "tok-<&>\"'-1"}


async def test_person_fills_the_form_in_a_browser_and_the_tool_takes_exactly_the_typed_values() -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
    store = SecretFormStore()
    server = SecretFormServer(store)
    try:
        form, url = await server.create_form(owner="session-1", subject="Salesforce integration 'CRM' on tenant t-1",
                                             fields=FIELDS, purpose=PURPOSE)
        assert url.startswith("http://127.0.0.1:")
        with anyio.fail_after(20):
            async with async_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page()
                    page.set_default_timeout(5000)
                    await page.goto(url)
                    await async_api.expect(page.get_by_role("heading", level=1)).to_have_text(form.subject)
                    await page.get_by_label("Salesforce password", exact=True).fill(TYPED["password"])
                    await page.get_by_label("Security token", exact=True).fill(TYPED["securityToken"])
                    await page.get_by_role("button", name="Save").click()
                    await async_api.expect(page.get_by_role("heading", level=1)).to_have_text(
                        "Saved — return to your assistant")
                    assert TYPED["password"] not in await page.content()
                finally:
                    await browser.close()
        status = store.status(form.id, owner="session-1")
        assert status.completed and status.filled_fields == ["password", "securityToken"]
        assert store.take(form.id, owner="session-1", purpose=PURPOSE) == TYPED
    finally:
        await server.aclose()


async def test_browser_enforces_required_fields_before_anything_is_sent() -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
    store = SecretFormStore()
    server = SecretFormServer(store)
    try:
        form, url = await server.create_form(owner="session-1", subject="Salesforce", fields=FIELDS, purpose=PURPOSE)
        with anyio.fail_after(20):
            async with async_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page()
                    page.set_default_timeout(5000)
                    await page.goto(url)
                    await page.get_by_label("Salesforce password", exact=True).fill(TYPED["password"])
                    await page.get_by_role("button", name="Save").click()
                    token = page.get_by_label("Security token", exact=True)
                    assert await token.evaluate("el => el.validity.valueMissing")
                    await async_api.expect(page.get_by_role("heading", level=1)).to_have_text("Salesforce")
                finally:
                    await browser.close()
        assert not store.status(form.id, owner="session-1").completed
    finally:
        await server.aclose()
