"""Argument types every vendor's tools share, and the shape of an argument guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from integrations_mcp.guardrails.text import has_bidi_controls, is_blank

__all__ = ["APPROVAL_ID", "CONFIRMATION_ID", "ArgumentGuard", "Description", "IntegrationName", "Page", "PageSize",
           "StrictBool"]

PageSize = Annotated[int, Field(ge=1, le=25)]
Page = Annotated[int, Field(ge=1)]


def _readable_name(name: str) -> str:
    if is_blank(name):
        raise ValueError("a name needs visible characters")
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
