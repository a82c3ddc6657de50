"""What every vendor's tools share: annotations, paging types, progress, and registration (read-only mode, compact
schemas, refused unknown arguments, argument guards, fixed arguments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from integrations_mcp.errors import VendorUnavailable

if TYPE_CHECKING:
    from integrations_mcp.server.core import IntegrationsServer

__all__ = ["CREATES", "EDITS", "READ_ONLY", "ArgumentGuard", "IntegrationName", "Page", "PageSize", "Progress",
           "compact_schema", "register_tool", "vendor_record"]

# Honest hints; the server enforces the guardrails regardless of what a client does with them.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
CREATES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
EDITS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)

PageSize = Annotated[int, Field(ge=1, le=25, description="Results per page (1-25).")]
Page = Annotated[int, Field(ge=1, description="1-based page number.")]
# Names are compared and sent trimmed; a blank one is refused before anything is sent.
IntegrationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Progress:
    """Progress notifications for a multi-step write (checks, write, read-back); sent only when the client
    passed a progress token, so they cost nothing otherwise."""

    def __init__(self, ctx: Context, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    async def step(self, message: str) -> None:
        self.done += 1
        await self.ctx.report_progress(self.done, self.total, message)


M = TypeVar("M", bound=BaseModel)


def vendor_record(model: type[M], data: Any, vendor: str, operation: str, *, hint: str | None = None) -> M:
    """`data` from the vendor as `model`; an answer of another shape is a vendor fault with a clear message, not a
    bare "Error executing tool"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "the record"
        raise VendorUnavailable(vendor, operation, f"{vendor} sent an answer this server cannot read ({where}).",
                                hint=hint or "Try again; if it persists, report it.") from None


ArgumentGuard = Callable[[dict[str, Any]], None]
"""Inspects raw tool arguments before validation; raises GuardrailError to refuse the call."""


def register_tool(
    server: IntegrationsServer,
    fn: Callable[..., Any],
    *,
    annotations: ToolAnnotations,
    read_only: bool,
    guard: ArgumentGuard | None = None,
    title: str | None = None,
    fixed: dict[str, Any] | None = None,
) -> None:
    """Add `fn` as a tool named after the function, unless it writes and the server is read-only.

    `fixed` arguments (e.g. a tenant pinned by configuration) disappear from the input schema; the server fills
    them in, and a caller who sends them anyway is refused like any unknown argument."""
    if read_only and not annotations.read_only_hint:
        return
    # Docstrings are indented; every token of a description is paid for in every conversation, so collapse it.
    description = " ".join((fn.__doc__ or "").split())
    server.add_tool(fn, name=fn.__name__, title=title, description=description, annotations=annotations,
                    structured_output=True)
    tool = server._tool_manager.get_tool(fn.__name__)
    # Schemas are sent in every conversation: drop pydantic's generated titles (they repeat the property names),
    # and defaults from output schemas (they describe inputs, not what a result holds).
    tool.parameters = compact_schema(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = compact_schema(tool.fn_metadata.output_schema, drop=("title", "default"))
    # The SDK accepts (and drops) unknown top-level arguments; advertise that we refuse them.
    tool.parameters["additionalProperties"] = False
    for name, value in (fixed or {}).items():
        tool.parameters["properties"].pop(name, None)
        if name in tool.parameters.get("required", []):
            tool.parameters["required"].remove(name)
        server.fixed_arguments.setdefault(fn.__name__, {})[name] = value
    if guard is not None:
        server.argument_guards[fn.__name__] = guard


def compact_schema(schema: Any, *, drop: tuple[str, ...] = ("title",), in_properties: bool = False) -> Any:
    """A copy of a JSON schema without the `drop` keywords. Inside a `properties` map the keys are property names,
    so a property that is itself called "title" is kept."""
    if isinstance(schema, dict):
        return {key: compact_schema(value, drop=drop, in_properties=key == "properties" and not in_properties)
                for key, value in schema.items() if in_properties or key not in drop}
    if isinstance(schema, list):
        return [compact_schema(item, drop=drop) for item in schema]
    return schema
