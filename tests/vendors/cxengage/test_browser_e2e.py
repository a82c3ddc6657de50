"""End to end as in real use: `integrations-mcp serve` over stdio (a subprocess, debug logging on), the CxEngage
emulator on loopback, a person typing the secret into the server's own form in headless Chromium. The secret must
reach CxEngage and appear nowhere else: not in tool results, not in errors, not in the server's stderr."""

from __future__ import annotations

import anyio
import pytest
from playwright.async_api import expect

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_TENANT_ID,
    CxEngageEmulator,
)
from tests.browser import needs_chromium, open_page
from tests.harness import serve_stdio

SECRET = "CANARY-e2e-zendesk-3b9d71"

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]


async def _type_secret_in_browser(url: str, *, where: str) -> None:
    async with open_page(url) as page:
        # The person sees where the secret will be used before typing it.
        await expect(page.get_by_role("definition").first).to_have_text(where)
        await page.get_by_label("Password", exact=True).fill(SECRET)
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Saved")


async def test_secret_typed_in_the_browser_reaches_cxengage_and_nothing_else() -> None:
    emulator = CxEngageEmulator()
    with serve_loopback(emulator.app) as vendor:
        env = {"CXENGAGE_API_KEY": SANDBOX_API_KEY, "CXENGAGE_API_SECRET": SANDBOX_API_SECRET,
               "CXENGAGE_BASE_URL": vendor.url, "CXENGAGE_TENANT_ID": SANDBOX_TENANT_ID,
               "INTEGRATIONS_LOG_LEVEL": "DEBUG"}
        with anyio.fail_after(60):
            async with serve_stdio(env=env) as box:
                desk = {"endpointPrefix": "https://desk.zendesk.example/api/v2", "username": "agent@example.com"}
                form = await box.ok("CreateCxEngageSecureForm", {"type": "zendesk", "destination": desk})
                await _type_secret_in_browser(form["form_url"], where=desk["endpointPrefix"])
                created = await box.ok("CreateCxEngageIntegration", {
                    "name": "Support desk", "type": "zendesk", "secure_form_id": form["secure_form_id"],
                    "properties": desk})
                assert created["mismatches"] == []
                integration_id = created["integration_id"]
                # The vendor echoes the secret on every read; the server must not.
                await box.ok("GetCxEngageIntegration", {"integration_id": integration_id})
                await box.ok("GetCxEngageIntegrations", {})
                emulator.faults.inject(path_prefix="/v1/tenants", method="PUT", status=400,
                                       body=b'{"error":{"code":400,"message":"bad password ' + SECRET.encode()
                                            + b'","attribute":{"properties.password":"' + SECRET.encode() + b'"}}}')
                failed = await box.call("EditCxEngageIntegration", {
                    "integration_id": integration_id, "description": "rejected on purpose"})
                assert failed.is_error

    stored = emulator.stored(SANDBOX_TENANT_ID, integration_id)
    assert stored["properties"]["password"] == SECRET  # it reached CxEngage
    assert "secure form" in box.stderr and "CreateIntegration" in box.stderr  # the logs were really captured
    assert SECRET not in box.stderr
    for output in box.seen:
        assert SECRET not in output
