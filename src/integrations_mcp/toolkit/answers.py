"""The text of a successful tool result: a short summary a person (and a client that reads only text) can follow.

`structuredContent` holds the data; the text says what changed, what was verified and what is next, instead of
the SDK's pretty-printed copy of the same JSON. An output model gives its text with an `answer()` method; any other
result is sent as compact JSON. `answer()` depends on the model's fields only (no clock, no state): the server keeps
the texts it made by the answer's JSON (`KeptTexts`), so a record read again is not validated and worded again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from integrations_mcp.pipeline.changes import FieldChange, render_changes

__all__ = ["KeptTexts", "compact_json", "text_answer", "write_answer"]

KEPT_MAX_BYTES = 4000  # neither the JSON nor the text of a kept answer is longer
KEPT_BYTES = 262_144  # the JSON and texts kept, in all (emptied when full)


def text_answer(output_model: type | None, structured: Mapping[str, Any]) -> str:
    if isinstance(output_model, type) and issubclass(output_model, BaseModel) and hasattr(output_model, "answer"):
        return output_model.model_validate(structured).answer()
    return compact_json(structured)


class KeptTexts:
    """The text answers made, by tool and structuredContent JSON (`text_answer` is a function of them), only those
    that passed the output filter whole (what was sent anyway): bounded, emptied when full."""

    def __init__(self) -> None:
        self._texts: dict[tuple[str, bytes], str] = {}
        self._bytes = 0

    def get(self, tool: str, structured: bytes | None) -> str | None:
        return None if structured is None else self._texts.get((tool, structured))

    def keep(self, tool: str, structured: bytes, text: str) -> None:
        size = len(structured) + len(text)
        if len(structured) > KEPT_MAX_BYTES or len(text) > KEPT_MAX_BYTES:
            return
        if self._bytes + size > KEPT_BYTES:
            self._texts.clear()
            self._bytes = 0
        self._texts[tool, structured] = text
        self._bytes += size


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
