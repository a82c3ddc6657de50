"""The text of a successful tool result: a short summary a person (and a client that reads only text) can follow.

`structuredContent` holds the data; the text says what changed, what was verified and what is next, instead of
the SDK's pretty-printed copy of the same JSON. An output model gives its text with an `answer()` method; any other
result is sent as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from integrations_mcp.pipeline.changes import FieldChange, render_changes

__all__ = ["compact_json", "text_answer", "write_answer"]


def text_answer(output_model: type | None, structured: Mapping[str, Any]) -> str:
    if isinstance(output_model, type) and issubclass(output_model, BaseModel) and hasattr(output_model, "answer"):
        return output_model.model_validate(structured).answer()
    return compact_json(structured)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_answer(*, dry_run: bool, target: str | None, changes: list[FieldChange], read_back: str | None,
                 mismatches: list[str], readiness: Iterable[str], next_steps: list[str]) -> str:
    """The vendor-neutral frame of a write result; `read_back` and `readiness` are the vendor's lines."""
    if dry_run:
        lines = ["Dry run: nothing was written. It would change:" if changes else "Dry run: nothing would change."]
    else:
        lines = [f"Written{f' ({target})' if target else ''}. Changed:" if changes else
                 f"Written{f' ({target})' if target else ''}."]
    if changes:
        lines.append(render_changes(changes))
    if read_back is not None:
        lines.append(f"Read back: {read_back}")
        if not mismatches:
            lines.append("Verified: stored as sent (this does not test the connection to the provider).")
    if mismatches:
        lines.append("NOT as sent:")
        lines += [f"- {m}" for m in mismatches]
    lines += list(readiness)
    lines += [f"Next: {step}" for step in next_steps]
    return "\n".join(lines)
