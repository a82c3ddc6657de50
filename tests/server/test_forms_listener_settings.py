"""Where the stdio page listener binds (INTEGRATIONS_FORMS_HOST/PORT) and how its links are made: fail closed (a
non-loopback bind needs a published port; a public URL under stdio needs the port it leads to), and a listener on
every interface still refuses Host names nobody configured."""

from __future__ import annotations

import httpx2
import pytest

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.loopback import link_host
from integrations_mcp.pages.listener import PageListenerUnavailable
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.settings import load_settings
from tests.harness import free_port
from tests.secure_forms.helpers import FIELDS, OWNER, PURPOSE

KEYS = {"REVCENT_API_KEY": "k"}


def test_by_default_the_pages_stay_on_loopback_on_any_free_port() -> None:
    settings = load_settings(KEYS)
    assert (settings.forms_host, settings.forms_port) == ("127.0.0.1", 0)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "myhost.example"])
def test_a_non_loopback_page_listener_needs_a_fixed_published_port(host: str) -> None:
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_FORMS_PORT") as refused:
        load_settings({**KEYS, "INTEGRATIONS_FORMS_HOST": host})
    assert "\n" not in str(refused.value)
    settings = load_settings({**KEYS, "INTEGRATIONS_FORMS_HOST": host, "INTEGRATIONS_FORMS_PORT": "8765"})
    assert (settings.forms_host, settings.forms_port) == (host, 8765)


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_a_bad_forms_port_names_its_variable(value: str) -> None:
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_FORMS_PORT"):
        load_settings({**KEYS, "INTEGRATIONS_FORMS_PORT": value})


def test_a_public_url_under_stdio_needs_the_port_it_leads_to() -> None:
    public = {**KEYS, "INTEGRATIONS_PUBLIC_URL": "http://localhost:8765"}
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_FORMS_PORT"):
        load_settings(public)
    assert load_settings(public, transport="http").public_url == "http://localhost:8765"  # HTTP serves the pages
    assert load_settings({**public, "INTEGRATIONS_FORMS_PORT": "8765"}).forms_port == 8765


@pytest.mark.parametrize(("bound", "linked"), [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("127.0.0.1", "127.0.0.1"),
                                               ("::1", "[::1]"), ("10.1.2.3", "10.1.2.3"), ("box.local", "box.local")])
def test_links_name_an_address_a_browser_can_open(bound: str, linked: str) -> None:
    assert link_host(bound) == linked


@pytest.mark.anyio
async def test_a_listener_on_every_interface_answers_only_configured_host_names() -> None:
    port = free_port()
    server = SecureFormServer(host="0.0.0.0", port=port, public_url="https://forms.example.com/",
                              allowed_hosts=["proxy.internal:*"])
    try:
        form, url = await server.create_form(owner=OWNER, subject="Zendesk", fields=FIELDS, purpose=PURPOSE)
        assert url == f"https://forms.example.com/secure-forms/{form.page_id}"
        path = url.removeprefix("https://forms.example.com")
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for host, status in [("forms.example.com", 200), (f"127.0.0.1:{port}", 200), ("proxy.internal:81", 200),
                                 ("evil.example", 421), (f"0.0.0.0:{port}", 421), ("forms.example.com.evil", 421)]:
                answer = await client.get(path, headers={"host": host})
                assert answer.status_code == status, (host, answer.status_code)
    finally:
        await server.aclose()


@pytest.mark.anyio
async def test_a_taken_port_is_a_tool_error_naming_the_settings() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = SecureFormServer(port=taken.getsockname()[1])
        with pytest.raises(PageListenerUnavailable, match="INTEGRATIONS_FORMS_PORT"):
            await server.create_form(owner=OWNER, subject="Zendesk", fields=FIELDS, purpose=PURPOSE)
        assert not server.listening and server.base_url is None
