"""One shape for every failed tool call, whatever raised it.

The first line names the kind (`Refused:`, `Invalid argument:`, `Vendor error:`, `Vendor unavailable:`,
`Write outcome unknown:`, `Unknown tool:`, `Server error:`) and what was wrong; the lines after it name the field,
what is valid and the next call. What a vendor said inside is the error's own text (scrubbed and quoted where it
is raised): this module only frames it.

Argument validation failures never echo the rejected value (pydantic's own text does; a secret typed into the
wrong argument would come back into the conversation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from integrations_mcp.errors import ConfigurationError, IntegrationsError
from integrations_mcp.toolkit.arguments import MAX_ARGUMENT_CHARS, MAX_ARGUMENT_DEPTH

__all__ = ["FramedError", "frame", "framed_failure", "invalid_arguments", "too_large", "unknown_arguments",
           "valid_values"]

NOTHING_SENT = "Nothing was sent."


class FramedError(ToolError):
    """A failure whose text is already in the one shape."""


def frame(kind: str, what: str, *, field: str | None = None, valid: str | None = None,
          next_call: str | None = None) -> str:
    """`Kind: what` on the first line, then `Field:`, `Valid:` and `Next:` lines for those given."""
    what = what.strip()
    if what.startswith(f"{kind}:"):
        what = what[len(kind) + 1:].strip()
    lines = [f"{kind}: {what}"]
    lines += [f"{label}: {value}" for label, value in (("Field", field), ("Valid", valid), ("Next", next_call))
              if value]
    return "\n".join(lines)


def framed_failure(tool: str, exc: ToolError, input_schema: Mapping[str, Any] | None, tools: Iterable[str]) -> str:
    """The model-facing text of any ToolError the SDK or this project raised during a call of `tool`."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError) and input_schema is not None:
        return invalid_arguments(tool, cause, input_schema)
    if isinstance(exc, IntegrationsError):
        return frame(exc.kind, str(exc), **exc.frame_lines)
    if isinstance(cause, IntegrationsError):
        return frame(cause.kind, str(cause), **cause.frame_lines)
    if isinstance(cause, ConfigurationError):  # e.g. the state database, opened by its first use: names the setting
        return frame("Server error", f"{tool} cannot run: {str(cause).rstrip('.')}.",
                     next_call="tell the user that the server's operator must fix its configuration; if this was a "
                               "write, read the integration back before anything else")
    text = str(exc)
    if text.startswith("Unknown tool:"):
        return frame("Unknown tool", f"{tool} is not a tool of this server. {NOTHING_SENT}",
                     valid=", ".join(sorted(tools)), next_call="call one of those")
    return frame("Server error", f"{tool} failed inside this server (the details are in its log).",
                 next_call="if this was a write, read the integration back before anything else; never simply "
                           "call again")


def unknown_arguments(tool: str, unknown: list[str], known: Iterable[str]) -> str:
    return frame("Invalid argument", f"unknown argument(s) for {tool}: {', '.join(unknown)}. {NOTHING_SENT}",
                 field=", ".join(unknown), valid=", ".join(sorted(known)) or "no arguments",
                 next_call=f"call {tool} again without them")


def too_large(tool: str, where: str, known: Iterable[str]) -> str:
    """Arguments over the size limit (toolkit.arguments.oversized), refused before anything reads them. Only a known
    argument is named (an unknown name may be anything, a pasted secret too)."""
    field = where if where in set(known) else None
    return frame("Invalid argument", f"the arguments of {tool} are too large{f' at {field}' if field else ''}: more "
                 f"than {MAX_ARGUMENT_CHARS} characters in all, or nested more than {MAX_ARGUMENT_DEPTH} levels. They "
                 f"were not read. {NOTHING_SENT}", field=field,
                 valid=f"at most {MAX_ARGUMENT_CHARS} characters of arguments (a name at most 200, a description at "
                       "most 2000)",
                 next_call=f"call {tool} again with shorter values; never put file contents or logs in arguments")


def invalid_arguments(tool: str, error: ValidationError, input_schema: Mapping[str, Any]) -> str:
    found: dict[str, tuple[str, str]] = {}  # path -> (problem, what is valid)
    for item in error.errors(include_input=False, include_url=False):
        loc, schema = _argument_at(input_schema, item["loc"])
        where = _path(loc)
        message = "missing (required)" if item["type"] == "missing" else _message(item["msg"])
        if where in found and found[where][0] != message:
            message = "not a valid value"  # one error per member of a union: say it once
        found[where] = (message, valid_values(schema))
    what = "; ".join(f"{where}: {problem}" for where, (problem, _) in found.items())
    valid = "; ".join(f"{where}: {described}" for where, (_, described) in found.items() if described)
    ids = " (ids come from the Get/List tools; never invent one)" if any(
        where.rsplit(".", 1)[-1].split("[")[0].endswith("id") for where in found) else ""
    return frame("Invalid argument", f"{what}. {NOTHING_SENT}", field=", ".join(found), valid=valid or None,
                 next_call=f"call {tool} again with {'that' if len(found) == 1 else 'those'} fixed{ids}")


def valid_values(schema: Mapping[str, Any] | None) -> str:
    """A short description of what a schema accepts: `true or false`, `integer 1-25`, `string matching ...`."""
    if not schema:
        return ""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kinds == ["boolean"]:
        return "true or false (JSON booleans)"
    if kinds == ["integer"] or kinds == ["number"]:
        low, high = schema.get("minimum"), schema.get("maximum")
        bounds = f" {low}-{high}" if low is not None and high is not None else (
            f" >= {low}" if low is not None else f" <= {high}" if high is not None else "")
        return f"{kinds[0]}{bounds}"
    if kinds == ["string"]:
        if schema.get("format"):
            return f"a {schema['format']} string"
        if schema.get("pattern"):
            return f"string matching {schema['pattern']}"
        low, high = schema.get("minLength"), schema.get("maxLength")
        return "string" + (f" of {low or 0}-{high} characters" if high else " (not empty)" if low else "")
    if kinds == ["array"]:
        inner = valid_values(schema.get("items"))
        return f"a list{' of ' + inner if inner else ''}"
    if kinds == ["object"]:
        names = list(schema.get("properties", {}))
        return "an object" + (f" with {', '.join(names)}" if names else "")
    return " or ".join(str(k) for k in kinds if k)


def _argument_at(schema: Mapping[str, Any], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Mapping[str, Any] | None]:
    """The part of `loc` that names an argument (pydantic adds the name of a union member after it) and the schema
    there."""
    node: Any = schema
    for depth, part in enumerate(loc):
        props = node.get("properties") if isinstance(node, Mapping) else None
        extra = node.get("additionalProperties") if isinstance(node, Mapping) else None
        if isinstance(part, int) and isinstance(node, Mapping) and "items" in node:
            node = node["items"]
        elif isinstance(props, Mapping) and part in props:
            node = props[part]
        elif isinstance(extra, Mapping) and not isinstance(part, int):
            node = extra
        else:
            return loc[:depth], node if isinstance(node, Mapping) else None
    return loc, node if isinstance(node, Mapping) else None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(arguments)"


def _message(msg: str) -> str:
    if msg.startswith("String should match pattern"):
        return "wrong format"  # the pattern itself is on the Valid line (or is a long regex the model need not read)
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ").rstrip(".")
