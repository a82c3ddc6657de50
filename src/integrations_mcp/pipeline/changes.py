"""Field-level before/after views of a proposed change, for refusals, dry runs and write results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["FieldChange", "render_changes"]


class FieldChange(BaseModel):
    """One field that a write changes. `saved` is None when nothing was saved before."""

    field: str
    saved: Any = None
    proposed: Any = None
    overwrites: bool = False  # True when a non-empty saved value would be replaced

    def render(self) -> str:
        return f"- {self.field}: {_show(self.saved)} → {_show(self.proposed)}"


def _show(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def render_changes(changes: list[FieldChange]) -> str:
    return "\n".join(change.render() for change in changes)
