"""Every failed call has one shape: the first line names the kind, then the field, what is valid and the next call.
Argument errors never echo the rejected value (a secret typed into the wrong argument must not come back)."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import UnexpectedToolError

from integrations_mcp.toolkit.refusals import framed_failure
from tests.harness import Session, both_settings, connect, text_of

pytestmark = pytest.mark.anyio

CANARY = "CANARY-7f3a9c-not-a-value"
KINDS = ("Refused", "Invalid argument", "Vendor error", "Vendor unavailable", "Write outcome unknown", "Unknown tool",
         "Server error")
TOOLS = ["GetSiteThirdPartyIntegrations", "GetSiteThirdPartyIntegration", "GetSecureForm",
         "GetUserThirdPartyIntegrations", "GetUserThirdPartyIntegration", "CreateSecureForm",
         "CreateUserThirdPartyIntegration", "EditUserThirdPartyIntegration", "GetCxEngageIntegrations",
         "GetCxEngageIntegration", "CreateCxEngageSecureForm", "CreateCxEngageIntegration", "EditCxEngageIntegration",
         "GetIntegrationGuide"]


@pytest.fixture
async def session() -> Session:
    async with connect(both_settings()) as s:
        yield s


def _lines(text: str) -> dict[str, str]:
    first, *rest = text.split("\n")
    kind = next((k for k in KINDS if first.startswith(f"{k}: ")), None)
    assert kind is not None, f"first line names no kind: {first!r}"
    labelled = dict(line.split(": ", 1) for line in rest if ": " in line)
    return {"kind": kind, "first": first, **labelled}


def _wrong_type(schema: dict) -> object:
    """A value of the wrong type for `schema` that carries the canary."""
    kinds = schema.get("type")
    return {"x": CANARY} if kinds in ("string", "integer", "boolean") else CANARY


async def test_every_tool_is_listed(session: Session) -> None:
    assert {t.name for t in (await session.client.list_tools()).tools} == set(TOOLS)


@pytest.mark.parametrize("tool", TOOLS)
async def test_an_unknown_argument(session: Session, tool: str) -> None:
    result = await session.client.call_tool(tool, {"not_an_argument": 1})
    assert result.is_error
    lines = _lines(text_of(result))
    assert lines["kind"] == "Invalid argument" and "not_an_argument" in lines["first"]
    assert lines["Field"] == "not_an_argument" and "Next" in lines
    schema = {t.name: t for t in (await session.client.list_tools()).tools}[tool].input_schema
    assert set(lines["Valid"].split(", ")) == set(schema["properties"])


@pytest.mark.parametrize("tool", TOOLS)
async def test_a_value_of_the_wrong_type_is_named_without_being_echoed(session: Session, tool: str) -> None:
    schema = {t.name: t for t in (await session.client.list_tools()).tools}[tool].input_schema
    name, prop = next((n, p) for n, p in schema["properties"].items()
                      if p.get("type") in ("string", "integer", "boolean"))
    result = await session.client.call_tool(tool, {name: _wrong_type(prop)})
    text = text_of(result)
    assert result.is_error and CANARY not in text
    lines = _lines(text)
    assert lines["kind"] == "Invalid argument" and name in lines["Field"].split(", ")
    assert f"{name}: " in lines["Valid"] and lines["Next"].startswith(f"call {tool} again")
    assert "validation error" not in text and "Error executing tool" not in text and "input_value" not in text


@pytest.mark.parametrize("tool", [t for t in TOOLS if t not in ("GetSiteThirdPartyIntegrations",
                                                                 "GetUserThirdPartyIntegrations")])
async def test_a_missing_required_argument(session: Session, tool: str) -> None:
    schema = {t.name: t for t in (await session.client.list_tools()).tools}[tool].input_schema
    required = [name for name in schema.get("required", []) if name != "tenant_id"]
    if not required:
        pytest.skip("only the tenant is required, and the session fills it in")
    result = await session.client.call_tool(tool, session._arguments(tool, {}))
    lines = _lines(text_of(result))
    assert lines["kind"] == "Invalid argument" and f"{required[0]}: missing (required)" in lines["first"]


async def test_a_policy_refusal(session: Session) -> None:
    result = await session.client.call_tool("CreateUserThirdPartyIntegration", {
        "name": "Tax", "site_third_party_integration": session.revcent.site_id("tax"), "api_key": CANARY})
    lines = _lines(text_of(result))
    assert lines["kind"] == "Refused" and "Nothing was sent" in lines["first"] and CANARY not in text_of(result)


async def test_a_vendor_error(session: Session) -> None:
    result = await session.client.call_tool("GetUserThirdPartyIntegration",
                                            {"user_third_party_integration_id": "A" * 20})
    lines = _lines(text_of(result))
    assert lines["kind"] == "Vendor error" and "RevCent said" in lines["first"]
    assert "check the id with the list tool" in lines["Next"]


async def test_a_vendor_that_cannot_be_read(session: Session) -> None:
    session.revcent.faults.inject(path_prefix="/v2/site_third_party_integrations", status=503, body=b"{}")
    result = await session.client.call_tool("GetSiteThirdPartyIntegrations", {})
    assert _lines(text_of(result))["kind"] in ("Vendor unavailable", "Vendor error")


async def test_a_write_whose_outcome_is_unknown(session: Session) -> None:
    uid = session.revcent.add_user_integration(name="Tax", site_id=session.revcent.site_id("tax"))
    session.revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="POST", status=500,
                                  body=b"{}")
    result = await session.client.call_tool("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid, "description": "new words"})
    lines = _lines(text_of(result))
    assert lines["kind"] == "Write outcome unknown" and "GetUserThirdPartyIntegration" in text_of(result)


async def test_an_unknown_tool(session: Session) -> None:
    result = await session.client.call_tool("DeleteUserThirdPartyIntegration", {})
    lines = _lines(text_of(result))
    assert lines["kind"] == "Unknown tool" and "EditUserThirdPartyIntegration" in lines["Valid"]


def test_a_crash_says_nothing_of_itself_and_names_the_read() -> None:
    crash = UnexpectedToolError("Error executing tool EditUserThirdPartyIntegration")
    crash.__cause__ = RuntimeError(CANARY)
    text = framed_failure("EditUserThirdPartyIntegration", crash, None, TOOLS)
    lines = _lines(text)
    assert lines["kind"] == "Server error" and CANARY not in text and "read the integration back" in lines["Next"]
