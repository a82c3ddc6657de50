"""End to end as in real use: `integrations-mcp serve` over stdio (a subprocess, debug logging on), the CxEngage
emulator on loopback, a person typing the secret into the server's own form in headless Chromium. The secret must
reach CxEngage and appear nowhere else: not in tool results, not in errors, not in the server's stderr."""

from __future__ import annotations

import os
import sys
import tempfile

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from playwright.async_api import expect

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_TENANT_ID,
    CxEngageEmulator,
)
from tests.browser import needs_chromium, open_page

SECRET = "CANARY-e2e-zendesk-3b9d71"

pytestmark = [pytest.mark.anyio, needs_chromium]


async def _type_secret_in_browser(url: str) -> None:
    async with open_page(url) as page:
        await page.get_by_label("Password", exact=True).fill(SECRET)
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Saved")


async def test_secret_typed_in_the_browser_reaches_cxengage_and_nothing_else() -> None:
    emulator = CxEngageEmulator()
    seen: list[str] = []
    with serve_loopback(emulator.app) as vendor, tempfile.TemporaryFile("w+") as errlog:
        env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
        env |= {"CXENGAGE_API_KEY": SANDBOX_API_KEY, "CXENGAGE_API_SECRET": SANDBOX_API_SECRET,
                "CXENGAGE_BASE_URL": vendor.url, "CXENGAGE_TENANT_ID": SANDBOX_TENANT_ID,
                "INTEGRATIONS_LOG_LEVEL": "DEBUG"}
        params = StdioServerParameters(command=sys.executable, args=["-m", "integrations_mcp", "serve"], env=env)
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog)) as client:

                async def call(tool: str, arguments: dict) -> dict:
                    result = await client.call_tool(tool, arguments)
                    seen.append(result.model_dump_json())
                    assert not result.is_error, result.content[0].text
                    return result.structured_content or {}

                form = await call("CreateCxEngageSecureForm", {"type": "zendesk"})
                await _type_secret_in_browser(form["form_url"])
                created = await call("CreateCxEngageIntegration", {
                    "name": "Support desk", "type": "zendesk", "secure_form_id": form["secure_form_id"],
                    "properties": {"endpointPrefix": "https://desk.zendesk.example/api/v2",
                                   "username": "agent@example.com"}})
                assert created["mismatches"] == []
                integration_id = created["integration_id"]
                # The vendor echoes the secret on every read; the server must not.
                await call("GetCxEngageIntegration", {"integration_id": integration_id})
                await call("GetCxEngageIntegrations", {})
                emulator.faults.inject(path_prefix="/v1/tenants", method="PUT", status=400,
                                       body=b'{"error":{"code":400,"message":"bad password ' + SECRET.encode()
                                            + b'","attribute":{"properties.password":"' + SECRET.encode() + b'"}}}')
                failed = await client.call_tool("EditCxEngageIntegration", {
                    "integration_id": integration_id, "description": "rejected on purpose"})
                seen.append(failed.model_dump_json())
                assert failed.is_error
        errlog.seek(0)
        stderr = errlog.read()

    stored = emulator.stored(SANDBOX_TENANT_ID, integration_id)
    assert stored["properties"]["password"] == SECRET  # it reached CxEngage
    assert "secure form" in stderr and "CreateIntegration" in stderr  # the logs were really captured
    assert SECRET not in stderr
    for output in seen:
        assert SECRET not in output
