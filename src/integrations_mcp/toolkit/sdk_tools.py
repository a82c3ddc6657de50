"""The one adapter onto the SDK's `Tool`.

Why it exists: the SDK generates a tool's input and output schemas from the function signature and offers no
public hook to post-process them. Schemas are sent in every conversation, so this module builds the SDK's `Tool`
with `Tool.from_function` and then adjusts the generated schemas before the tool is handed to
`MCPServer(tools=...)`: both made lean (`lean_schema.py`: flat inputs, outputs to one level), unknown top-level
arguments declared refused, and the arguments that the configuration fixes (a pinned tenant) or the confirmation
policy hides removed. `FuncMetadata.output_schema` is
documented as read live, so reassigning it is supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.mcpserver.tools import Tool

from integrations_mcp.toolkit.declare import ToolDeclaration
from integrations_mcp.toolkit.lean_schema import lean_input_schema, lean_output_schema

__all__ = ["build_tool"]


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

