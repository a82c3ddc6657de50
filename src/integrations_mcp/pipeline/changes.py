"""Field-level before/after views of a proposed change, for refusals, dry runs and write results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from integrations_mcp.guardrails.text import is_blank

__all__ = ["CHANGES_DESCRIPTION", "VERIFIED_DESCRIPTION", "FieldChange", "is_set", "render_changes"]

# Output schemas name these in words rather than nested schemas (every schema keyword is paid per conversation).
CHANGES_DESCRIPTION = "{field, saved, proposed, overwrites}; saved null: nothing before."
VERIFIED_DESCRIPTION = "Read back after the write: stored, not a connection test."


class FieldChange(BaseModel):
    """One field that a write changes. `saved` is None when nothing was saved before."""

    # The docstring above is part of every write tool's output schema: keep it short; the rest is said here.
    # `overwrites` is a fact, the same for every field of every vendor: a saved value (`is_set`) is replaced.
    # Whether that needs the person is decided by the vendor's confirmation rules, never by this flag.
    field: str
    saved: Any = None
    proposed: Any = None
    overwrites: bool = False

    @classmethod
    def of(cls, field: str, saved: Any, proposed: Any) -> FieldChange:
        return cls(field=field, saved=saved, proposed=proposed, overwrites=is_set(saved))

    def render(self) -> str:
        return f"- {self.field}: {_show(self.saved)} → {_show(self.proposed)}"


def is_set(value: Any) -> bool:
    """Set, as opposed to empty (null, {}, [] or a string of only spaces and invisible characters). false and 0
    are values."""
    if isinstance(value, str):
        return not is_blank(value)
    return value not in (None, {}, [])


def _show(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def render_changes(changes: list[FieldChange]) -> str:
    return "\n".join(change.render() for change in changes)
