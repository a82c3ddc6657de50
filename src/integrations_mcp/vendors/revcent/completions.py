"""Completions for the RevCent prompt's arguments: what RevCent really offers, read from its API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from integrations_mcp.toolkit.completions import PromptCompletions, cached

if TYPE_CHECKING:
    from integrations_mcp.vendors.revcent.client import RevCentClient

__all__ = ["add_completions"]

PAGE_SIZE = 25  # RevCent's largest list page
MAX_PAGES = 8  # 200 native integrations: far more than RevCent offers, a bound on a keystroke's cost


def add_completions(completions: PromptCompletions, api: Callable[[], RevCentClient]) -> None:
    """`api()` gives the vendor's client (made when first asked)."""

    async def providers() -> list[str]:
        """The native integrations' names, then their types (tax, shipping, ...)."""
        sites = []
        for page in range(1, MAX_PAGES + 1):
            found = (await api().list_site_integrations(limit=PAGE_SIZE, page=page)).results
            sites += found
            if len(found) < PAGE_SIZE:
                break
        return [site.name for site in sites] + [str(site.integration_type) for site in sites]

    completions.add("setup_revcent_integration", "provider", cached(providers))
