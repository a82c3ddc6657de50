"""The on-demand loopback listener that serves the secure form page under stdio, and its HTTP-transport mode."""

from __future__ import annotations

import httpx2
import pytest

from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import SecureFormStore
from tests.secure_forms.helpers import CANARY, FIELDS, OWNER, PURPOSE, assert_secure_headers, post_data

pytestmark = pytest.mark.anyio


async def test_listener_serves_real_http_on_loopback(store: SecureFormStore) -> None:
    server = SecureFormServer(store)
    with pytest.raises(RuntimeError):
        server.url_for("x")
    try:
        form, url = await server.create_form(owner=OWNER, subject="Zendesk", fields=FIELDS, purpose=PURPOSE)
        assert server.listening and url.startswith("http://127.0.0.1:")
        assert url.endswith(f"/secure-forms/{form.page_id}") and form.id not in url  # the handle is not the page
        assert await server.ensure_listening() == server.base_url  # started once
        async with httpx2.AsyncClient() as client:
            page = await client.get(url)
            assert page.status_code == 200 and "<h1>Zendesk</h1>" in page.text
            assert_secure_headers(page)
            saved = await client.post(url, data=post_data(form, password=CANARY, token="tok-1"),
                                      headers={"Origin": server.base_url or ""})
            assert saved.status_code == 200 and "Saved" in saved.text and CANARY not in saved.text
            other = await client.get(f"{server.base_url}/")
            assert other.status_code == 404
            assert_secure_headers(other)
            rebinding = await client.get(url, headers={"Host": "evil.example"})
            assert rebinding.status_code == 421
        assert store.take(form.id, owner=OWNER, purpose=PURPOSE) == {"password": CANARY, "token": "tok-1"}
    finally:
        await server.aclose()
    assert not server.listening and server.base_url is None
    async with httpx2.AsyncClient() as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get(url)


async def test_http_transport_mode_uses_the_given_base_url(store: SecureFormStore) -> None:
    server = SecureFormServer(store)
    server.set_base_url("http://127.0.0.1:8000/")
    assert await server.ensure_listening() == "http://127.0.0.1:8000"
    assert not server.listening
    assert server.url_for("abc") == "http://127.0.0.1:8000/secure-forms/abc"
    assert [r.path for r in server.routes()] == ["/secure-forms/{page_id}"] * 2
    server.close()
    assert server.base_url == "http://127.0.0.1:8000"
