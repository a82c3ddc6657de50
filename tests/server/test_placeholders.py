"""A configuration snippet copied with its placeholders left in never stops the server: a placeholder reads as not
set (with a warning naming the variable), a RevCent-only configuration needs no CxEngage variable, and a server
whose every vendor variable is still a placeholder starts and tells the model what the person must fill in."""

from __future__ import annotations

import logging
import uuid

import pytest

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import load_settings
from integrations_mcp.vendors.base import is_placeholder
from tests.harness import connect

PLACEHOLDERS = ["…", "...", "<your RevCent API key>", "<tenant-uuid>", "your-revcent-api-key", "your RevCent API key",
                "YOUR_API_KEY", "xxx", "XXXXXXXX", "****", "changeme", "${REVCENT_API_KEY}", "${env:REVCENT_API_KEY}",
                "${input:revcent-api-key}", "  …  ", "key…"]
VALUES = ["k", "3f9a1c0e5b7d4e2f8a6b9c1d0e3f5a7b", str(uuid.uuid4()), "https://api.revcent.com/v2", "yourkey123",
          "x", "xx", "sk_live_51HxYz", "a.b.c", "basic", "eu", "Bearer abc", "<>x", "p@ss...word", "${partial"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_obvious_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", VALUES)
def test_real_looking_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_revcent_only_needs_no_cxengage_variable() -> None:
    settings = load_settings({"REVCENT_API_KEY": "k"})
    assert settings.configured_vendors == ["revcent"] and settings.placeholders == ()


def test_the_old_snippets_cxengage_lines_left_as_placeholders_leave_cxengage_off() -> None:
    """The issue's case: the RevCent key filled in, the CxEngage lines kept as `…` (the tenant failed as no UUID)."""
    settings = load_settings({"REVCENT_API_KEY": "k", "CXENGAGE_API_KEY": "…", "CXENGAGE_API_SECRET": "…",
                              "CXENGAGE_TENANT_ID": "…"})
    assert settings.configured_vendors == ["revcent"]
    assert settings.placeholders == ("CXENGAGE_API_KEY", "CXENGAGE_API_SECRET", "CXENGAGE_TENANT_ID")


@pytest.mark.parametrize("variable", ["CXENGAGE_TENANT_ID", "CXENGAGE_REGION", "CXENGAGE_BASE_URL", "CXENGAGE_AUTH"])
def test_an_optional_cxengage_placeholder_falls_back_to_the_default(variable: str) -> None:
    settings = load_settings({"CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "s", variable: "<optional>"})
    cx = settings.vendors["cxengage"]
    assert (cx.tenant_id, cx.base_url, cx.use_token) == (None, "https://api.cxengage.net", False)
    assert settings.placeholders == (variable,)


def test_a_revcent_base_url_placeholder_falls_back_to_the_default() -> None:
    settings = load_settings({"REVCENT_API_KEY": "k", "REVCENT_BASE_URL": "https://…"})
    assert settings.vendors["revcent"].base_url == "https://api.revcent.com/v2"


def test_one_half_of_cxengage_real_and_the_other_a_placeholder_still_names_the_missing_half() -> None:
    with pytest.raises(ConfigurationError, match="CXENGAGE_API_SECRET still holds a placeholder"):
        load_settings({"CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "your-cxengage-api-secret"})


def test_a_bad_real_value_is_still_refused() -> None:
    with pytest.raises(ConfigurationError, match="CXENGAGE_TENANT_ID"):
        load_settings({"CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "s", "CXENGAGE_TENANT_ID": "acme"})


def test_nothing_set_at_all_still_stops_with_the_variable_to_set() -> None:
    with pytest.raises(ConfigurationError, match="REVCENT_API_KEY"):
        build_server(load_settings({}))


def test_placeholders_of_other_programs_are_not_ours_to_report() -> None:
    settings = load_settings({"REVCENT_API_KEY": "k", "OTHER_TOKEN": "…", "INTEGRATIONS_LOG_LEVEL": "INFO"})
    assert settings.placeholders == ()


def test_the_sandbox_ignores_placeholders() -> None:
    assert load_settings({"REVCENT_API_KEY": "…"}, sandbox=True).placeholders == ()


@pytest.mark.anyio
async def test_only_placeholders_starts_a_server_that_says_what_to_fill_in(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({"REVCENT_API_KEY": "your-revcent-api-key", "CXENGAGE_TENANT_ID": "…"})
    assert settings.configured_vendors == []
    with caplog.at_level(logging.WARNING):
        server = build_server(settings)
    warned = caplog.text
    assert "REVCENT_API_KEY" in warned and "CXENGAGE_TENANT_ID" in warned and "your-revcent" not in warned
    async with connect(settings, server=server) as session:
        tools = [tool.name for tool in (await session.client.list_tools()).tools]
        assert tools == ["GetIntegrationGuide"]
        instructions = session.client.instructions or ""
        assert instructions.startswith("Not configured yet: CXENGAGE_TENANT_ID, REVCENT_API_KEY still hold")
        guide = await session.ok("GetIntegrationGuide", {"guide": "common/guardrails"})
        assert guide


@pytest.mark.anyio
async def test_revcent_with_cxengage_placeholders_serves_the_revcent_tools_only() -> None:
    settings = load_settings({"REVCENT_API_KEY": "k", "CXENGAGE_API_KEY": "…", "CXENGAGE_TENANT_ID": "<uuid>"})
    async with connect(settings) as session:
        tools = {tool.name for tool in (await session.client.list_tools()).tools}
        assert "GetSiteThirdPartyIntegrations" in tools and not any("CxEngage" in name for name in tools)
        assert not (session.client.instructions or "").startswith("Not configured")
