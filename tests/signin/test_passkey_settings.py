"""INTEGRATIONS_SIGNIN=passkey is refused at start where browsers cannot use passkeys or the operator's command
cannot reach them, and otherwise puts the passkey method in the gate with links that say localhost."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import load_settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"INTEGRATIONS_SIGNIN": "passkey", "CXENGAGE_API_KEY": "k" * 20, "CXENGAGE_API_SECRET": "s" * 20,
            "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"}


@pytest.mark.parametrize(("more", "needle"), [
    ({"INTEGRATIONS_PUBLIC_URL": "http://mcp.example.com", "INTEGRATIONS_TRANSPORT": "http"}, "https://"),
    ({"INTEGRATIONS_PUBLIC_URL": "https://10.0.0.5", "INTEGRATIONS_TRANSPORT": "http"}, "https://"),
    ({"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_HOST": "0.0.0.0"}, "INTEGRATIONS_PUBLIC_URL"),
    ({"INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:"}, "in memory"),
])
def test_passkeys_where_they_cannot_work_are_refused_at_start(env: dict[str, str], more: dict[str, str],
                                                              needle: str) -> None:
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_SIGNIN=passkey") as refused:
        load_settings({**env, **more})
    assert needle in str(refused.value)


@pytest.mark.parametrize("more", [{}, {"INTEGRATIONS_TRANSPORT": "http"},
                                  {"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_HOST": "0.0.0.0",
                                   "INTEGRATIONS_PUBLIC_URL": "https://mcp.example.com"}])
def test_passkeys_on_localhost_or_https_start(env: dict[str, str], more: dict[str, str]) -> None:
    settings = load_settings({**env, **more})
    assert settings.signin == ("passkey",)


@pytest.mark.anyio
async def test_the_server_gates_its_pages_with_passkeys_and_links_them_as_localhost(env: dict[str, str]) -> None:
    server = build_server(load_settings(env))
    forms = server.secure_forms
    assert [m.method for m in forms.gate.methods] == ["passkey"] and forms.localhost_links
    paths = {route.path for route in forms.routes()}
    assert {"/secure-forms/signin/passkey/passkey.js", "/secure-forms/signin/passkey/enrol/{token}"} <= paths
    try:
        assert (await forms.ensure_listening()).startswith("http://localhost:")
    finally:
        await forms.aclose()
