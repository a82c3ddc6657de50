"""The one place that decides whether a risky change has been confirmed.

Today the model confirms by setting a flag after asking the user. A later step will ask the human
directly through MCP elicitation; only this module will change when it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.diff import FieldChange, render_changes

__all__ = ["ConfirmationRequest", "require_confirmation"]


@dataclass(frozen=True)
class ConfirmationRequest:
    flag: str  # the tool argument that confirms, e.g. "confirm_overwrite"
    reason: str  # what needs confirming, one sentence
    changes: list[FieldChange] = field(default_factory=list)
    consequence: str = ""  # what happens if the user agrees


def require_confirmation(request: ConfirmationRequest, *, confirmed: bool) -> None:
    """Return if the change may go ahead; otherwise refuse with what the user must be shown."""
    if confirmed:
        return
    lines = [f"Refused: {request.reason}"]
    if request.changes:
        lines += ["Saved → proposed:", render_changes(request.changes)]
    if request.consequence:
        lines.append(request.consequence)
    lines.append(f"Nothing was sent. Show this to the user; only if they agree, call again with {request.flag}=true.")
    raise GuardrailError("\n".join(lines), details={"flag": request.flag,
                                                     "changes": [c.model_dump() for c in request.changes]})
