"""Guides reachable by any client, as a tool: a whole guide, or one section of it for a few hundred tokens."""

from __future__ import annotations

import pytest

from integrations_mcp.guardrails.outputs import remember_configured_secrets
from tests.harness import Session, both_settings, connect, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def session() -> Session:
    async with connect(both_settings()) as s:
        yield s


async def test_a_guide_reads_the_same_as_its_resource(session: Session) -> None:
    got = await session.ok("GetIntegrationGuide", guide="common/guardrails")
    resource = await session.client.read_resource("guide://common/guardrails")
    assert got["text"] == resource.contents[0].text and got["guide"] == "guide://common/guardrails"
    for arguments in ({"guide": "common/guardrails"}, {"guide": "cxengage/types", "section": "zendesk"}):
        result = await session.call("GetIntegrationGuide", **arguments)  # the text the client shows, twice alike
        assert text_of(result) == result.structured_content["text"] and text_of(result).startswith("#")
    assert (await session.ok("GetIntegrationGuide", guide="guide://revcent/lifecycle"))["sections"]


async def test_one_section_is_small(session: Session) -> None:
    zendesk = await session.ok("GetIntegrationGuide", guide="cxengage/types", section="zendesk")
    assert zendesk["section"].startswith("`zendesk`") and "endpointPrefix" in zendesk["text"]
    assert len(zendesk["text"]) < 2000 and "salesforce" not in zendesk["text"].lower()


async def test_unknown_guides_and_sections_list_the_valid_ones(session: Session) -> None:
    await session.refused("GetIntegrationGuide", "no guide", "cxengage/types", guide="nope")
    await session.refused("GetIntegrationGuide", "no section", "`zendesk`", guide="cxengage/types", section="fax")


async def test_read_only_servers_have_it_too() -> None:
    async with connect(both_settings(read_only=True)) as s:
        assert "GetIntegrationGuide" in {t.name for t in (await s.client.list_tools()).tools}


async def test_a_tool_name_finds_its_guide(session: Session) -> None:
    """Descriptions say "GetIntegrationGuide with this tool's name"."""
    got = await session.ok("GetIntegrationGuide", guide="EditUserThirdPartyIntegration")
    assert got["guide"] == "guide://revcent/EditUserThirdPartyIntegration"
    assert (await session.ok("GetIntegrationGuide", guide="EditCxEngageIntegration"))["guide"].startswith(
        "guide://cxengage/")


async def test_a_guide_is_filtered_for_the_secrets_configured_now(session: Session) -> None:
    """A guide's filtered text is kept per set of configured secrets: a secret configured later (another server of
    the process, a test) is masked in the next answer, in the text and in the structured content."""
    whole = await session.ok("GetIntegrationGuide", guide="common/guardrails")
    first = await session.ok("GetIntegrationGuide", guide="common/guardrails", section=whole["sections"][0])
    secret = max(first["text"].split(), key=len)  # a word of the first section, as if it were a configured key
    assert len(secret) >= 10 and secret in whole["text"]
    remember_configured_secrets([], also=[secret])
    for arguments in ({"guide": "common/guardrails"}, {"guide": "common/guardrails", "section": whole["sections"][0]}):
        result = await session.call("GetIntegrationGuide", **arguments)
        assert secret not in text_of(result) and secret not in result.structured_content["text"], arguments
