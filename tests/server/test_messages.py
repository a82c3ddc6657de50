"""Issue 21's "docs and behaviour disagree" list, one test each: a wrong base URL says so, a client without the
bearer header is told it is missing (where the SDK answered a bare 401 and the OAuth fallback a 404 at /register),
an unknown prompt is a clean invalid-params error, progress reaches its total on a dry run; and what the model reads
first: instructions under 600 characters with no reading list, a schema that names what the tool refuses."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from integrations_mcp.server.app import INSTRUCTIONS, build_server
from integrations_mcp.server.auth.tokens import single_token
from integrations_mcp.server.transports import http_app
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import REVCENT_KEY, both_settings, connect, revcent_settings, text_of

pytestmark = pytest.mark.anyio


async def test_a_wrong_base_url_names_the_setting() -> None:
    """A base URL that leads to no API (here /v9 on the RevCent emulator: its 404 page) is not "not a JSON object,
    try again": the answer names the address and the setting to check."""
    settings = revcent_settings(base_url="http://revcent.test/v9")
    emulator = RevCentEmulator(api_key=REVCENT_KEY)
    server = build_server(settings, transports={"revcent": httpx2.ASGITransport(app=emulator.app)})
    async with connect(settings, server=server) as s:
        message = text_of(await s.call("GetSiteThirdPartyIntegrations"))
    assert "http://revcent.test/v9/" in message and "HTTP 404" in message and "REVCENT_BASE_URL" in message
    assert "JSON object" not in message and "Try again" not in message


async def test_an_unknown_prompt_is_an_invalid_params_error() -> None:
    async with connect(both_settings()) as s:
        with pytest.raises(MCPError) as raised:
            await s.client.get_prompt("setup_everything", {})
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.error.message == ("Unknown prompt 'setup_everything'. Prompts: setup_cxengage_integration, "
                                          "setup_revcent_integration.")


async def test_progress_reaches_its_total_on_a_dry_run() -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with connect(both_settings()) as s:
        result = await s.client.call_tool("CreateUserThirdPartyIntegration", {
            "name": "Dry", "site_third_party_integration": s.revcent.site_id("tax"), "dry_run": True},
            progress_callback=on_progress)
    assert not result.is_error and seen[-1] == (3, 3) and [p for p, _ in seen] == [1, 3]


def http_client() -> httpx2.AsyncClient:
    settings = both_settings(transport="http", auth_tokens=(single_token("t" * 40),))
    app = http_app(build_server(settings), settings)
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000")


async def test_a_client_without_the_bearer_header_is_told_it_is_missing() -> None:
    async with http_client() as http:
        answer = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                 headers={"accept": "application/json, text/event-stream"})
        registration = await http.post("/register", json={"client_name": "Claude Code",
                                                          "redirect_uris": ["http://localhost:1/callback"]})
        wrong = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                headers={"authorization": "Bearer " + "x" * 40,
                                         "accept": "application/json, text/event-stream"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer ")
    body = answer.json()
    assert body["error"] == "invalid_token" and "Authorization: Bearer <token>" in body["error_description"]
    assert int(answer.headers["content-length"]) == len(answer.content)
    # The OAuth fallback a client tries next (RFC 7591 registration) names what is missing instead of a bare 404.
    assert registration.status_code == 400
    assert registration.json()["error"] == "invalid_client_metadata"
    assert "INTEGRATIONS_AUTH_TOKEN" in registration.json()["error_description"]
    # A wrong token is not told how tokens are made: only a missing one gets the hint.
    assert wrong.status_code == 401 and "Authorization: Bearer" not in json.dumps(wrong.json())


def test_the_instructions_are_short_and_need_no_guide_first() -> None:
    assert len(INSTRUCTIONS) <= 600
    assert "guide://" not in INSTRUCTIONS and "first" not in INSTRUCTIONS.lower()


async def test_the_cxengage_form_schema_names_the_destination_keys_it_requires() -> None:
    async with connect(both_settings()) as s:
        tools = {tool.name: tool for tool in (await s.client.list_tools()).tools}
    described = tools["CreateCxEngageSecureForm"].input_schema["properties"]["destination"]["description"]
    assert "zendesk endpointPrefix+username" in described and "salesforce username+consumerKey" in described
