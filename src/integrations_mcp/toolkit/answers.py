"""The text of a successful tool result: a short summary a person (and a client that reads only text) can follow.

`structuredContent` holds the data; the text says what changed, what was verified and what is next, instead of
the SDK's pretty-printed copy of the same JSON. An output model gives its text with an `answer()` method; any other
result is sent as compact JSON. `answer()` depends on the model's fields only (no clock, no state): the server keeps
the texts it made by the answer's JSON (`KeptTexts`), so a record read again is not validated and worded again.

A `json_exact` output model may also give its JSON with a `structured_json()` method: byte for byte what its
serializer writes (by alias), made another way (a RevCent view writes the parts it shares with other reads once:
vendors/revcent/views.py `view_json`); the server uses that JSON (kept texts, output filter: toolkit/server.py).
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from integrations_mcp.pipeline.changes import FieldChange, render_changes

__all__ = ["KeptTexts", "compact_json", "json_exact", "text_answer", "write_answer"]

KEPT_MAX_BYTES = 4000  # neither the JSON nor the text of a kept answer is longer
KEPT_BYTES = 262_144  # the JSON and texts kept, in all (emptied when full)


def text_answer(output_model: type | None, structured: Mapping[str, Any], dumped: BaseModel | None = None) -> str:
    """`dumped`: the instance of `output_model` that `structured` is the dump of (mode "json", by alias), when the
    server made it: if its model is `json_exact`, validating the dump would give back its values, so its own answer()
    is the same text, made without that validation."""
    if isinstance(output_model, type) and issubclass(output_model, BaseModel) and hasattr(output_model, "answer"):
        if type(dumped) is output_model and json_exact(output_model):
            return dumped.answer()
        return output_model.model_validate(structured).answer()
    return compact_json(structured)


_EXACT_TYPES = (str, int, bool, type(None))


@functools.cache
def json_exact(model: type[BaseModel]) -> bool:
    """Whether dumping an instance of `model` (mode "json", by alias) and validating the dump gives back the instance's
    values: every field is a string, integer, boolean, None, a literal of these, a list or union of them or another
    such model, is dumped under a key it is also read by and is not excluded; the model keeps no extra fields and has
    no serializer or computed field. Not such: Any and dicts (a float NaN is dumped as null), floats, dates. Validators
    are taken to keep a value they made (tests/server/test_answers.py compares the two texts for every tool)."""
    return _exact_model(model, frozenset())


def _exact_model(model: type[BaseModel], seen: frozenset[type]) -> bool:
    decorators = model.__pydantic_decorators__
    if model in seen or model.model_computed_fields or decorators.field_serializers or decorators.model_serializers \
            or model.model_config.get("extra") == "allow":
        return False
    return all(_exact_field(name, field) and _exact_type(field.annotation, seen | {model})
               for name, field in model.model_fields.items())


def _exact_field(name: str, field: FieldInfo) -> bool:
    """Not excluded, and dumped under a key it is also read by."""
    alias = field.validation_alias
    if alias is None:
        read_by = {field.alias or name}
    elif isinstance(alias, str):
        read_by = {alias}
    elif isinstance(alias, AliasChoices):
        read_by = {a for a in alias.choices if isinstance(a, str)}
    else:  # an AliasPath: read from inside another key
        read_by = set()
    return not field.exclude and (field.serialization_alias or name) in read_by


def _exact_type(annotation: Any, seen: frozenset[type]) -> bool:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _exact_type(args[0], seen)
    if origin in (Union, types.UnionType, list):
        return all(_exact_type(arg, seen) for arg in args)
    if origin is Literal:
        return all(type(arg) in _EXACT_TYPES for arg in args)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _exact_model(annotation, seen)
    return annotation in _EXACT_TYPES


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
