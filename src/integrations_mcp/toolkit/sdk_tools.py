"""The one adapter onto the SDK's `Tool`.

Why it exists: the SDK generates a tool's input and output schemas from the function signature and offers no
public hook to post-process them. Schemas are sent in every conversation, so this module builds the SDK's `Tool`
with `Tool.from_function` and then adjusts the generated schemas before the tool is handed to
`MCPServer(tools=...)`: pydantic's titles dropped (they repeat the property names), defaults dropped from output
schemas (they describe inputs, not results), unknown top-level arguments declared refused, and the arguments that
the configuration fixes (a pinned tenant) or the confirmation policy hides removed. `FuncMetadata.output_schema` is
documented as read live, so reassigning it is supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.mcpserver.tools import Tool

from integrations_mcp.toolkit.declare import ToolDeclaration
from integrations_mcp.toolkit.lean_schema import lean_input_schema, lean_output_schema

__all__ = ["build_tool", "compact_schema"]


def build_tool(fn: Callable[..., Any], declaration: ToolDeclaration, *, fixed: Mapping[str, Any],
               hidden: Callable[[str], bool] = lambda name: False) -> Tool:
    """`fixed` arguments are filled in by the server; `hidden` ones keep their defaults. Neither is in the schema,
    and a caller who sends one is refused like any unknown argument."""
    # Docstrings are indented; every token of a description is paid for in every conversation, so collapse it.
    description = " ".join((fn.__doc__ or "").split())
    sdk_tool = Tool.from_function(fn, name=fn.__name__, title=declaration.title, description=description,
                                  annotations=declaration.annotations, structured_output=True)
    parameters = lean_input_schema(sdk_tool.parameters)
    parameters["additionalProperties"] = False  # the server refuses them (IntegrationsServer.call_tool)
    for name in [*fixed, *filter(hidden, list(parameters["properties"]))]:
        parameters["properties"].pop(name, None)
        if name in parameters.get("required", []):
            parameters["required"].remove(name)
    sdk_tool.parameters = parameters
    if sdk_tool.fn_metadata.output_schema is not None:
        sdk_tool.fn_metadata.output_schema = lean_output_schema(sdk_tool.fn_metadata.output_schema)
    return sdk_tool


def compact_schema(schema: Any, *, drop: tuple[str, ...] = ("title",), in_properties: bool = False) -> Any:
    """A copy of a JSON schema without the `drop` keywords. Inside a `properties` map the keys are property names,
    so a property that is itself called "title" is kept."""
    if isinstance(schema, dict):
        return {key: compact_schema(value, drop=drop, in_properties=key == "properties" and not in_properties)
                for key, value in schema.items() if in_properties or key not in drop}
    if isinstance(schema, list):
        return [compact_schema(item, drop=drop) for item in schema]
    return schema
