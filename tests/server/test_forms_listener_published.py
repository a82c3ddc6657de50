"""Under stdio (`docker run -i`, a remote dev container) the server's own form and approval pages are served by its
page listener: with INTEGRATIONS_FORMS_HOST/INTEGRATIONS_FORMS_PORT it binds a port the operator publishes, and the
links start with INTEGRATIONS_PUBLIC_URL. `integrations-mcp serve` runs as a subprocess; a person opens the printed
form and approval links by their public name (Chromium resolves `forms.test` to this machine, as DNS or a port
mapping would) and completes them; a Host the operator did not name is refused; a taken port is a clear tool error.
The same public plain-http name over the HTTP transport is checked in Chromium too."""

from __future__ import annotations

import re
import socket

import anyio
import httpx2
import pytest
from mcp import Client
from playwright.async_api import expect

from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID
from tests.browser import needs_chromium, open_page, save_every_secret
from tests.harness import STARTUP_SECONDS, Transcript, free_port, serve_http, serve_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CANARY = "CANARY-published-page-7c2d"
BOUND = STARTUP_SECONDS + 60


def published(port: int, public: str) -> dict[str, str]:
    return {"INTEGRATIONS_FORMS_HOST": "0.0.0.0", "INTEGRATIONS_FORMS_PORT": str(port),
            "INTEGRATIONS_PUBLIC_URL": public}


def outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


async def tax_form(box: Transcript) -> tuple[dict, dict]:
    sites = (await box.ok("GetSiteThirdPartyIntegrations", {}))["results"]
    tax = next(site for site in sites if site["integration_type"] == "tax")
    return tax, await box.ok("CreateSecureForm", {"site_third_party_integration_id": tax["id"]})


async def fill_in_chromium(url: str) -> None:
    """The person opens the link by its public name (resolved to this machine) and saves every field."""
    async with open_page(url, args=["--host-resolver-rules=MAP forms.test 127.0.0.1"]) as page:
        await save_every_secret(page, CANARY)


@needs_chromium
async def test_person_opens_the_public_link_on_the_published_port_and_completes_the_form() -> None:
    port = free_port()
    public = f"http://forms.test:{port}"
    with anyio.fail_after(BOUND):
        async with serve_stdio("--sandbox", env=published(port, public)) as box:
            tax, form = await tax_form(box)
            url = form["form_url"]
            assert url.startswith(f"{public}/secure-forms/"), url
            path = url.removeprefix(public)
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                refused = await http.get(path, headers={**BROWSER_NAVIGATION, "host": f"attacker.example:{port}"})
                assert refused.status_code == 421 and CANARY not in refused.text
                assert (await http.get(path, headers={**BROWSER_NAVIGATION, "host": f"forms.test:{port}"})
                        ).status_code == 200
            if (address := outward_address()) is not None:  # bound to every interface, as in a container
                async with httpx2.AsyncClient() as http:
                    other = await http.get(f"http://{address}:{port}{path}", headers=BROWSER_NAVIGATION)
                    assert other.status_code == 421  # reachable, but that name was not configured
            await fill_in_chromium(url)
            checked = await box.ok("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
            assert checked["completed"] is True
            created = await box.ok("CreateUserThirdPartyIntegration", {
                "name": "Published page", "site_third_party_integration": tax["id"],
                "secure_form_id": form["secure_form_id"]})
            assert created["verified"]["readiness"]["credentials_saved"] is True
    for output in [*box.seen, box.stderr]:
        assert CANARY not in output


@needs_chromium
async def test_over_http_a_public_plain_http_name_works_in_chromium_too() -> None:
    """Over plain http to a name other than localhost Chromium sends no Sec-Fetch-Site: the page's referrer
    policy must let its own POST carry its Origin (with no-referrer it was `null`, unvouched, and refused)."""
    port = free_port()
    public = f"http://forms.test:{port}"
    env = {"INTEGRATIONS_PUBLIC_URL": public, "INTEGRATIONS_ALLOWED_HOSTS": f"forms.test:{port}"}
    with anyio.fail_after(BOUND), serve_http("--sandbox", env=env, port=port) as mcp_url:
        async with Client(mcp_url) as client:
            box = Transcript(client=client)
            _, form = await tax_form(box)
            assert form["form_url"].startswith(f"{public}/secure-forms/")
            await fill_in_chromium(form["form_url"])
            assert (await box.ok("GetSecureForm", {"secure_form_id": form["secure_form_id"]}))["completed"] is True


@needs_chromium
async def test_approval_link_uses_the_public_url_on_the_published_port() -> None:
    """The approval page, from the same published listener, approved in Chromium."""
    port = free_port()
    public = f"http://forms.test:{port}"
    deactivate = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}
    with anyio.fail_after(BOUND):
        async with serve_stdio("--sandbox", env=published(port, public)) as box:
            message = await box.refused("EditCxEngageIntegration", "needs the user's approval", **deactivate)
            url = re.search(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", message).group(1)
            approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", message).group(1)
            assert url.startswith(f"{public}/secure-forms/approvals/"), url
            async with open_page(url, args=["--host-resolver-rules=MAP forms.test 127.0.0.1"]) as page:
                await expect(page.get_by_role("heading", level=1)).to_contain_text("Turn off the CxEngage")
                await page.get_by_role("button", name="Approve").click()
                await expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
            done = await box.ok("EditCxEngageIntegration", deactivate, approval_id=approval_id)
            assert done["verified"]["integration"]["active"] is False


async def test_a_published_port_in_use_is_a_clear_tool_error_and_the_server_keeps_serving() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with anyio.fail_after(BOUND):
            async with serve_stdio("--sandbox", env=published(port, f"http://localhost:{port}")) as box:
                sites = (await box.ok("GetSiteThirdPartyIntegrations", {}))["results"]
                tax = next(site for site in sites if site["integration_type"] == "tax")
                message = await box.refused("CreateSecureForm", "cannot listen", "INTEGRATIONS_FORMS_PORT",
                                            site_third_party_integration_id=tax["id"])
                assert "Traceback" not in message
                assert (await box.ok("GetSiteThirdPartyIntegrations", {}))["results"]
