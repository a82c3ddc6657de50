"""A person fills the secure form in a real browser (Debian chromium driven by Playwright, loopback only)."""

from __future__ import annotations

import anyio
import pytest
from playwright.async_api import expect

from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import FormField, SecureFormStore
from tests.browser import needs_chromium, open_page

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]

PURPOSE = {"vendor": "cxengage", "type": "salesforce", "tenant_id": "t-1", "integration_id": ""}
FIELDS = [FormField("password", "Salesforce password"), FormField("securityToken", "Security token"),
          FormField("consumerSecret", "Consumer secret", required=False)]
TYPED = {"password": "CANARY-secret-9f3a p@ss w0rd!", "securityToken": "tok-<&>\"'-1"}


async def test_person_fills_the_form_in_a_browser_and_the_tool_takes_exactly_the_typed_values() -> None:
    store = SecureFormStore()
    server = SecureFormServer(store)
    try:
        form, url = await server.create_form(owner="session-1", subject="Salesforce integration 'CRM' on tenant t-1",
                                             fields=FIELDS, purpose=PURPOSE)
        assert url.startswith("http://127.0.0.1:")
        with anyio.fail_after(20):
            async with open_page(url) as page:
                await expect(page.get_by_role("heading", level=1)).to_have_text(form.subject)
                await page.get_by_label("Salesforce password", exact=True).fill(TYPED["password"])
                await page.get_by_label("Security token", exact=True).fill(TYPED["securityToken"])
                await page.get_by_role("button", name="Save").click()
                await expect(page.get_by_role("heading", level=1)).to_have_text(
                    "Saved — return to your assistant")
                assert TYPED["password"] not in await page.content()
        status = store.status(form.id, owner="session-1")
        assert status.completed and status.filled_fields == ["password", "securityToken"]
        assert store.take(form.id, owner="session-1", purpose=PURPOSE) == TYPED
    finally:
        await server.aclose()


async def test_browser_enforces_required_fields_before_anything_is_sent() -> None:
    store = SecureFormStore()
    server = SecureFormServer(store)
    try:
        form, url = await server.create_form(owner="session-1", subject="Salesforce", fields=FIELDS, purpose=PURPOSE)
        with anyio.fail_after(20):
            async with open_page(url) as page:
                await page.get_by_label("Salesforce password", exact=True).fill(TYPED["password"])
                await page.get_by_role("button", name="Save").click()
                token = page.get_by_label("Security token", exact=True)
                assert await token.evaluate("el => el.validity.valueMissing")
                await expect(page.get_by_role("heading", level=1)).to_have_text("Salesforce")
        assert not store.status(form.id, owner="session-1").completed
    finally:
        await server.aclose()
