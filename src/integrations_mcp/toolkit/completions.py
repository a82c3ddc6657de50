"""MCP completions for prompt arguments: each vendor registers where an argument's values come from (its catalogue
or its API), and the server answers `completion/complete` with the values that match what the user has typed.

Only values the vendor really has are offered; a vendor that cannot be reached gives no suggestions (a completion is
a hint, never an error)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import Completion, PromptReference

from integrations_mcp.errors import IntegrationsError
from integrations_mcp.guardrails.outputs import clean_text

__all__ = ["MAX_VALUES", "PromptCompletions", "ValueSource", "cached", "matching"]

log = logging.getLogger(__name__)

MAX_VALUES = 100  # the protocol's limit per answer
ValueSource = Callable[[], Awaitable[Iterable[str]]]


def cached(source: ValueSource, *, seconds: float = 300.0) -> ValueSource:
    """`source`, asked at most once per `seconds`: completion is asked on every keystroke, the vendor should not be."""
    kept: list[tuple[float, list[str]]] = []

    async def values() -> list[str]:
        now = time.monotonic()
        if not kept or kept[0][0] < now:
            kept[:] = [(now + seconds, list(await source()))]
        return kept[0][1]

    return values


def matching(values: Iterable[str], typed: str) -> list[str]:
    """The values starting with `typed` first, then those containing it (case-insensitive), without repeats."""
    typed = typed.strip().casefold()
    unique = list(dict.fromkeys(values))
    starts = [v for v in unique if v.casefold().startswith(typed)]
    return starts + [v for v in unique if typed in v.casefold() and v not in starts]


class PromptCompletions:
    """(prompt name, argument name) -> where its values come from."""

    def __init__(self) -> None:
        self.sources: dict[tuple[str, str], ValueSource] = {}

    def add(self, prompt: str, argument: str, source: ValueSource) -> None:
        self.sources[(prompt, argument)] = source

    async def complete(self, prompt: str, argument: str, typed: str) -> Completion:
        source = self.sources.get((prompt, argument))
        if source is None:
            return Completion(values=[])
        try:
            # The vendor's text outside any tool result (no output filter here): a value holding a secret by its
            # look is left out, as masking it would put the mask in the user's prompt.
            values = [v for v in matching(await source(), typed) if clean_text(v) == v]
        except IntegrationsError as exc:  # the vendor is unreachable or refused: no suggestions
            log.warning("No completions for %s.%s: %s", prompt, argument, type(exc).__name__)
            return Completion(values=[])
        return Completion(values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES)

    def register(self, server: MCPServer) -> None:
        if not self.sources:
            return

        @server.completion()
        async def complete(ref: Any, argument: Any, context: Any) -> Completion | None:
            if not isinstance(ref, PromptReference):
                return None
            return await self.complete(ref.name, argument.name, argument.value)
