"""The confirm stage: the one place that decides whether a planned change needs the person, and whether it has
been confirmed.

Today the model confirms by setting a flag after asking the user. Confirmation through the person directly
(elicitation, an approval page) replaces `decide` here; the write tools only say *what* needs confirming.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.pipeline.changes import FieldChange, render_changes

__all__ = ["ConfirmationRequest", "decide", "dry_run_steps", "unconfirmed"]


@dataclass(frozen=True)
class ConfirmationRequest:
    flag: str  # the tool argument that confirms, e.g. "confirm_overwrite"
    reason: str  # what needs confirming, one sentence
    changes: list[FieldChange] = field(default_factory=list)
    consequence: str = ""  # what happens if the user agrees


def unconfirmed(requests: Iterable[ConfirmationRequest], confirmed: Iterable[str]) -> list[ConfirmationRequest]:
    given = set(confirmed)
    return [request for request in requests if request.flag not in given]


def decide(requests: Iterable[ConfirmationRequest], confirmed: Iterable[str]) -> None:
    """Return if every request is confirmed; otherwise refuse with what the user must be shown (the first
    unconfirmed request, so the person decides one thing at a time)."""
    pending = unconfirmed(requests, confirmed)
    if not pending:
        return
    request = pending[0]
    lines = [f"Refused: {request.reason}"]
    if request.changes:
        lines += ["Saved → proposed:", render_changes(request.changes)]
    if request.consequence:
        lines.append(request.consequence)
    lines.append(f"Nothing was sent. Show this to the user; only if they agree, call again with {request.flag}=true.")
    raise GuardrailError("\n".join(lines), details={"flag": request.flag,
                                                     "changes": [c.model_dump() for c in request.changes]})



def dry_run_steps(needed: list[ConfirmationRequest], goal: str) -> list[str]:
    """A dry run's next steps: each confirmation the real call still needs, then the call (`goal`: "to create it")."""
    steps = [f"Needs {r.flag}=true: {r.reason} Ask the user; set it only if they agree." for r in needed]
    given = " (and with the flags the user agreed to)" if needed else ""
    return [*steps, f"Call again without dry_run{given} {goal}."]
