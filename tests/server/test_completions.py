"""MCP completions for the prompts' arguments, through a real client session: only values the vendor really has
(its catalogue or its API), narrowed by what the user typed; an unreachable vendor gives none, never an error."""

from __future__ import annotations

import pytest
from mcp.types import PromptReference

from integrations_mcp.vendors.cxengage.catalog import TYPES
from tests.harness import connect, free_port, revcent_settings

pytestmark = pytest.mark.anyio

REVCENT_PROMPT = PromptReference(type="ref/prompt", name="setup_revcent_integration")
CXENGAGE_PROMPT = PromptReference(type="ref/prompt", name="setup_cxengage_integration")


async def test_the_handshake_advertises_completions_and_every_prompt_argument_has_them() -> None:
    async with connect() as session:
        assert session.client.server_capabilities.completions is not None
        for prompt in (await session.client.list_prompts()).prompts:
            for argument in prompt.arguments or []:
                ref = PromptReference(type="ref/prompt", name=prompt.name)
                answer = await session.client.complete(ref, {"name": argument.name, "value": ""})
                assert answer.completion.values, (prompt.name, argument.name)


async def test_cxengage_types_come_from_the_catalogue_narrowed_by_what_was_typed() -> None:
    async with connect() as session:
        every = (await session.client.complete(CXENGAGE_PROMPT, {"name": "integration_type", "value": ""})).completion
        assert sorted(every.values) == sorted(TYPES) and every.total == len(TYPES) and not every.has_more
        zen = (await session.client.complete(CXENGAGE_PROMPT, {"name": "integration_type", "value": "ZEN"}))
        assert zen.completion.values == ["zendesk"]
        none = await session.client.complete(CXENGAGE_PROMPT, {"name": "integration_type", "value": "hubspot"})
        assert none.completion.values == []


async def test_revcent_providers_are_the_vendors_native_integrations() -> None:
    async with connect() as session:
        sites = (await session.ok("GetSiteThirdPartyIntegrations", {"limit": 25}))["results"]
        answer = (await session.client.complete(REVCENT_PROMPT, {"name": "provider", "value": ""})).completion
        assert set(answer.values) == {s["name"] for s in sites} | {s["integration_type"] for s in sites}
        tax = (await session.client.complete(REVCENT_PROMPT, {"name": "provider", "value": "ta"})).completion
        assert tax.values[0] == "tax"
        assert all("ta" in v.casefold() for v in tax.values)
        unknown = await session.client.complete(REVCENT_PROMPT, {"name": "no_such_argument", "value": ""})
        assert unknown.completion.values == []


async def test_an_unreachable_vendor_gives_no_suggestions_and_no_error() -> None:
    settings = revcent_settings(base_url=f"http://127.0.0.1:{free_port()}/v2")  # nothing listens there
    async with connect(settings) as session:
        answer = await session.client.complete(REVCENT_PROMPT, {"name": "provider", "value": "t"})
        assert answer.completion.values == []
