"""RevCent tools through a real MCP client session (tests/harness.py) against the RevCent emulator over ASGI: the
tool surface, the reads, the guides and the setup prompt."""

from __future__ import annotations

import pytest
from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import SHARED_READ_TOOLS, SHARED_TOOLS, connect, ok, refused, revcent_settings
from tests.vendors.revcent.helpers import READ_TOOLS, WRITE_TOOLS, create, required_asset_select

pytestmark = pytest.mark.anyio


# --- the tool surface -----------------------------------------------------------------------------------------------

async def test_every_tool_has_schemas_annotations_and_a_short_description(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools if t.name not in SHARED_TOOLS}
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    for name, tool in tools.items():
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        assert tool.input_schema.get("additionalProperties") is False, name
        assert len(tool.description or "") < 320, (name, len(tool.description or ""))
        assert "guide://" not in (tool.description or ""), name  # a model cannot fetch resources everywhere
        assert bool(tool.annotations.read_only_hint) is (name in READ_TOOLS), name  # absent: false
    assert tools["EditUserThirdPartyIntegration"].annotations.destructive_hint in (True, None)  # None: true
    assert not tools["CreateUserThirdPartyIntegration"].annotations.idempotent_hint
    create_props = tools["CreateUserThirdPartyIntegration"].input_schema["properties"]
    assert "third_party_credentials" not in create_props and "secure_form_id" in create_props


async def test_read_only_mode_serves_only_read_tools(revcent: RevCentEmulator) -> None:
    async with connect(revcent_settings(read_only=True), revcent=revcent) as session:
        client = session.client
        tools = (await client.list_tools()).tools
        assert {t.name for t in tools} == READ_TOOLS | SHARED_READ_TOOLS
        assert all(t.annotations.read_only_hint for t in tools)
        result = await client.call_tool("CreateSecureForm", {"site_third_party_integration_id": "a" * 20})
        assert result.is_error
    assert revcent.writes() == []


# --- reads ----------------------------------------------------------------------------------------------------------

async def test_lists_site_integrations_of_every_type_with_paging(client: Client, revcent: RevCentEmulator) -> None:
    page = await ok(client, "GetSiteThirdPartyIntegrations", {})
    assert {s["integration_type"] for s in page["results"]} == {"tax", "shipping", "offline_payment", "ai", "ai_voice"}
    first = await ok(client, "GetSiteThirdPartyIntegrations", {"limit": 2, "page": 1})
    second = await ok(client, "GetSiteThirdPartyIntegrations", {"limit": 2, "page": 2})
    assert first["count"] == 2 and first["has_more"] is True
    assert {s["id"] for s in first["results"]}.isdisjoint({s["id"] for s in second["results"]})
    await refused(client, "GetSiteThirdPartyIntegrations", {"limit": 26}, "limit")


async def test_site_integration_schema(client: Client, revcent: RevCentEmulator) -> None:
    data = await ok(client, "GetSiteThirdPartyIntegration", {"site_third_party_integration_id": revcent.site_id("tax")})
    assert data["integration_type"] == "tax"
    assert data["third_party_credentials"]["fields"]
    assert any(o["required"] for o in data["third_party_options"])


async def test_ids_are_checked_before_anything_is_sent(client: Client, revcent: RevCentEmulator) -> None:
    before = len(revcent.requests)
    await refused(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": "short"}, "20")
    await refused(client, "GetSiteThirdPartyIntegration", {"site_third_party_integration_id": "a/../b" + "c" * 14},
                  "site_third_party_integration_id")
    assert len(revcent.requests) == before


@pytest.mark.parametrize("switch", ["yes", "on", 1, "1", "true", 0])
async def test_switches_take_only_json_booleans(client: Client, revcent: RevCentEmulator, switch: object) -> None:
    uid = await create(client, revcent)
    writes = len(revcent.writes())
    for arguments in ({"enabled": switch}, {"description": "x", "dry_run": switch}):
        await refused(client, "EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid, **arguments},
                      "valid boolean")
    assert len(revcent.writes()) == writes


async def test_readiness_before_and_after_credentials(client: Client, revcent: RevCentEmulator) -> None:
    option_id, field_id = required_asset_select(revcent)
    bare = revcent.add_user_integration(name="No creds yet", site_id=revcent.site_id("tax"))
    view = await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": bare})
    r = view["readiness"]
    assert r["credentials_saved"] is False and r["missing_credentials"] and r["can_enable"] is False
    asset = next(c for c in r["choices"] if (c["option_id"], c["field_id"]) == (option_id, field_id))
    assert asset["source"] == "asset" and asset["values"] == []

    uid = await create(client, revcent)
    r = (await ok(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid}))["readiness"]
    assert r["credentials_saved"] is True and r["missing_credentials"] == []
    assert any(m["option_id"] == option_id for m in r["missing_options"])
    asset = next(c for c in r["choices"] if (c["option_id"], c["field_id"]) == (option_id, field_id))
    assert asset["values"], "assets appear once credentials are saved"
    assert all(set(v) == {"value", "label"} and v["label"] for v in asset["values"]), "the person can read each choice"
    assert asset["label"]
    assert r["can_enable"] is False and r["blockers"]


async def test_readiness_follows_a_site_changed_at_revcent(client: Client, revcent: RevCentEmulator) -> None:
    """Readiness is kept by the site integration's content (views._kept_readiness), never by its id alone: a select
    choice RevCent adds or a field it makes required shows on the next read, of the same integration or another."""
    site_id = revcent.site_id("tax")
    first = revcent.add_user_integration(name="Kept one", site_id=site_id)
    second = revcent.add_user_integration(name="Kept two", site_id=site_id)
    read = {"user_third_party_integration_id": first}
    before = (await ok(client, "GetUserThirdPartyIntegration", read))["readiness"]
    assert (await ok(client, "GetUserThirdPartyIntegration", read))["readiness"] == before
    option = next(o for o in revcent.site_integrations[site_id]["third_party_options"] if not o["required"])
    field = next(f for f in option["fields"] if f["field_type"] == "select")
    field["select_settings"]["options"].append("maybe")
    option["required"] = field["required"] = True
    for uid in (first, second):
        read = {"user_third_party_integration_id": uid}
        after = (await ok(client, "GetUserThirdPartyIntegration", read))["readiness"]
        choice = next(c for c in after["choices"] if (c["option_id"], c["field_id"]) == (option["id"], field["id"]))
        assert "maybe" in [v["value"] for v in choice["values"]]
        assert any(m["option_id"] == option["id"] for m in after["missing_options"]), after
        assert after != before


async def test_a_site_changed_at_revcent_shows_on_the_next_read(client: Client, revcent: RevCentEmulator) -> None:
    """The site integration inside a read is validated once per content (kept_sites.kept_site), never kept by its id:
    a name, a label or an option's description RevCent changes (nothing readiness reads) shows on the next read, in
    structuredContent and in the text."""
    site_id = revcent.site_id("tax")
    uid = revcent.add_user_integration(name="Kept site", site_id=site_id)
    read = {"user_third_party_integration_id": uid}
    before = await client.call_tool("GetUserThirdPartyIntegration", read)
    assert not before.is_error
    site = revcent.site_integrations[site_id]
    site["name"] += " renamed"
    site["third_party_options"][0]["name"] = "Renamed option"
    site["third_party_options"][0]["description"] = "Described anew."
    after = await client.call_tool("GetUserThirdPartyIntegration", read)
    shown = after.structured_content["integration"]["site_third_party_integration"]
    assert shown["name"] == site["name"] and shown["third_party_options"][0]["description"] == "Described anew."
    text = after.content[0].text
    assert site["name"] in text and '"Renamed option"' in text and text != before.content[0].text


async def test_lists_user_integrations(client: Client, revcent: RevCentEmulator) -> None:
    uid = await create(client, revcent)
    page = await ok(client, "GetUserThirdPartyIntegrations", {})
    row = next(x for x in page["results"] if x["id"] == uid)
    assert row["name"] == "Tax main" and row["enabled"] is False


async def test_an_integration_type_revcent_adds_later_does_not_break_the_catalogue(client: Client,
                                                                                   revcent: RevCentEmulator) -> None:
    revcent.site_integrations[revcent.site_id("ai")]["integration_type"] = "fraud"
    listed = await ok(client, "GetSiteThirdPartyIntegrations", {})
    assert "fraud" in {s["integration_type"] for s in listed["results"]}


# --- guides and prompt ----------------------------------------------------------------------------------------------

async def test_guides_referenced_by_tools_exist_as_markdown_resources(client: Client) -> None:
    import re

    uris = {str(r.uri) for r in (await client.list_resources()).resources}
    referenced = {f"guide://{m}" for t in (await client.list_tools()).tools
                  for m in re.findall(r"GetIntegrationGuide ([\w-]+/[\w/-]+)", t.description or "")}
    assert referenced and referenced <= uris
    assert "guide://common/guardrails" in uris
    for name in READ_TOOLS | WRITE_TOOLS:
        assert f"guide://revcent/{name}" in uris
    content = (await client.read_resource("guide://revcent/lifecycle")).contents[0]
    assert content.mime_type == "text/markdown" and content.text.startswith("# ")


async def test_setup_prompt(client: Client) -> None:
    prompts = {p.name for p in (await client.list_prompts()).prompts}
    assert "setup_revcent_integration" in prompts
    prompt = await client.get_prompt("setup_revcent_integration", {"provider": "our tax provider"})
    text = prompt.messages[0].content.text
    assert "our tax provider" in text and "CreateSecureForm" in text
