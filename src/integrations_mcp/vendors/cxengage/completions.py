"""Completions for the CxEngage prompt's arguments: the integration types of the catalogue."""

from __future__ import annotations

from integrations_mcp.toolkit.completions import PromptCompletions

__all__ = ["add_completions"]


def add_completions(completions: PromptCompletions) -> None:
    async def types() -> list[str]:
        from integrations_mcp.vendors.cxengage.catalog import TYPES  # when first asked, not at start

        return list(TYPES)

    completions.add("setup_cxengage_integration", "integration_type", types)
