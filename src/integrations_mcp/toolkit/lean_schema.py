"""Lean JSON schemas: what the SDK generates from pydantic, cut to what a model (and a strict-mode client) needs.

Schemas are sent in every conversation, so every keyword costs. Inputs are made flat (no `$ref`/`$defs`, which
strict-mode clients reject or mishandle) and an optional property is a plain optional property, not
`anyOf [X, null]` with `default: null`; length and count caps of 50 and more (abuse guards), `minLength: 1`
and defaults at a bound are left out.
Outputs keep their shape to a fixed depth and only the type below it: the
model needs to know where the data is, not a copy of every vendor record's nested schema.
Validation is unaffected: the SDK validates arguments and results with the pydantic models, not these schemas.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["lean_input_schema", "lean_output_schema"]

OUTPUT_DEPTH = 1  # levels of named properties kept in an output schema (top level = 1)
_ALWAYS_DROPPED = ("title",)
ABUSE_CAP = 50  # maxLength/maxItems from here up guard the server, and say nothing a model needs


def lean_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    lean = _lean(schema, defs, nullable="drop", drop_defaults=(None, False))
    lean.pop("$defs", None)
    return lean


def lean_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    lean = _lean(schema, defs, nullable="type", drop_defaults="all", depth=OUTPUT_DEPTH)
    lean.pop("$defs", None)
    return lean


def _lean(node: Any, defs: dict[str, Any], *, nullable: str, drop_defaults: Any, depth: int | None = None) -> Any:
    if isinstance(node, list):
        return [_lean(item, defs, nullable=nullable, drop_defaults=drop_defaults, depth=depth) for item in node]
    if not isinstance(node, dict):
        return node
    node = _resolve(node, defs)
    node = _types_of_any_of(_without_null(node, defs, nullable))
    if depth is not None and depth <= 0 and ("properties" in node or "items" in node):
        kept = {key: node[key] for key in ("type", "description") if key in node}
        items = _resolve(node.get("items", {}), defs)
        if isinstance(items.get("type"), str) and "properties" not in items and "items" not in items:
            kept["items"] = {"type": items["type"]}  # a list of strings says so
        return kept
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ALWAYS_DROPPED or key == "$defs" or (key == "additionalProperties" and value is True):
            continue
        if key == "default" and (drop_defaults == "all" or any(value is d for d in drop_defaults)):
            continue
        if key in ("minLength", "maxLength") and _fixed_length_pattern(node):
            continue  # the pattern already says the length
        if key in ("maxLength", "maxItems") and isinstance(value, int) and value >= ABUSE_CAP:
            continue  # a cap against abuse, not guidance: no sensible value comes near it (still enforced)
        if depth is None and _says_nothing(key, value, node):
            continue
        if key == "required" and (depth is not None or value == []):
            continue  # in an output, which fields are always present is noise to the model
        if key == "properties":
            deeper = None if depth is None else depth - 1
            out[key] = {name: _lean(sub, defs, nullable=nullable, drop_defaults=drop_defaults, depth=deeper)
                        for name, sub in value.items()}
        else:
            out[key] = _lean(value, defs, nullable=nullable, drop_defaults=drop_defaults, depth=depth)
    return out


def _says_nothing(key: str, value: Any, node: dict[str, Any]) -> bool:
    """Input keywords a model would assume anyway: a non-empty string (`minLength: 1`; blank values are refused
    with a clear error all the same), a default at one of the bounds (the first page, the largest page size)."""
    if key == "minLength":
        return value == 1
    return key == "default" and isinstance(value, int) and value in (node.get("minimum"), node.get("maximum"))


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    target = defs[ref.removeprefix("#/$defs/")]
    # The referring node's own keywords (a field description) win over the definition's.
    return {**_resolve(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}


def _without_null(node: dict[str, Any], defs: dict[str, Any], nullable: str) -> dict[str, Any]:
    """`anyOf [X, {"type": "null"}]`: in inputs just X (the property is optional); in outputs X with `null` added
    to its type when X has one simple type."""
    variants = node.get("anyOf")
    if not isinstance(variants, list) or {"type": "null"} not in variants:
        return node
    rest = [v for v in variants if v != {"type": "null"}]
    outer = {k: v for k, v in node.items() if k != "anyOf"}
    if len(rest) != 1:
        return {**outer, "anyOf": rest} if nullable == "drop" else node
    inner = dict(_resolve(rest[0], defs))
    if nullable == "type" and isinstance(inner.get("type"), str):
        inner["type"] = [inner["type"], "null"]
    elif nullable == "type":
        return node
    return {**inner, **outer}


def _types_of_any_of(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf` of bare types (`{"type": "string"}`, `{"type": "object"}`...) is a list of types."""
    variants = node.get("anyOf")
    if not isinstance(variants, list) or not all(
            isinstance(v, dict) and isinstance(v.get("type"), str) and set(v) - {"additionalProperties"} == {"type"}
            and v.get("additionalProperties", True) is True for v in variants):
        return node
    return {"type": [v["type"] for v in variants], **{k: v for k, v in node.items() if k != "anyOf"}}


_ONE_CLASS_REPEATED = re.compile(r"\^\[[^\]]*\]\{(\d+)(?:,(\d+))?\}\$")  # ^[...]{n}$ or ^[...]{a,b}$


def _fixed_length_pattern(node: dict[str, Any]) -> bool:
    """Whether the pattern alone fixes the string's length bounds, exactly as minLength/maxLength state them."""
    pattern = node.get("pattern")
    match = _ONE_CLASS_REPEATED.fullmatch(pattern) if isinstance(pattern, str) else None
    if match is None:
        return False
    low, high = int(match[1]), int(match[2] or match[1])
    return node.get("minLength", low) == low and node.get("maxLength", high) == high
