"""Argument types every vendor's tools share, and the shape of an argument guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from integrations_mcp.guardrails.text import control_characters, has_bidi_controls, is_blank

__all__ = ["APPROVAL_ID", "CONFIRMATION_ID", "MAX_ARGUMENT_CHARS", "MAX_ARGUMENT_DEPTH", "ArgumentGuard",
           "Description", "IntegrationName", "Page", "PageSize", "StrictBool", "argument_size", "oversized"]

# One call's arguments, counted as JSON text (keys, strings, numbers): checked before any guard scans them, so the
# work a call can cause is bounded. No tool needs more: a name is at most 200 characters, a description 2000, one
# CxEngage property value 10000.
MAX_ARGUMENT_CHARS = 64_000
MAX_ARGUMENT_DEPTH = 32  # nesting of lists and objects

PageSize = Annotated[int, Field(ge=1, le=25)]
Page = Annotated[int, Field(ge=1)]


def argument_size(arguments: dict[str, Any], limit: int = MAX_ARGUMENT_CHARS) -> tuple[int, str | None]:
    """(characters counted, the top-level argument at which `arguments` pass `limit` characters or
    MAX_ARGUMENT_DEPTH levels; None when they fit). Strings and keys count their length (plus quotes), anything else
    a few characters. Counting stops at the limit, so it costs at most `limit` steps, whatever the arguments' size."""
    used = 0
    for name, value in arguments.items():
        used += len(name) + 4
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack and used <= limit:
            item, depth = stack.pop()
            if isinstance(item, str):
                used += len(item) + 2
            elif isinstance(item, (dict, list)):  # a tuple: `dict | list` would build a union on every item
                if depth > MAX_ARGUMENT_DEPTH:
                    return used, name
                used += 2
                for key, inner in item.items() if isinstance(item, dict) else enumerate(item):
                    used += len(key) + 4 if isinstance(key, str) else 1
                    stack.append((inner, depth + 1))
                    if used > limit:
                        break
            else:
                used += 8  # a number, true, false or null
        if used > limit:
            return used, name
    return used, None


def oversized(arguments: dict[str, Any], limit: int = MAX_ARGUMENT_CHARS) -> str | None:
    """The top-level argument at which `arguments` pass the limits (see `argument_size`), or None."""
    return argument_size(arguments, limit)[1]


def _readable_name(name: str) -> str:
    if controls := control_characters(name):
        raise ValueError(f"a name cannot hold control characters (found {', '.join(controls[:5])}): give it as one "
                         "line of visible text")
    if is_blank(name):
        raise ValueError("a name needs visible characters (spaces, zero-width and other blank characters do not "
                         "count)")
    if has_bidi_controls(name):
        raise ValueError("a name cannot hold text-direction control characters (they make it read differently)")
    return name


# Names are compared and sent trimmed; a blank or deceptive one is refused before anything is sent.
IntegrationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                            AfterValidator(_readable_name)]
Description = Annotated[str, StringConstraints(max_length=2000)]
# Switches are typed StrictBool: JSON true/false only; "yes", "on", 1 or "1" would otherwise pass as true.

ArgumentGuard = Callable[[dict[str, Any]], None]
"""Inspects raw tool arguments before validation; raises GuardrailError to refuse the call."""

# Only one of the two is in a tool's schema, depending on the confirmation policy (toolkit.calls.hidden_arguments).
CONFIRMATION_ID = Annotated[str | None, Field(max_length=64, description="From the refusal that showed the "
                                                 "change.")]
APPROVAL_ID = Annotated[str | None, Field(max_length=64,
                                          description="From the refusal's approval link, once approved.")]
