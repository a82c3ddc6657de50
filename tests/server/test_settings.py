"""One settings module reads the whole environment and the flags; every bad value is one line naming the variable,
and `serve` exits with code 2 (no traceback)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.server.settings import load_settings
from tests.harness import SERVE, clean_env

KEYS = {"REVCENT_API_KEY": "k"}


@pytest.mark.parametrize(("variable", "value"), [
    ("INTEGRATIONS_PORT", "abc"), ("INTEGRATIONS_PORT", "0"), ("INTEGRATIONS_PORT", "70000"),
    ("INTEGRATIONS_HTTP_TIMEOUT", "abc"), ("INTEGRATIONS_HTTP_TIMEOUT", "-1"), ("INTEGRATIONS_HTTP_TIMEOUT", "inf"),
    ("INTEGRATIONS_TRANSPORT", "carrier-pigeon"), ("INTEGRATIONS_LOG_LEVEL", "loud"),
    ("INTEGRATIONS_READ_ONLY", "maybe"), ("INTEGRATIONS_PUBLIC_URL", "forms.example.com"),
    ("REVCENT_BASE_URL", "ftp://revcent.example"), ("CXENGAGE_REGION", "mars"), ("CXENGAGE_AUTH", "magic"),
    ("CXENGAGE_TENANT_ID", "not-a-uuid"), ("CXENGAGE_BASE_URL", "cxengage.example"),
])
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    env = {**KEYS, "CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "s", variable: value}
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env)
    assert variable in str(refused.value) and "\n" not in str(refused.value)


def test_half_set_cxengage_names_the_missing_half() -> None:
    with pytest.raises(ConfigurationError, match="CXENGAGE_API_SECRET"):
        load_settings({"CXENGAGE_API_KEY": "k"})


def test_flags_override_the_environment() -> None:
    env = {**KEYS, "INTEGRATIONS_PORT": "9000", "INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_LOG_LEVEL": "debug"}
    assert (load_settings(env).port, load_settings(env).transport, load_settings(env).log_level) == (9000, "http",
                                                                                                     "DEBUG")
    settings = load_settings(env, port=9100, transport="stdio", log_level="warning", read_only=True)
    assert (settings.port, settings.transport, settings.log_level, settings.read_only) == (9100, "stdio", "WARNING",
                                                                                            True)


def test_only_configured_vendors_have_settings() -> None:
    assert load_settings(KEYS).configured_vendors == ["revcent"]
    assert load_settings({}).configured_vendors == []
    both = load_settings({**KEYS, "CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "s"})
    assert both.configured_vendors == ["revcent", "cxengage"]


def test_sandbox_ignores_the_vendor_variables() -> None:
    settings = load_settings({"CXENGAGE_TENANT_ID": "bad", "CXENGAGE_API_KEY": "k"}, sandbox=True)
    assert settings.sandbox and settings.vendors == {}


@pytest.mark.slow
@pytest.mark.parametrize(("variable", "value"), [("INTEGRATIONS_PORT", "abc"), ("INTEGRATIONS_LOG_LEVEL", "loud")])
def test_serve_with_a_bad_value_exits_2_with_one_line(variable: str, value: str) -> None:
    done = subprocess.run(SERVE, env=clean_env(**KEYS, **{variable: value}), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and variable in done.stderr and "Traceback" not in done.stderr


def test_the_sandbox_keeps_its_changes_out_of_the_users_state_file() -> None:
    from integrations_mcp.server.settings import SANDBOX_STATE_URL

    assert load_settings({}, sandbox=True).state_url == SANDBOX_STATE_URL
    chosen = "sqlite+aiosqlite:////tmp/chosen.sqlite3"
    assert load_settings({"INTEGRATIONS_STATE_URL": chosen}, sandbox=True).state_url == chosen


@pytest.mark.parametrize("url", ["https://user:pw@mcp.example.com", "https://mcp.example.com?x=1",
                                 "https://mcp.example.com/#top", "https://mcp.example.com:99999", "https://",
                                 "https://:8443/pages"])
def test_a_public_url_that_would_break_or_expose_its_links_is_refused_at_start(url: str) -> None:
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_PUBLIC_URL must be") as refused:
        load_settings({"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_PUBLIC_URL": url})
    assert "pw" not in str(refused.value)


@pytest.mark.parametrize("method", ["oidc", "passkey"])
def test_sign_in_under_a_path_of_the_public_url_is_refused_at_start(tmp_path: Path, method: str) -> None:
    """Sign-in's links, cookie paths, redirect URI and script are at the origin's root: behind a proxy that serves
    the pages under /integrations no one could sign in, so the start says so instead."""
    env = {"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_PUBLIC_URL": "https://example.com/integrations",
           "INTEGRATIONS_SIGNIN": method, "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"}
    if method == "oidc":
        env |= {"INTEGRATIONS_OAUTH_ISSUER": "https://id.example.com", "INTEGRATIONS_OIDC_CLIENT_ID": "pages",
                "INTEGRATIONS_OAUTH_JWKS_URL": "https://id.example.com/jwks"}
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_SIGNIN needs the pages at the root"):
        load_settings(env)
    settings = load_settings({**env, "INTEGRATIONS_PUBLIC_URL": "https://integrations.example.com/"})
    assert settings.signin == (method,) and settings.public_url == "https://integrations.example.com"
    env.pop("INTEGRATIONS_OIDC_CLIENT_ID", None)
    assert load_settings({**env, "INTEGRATIONS_SIGNIN": "none"}).public_url == "https://example.com/integrations"
