"""From a vendor's tool object to the specs the server is built with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver.tools import Tool

from integrations_mcp.toolkit.arguments import ArgumentGuard
from integrations_mcp.toolkit.declare import declared_tools
from integrations_mcp.toolkit.sdk_tools import build_tool, deferred_tools

__all__ = ["ToolSpec", "deferred_tool_specs", "tool_specs"]


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the server serves it: the SDK's tool, the guard run on its raw arguments, and the arguments the
    configuration fixes (hidden from the schema, filled in by the server)."""

    tool: Tool
    guard: ArgumentGuard | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tool.name


def tool_specs(tools: object, *, read_only: bool, guard: ArgumentGuard | None = None,
               fixed: Mapping[str, Any] | None = None,
               hidden: Callable[[str], bool] = lambda name: False) -> list[ToolSpec]:
    """Every `@tool` of `tools`, except the writing ones when the server is read-only (decided by the
    annotation, so a tool cannot be served read-only by mistake)."""
    fixed = dict(fixed or {})
    return [ToolSpec(build_tool(fn, declaration, fixed=fixed, hidden=hidden), guard, fixed)
            for fn, declaration in declared_tools(tools)
            if not (read_only and not declaration.annotations.read_only_hint)]


def deferred_tool_specs(module: str, tools: Callable[[], object], *, read_only: bool,
                        guard: ArgumentGuard | None = None, fixed: Mapping[str, Any] | None = None,
                        hidden: Callable[[str], bool] = lambda name: False) -> list[ToolSpec]:
    """`tool_specs(tools())`, where `module` declares the tools object's class (and no other tools class: every tool
    of the file is the object's), made from `module`'s shipped schema file (`sdk_tools`): neither `module` nor the
    object is imported or made until one of its tools is first called (cold start). `tools` is called then, and
    should give the same object each time (`Once`). Without the file, the object is made now and its tools built
    from the code."""
    fixed = dict(fixed or {})
    built = deferred_tools(module, lambda name: getattr(tools(), name), fixed=fixed, hidden=hidden)
    if built is None:
        return tool_specs(tools(), read_only=read_only, guard=guard, fixed=fixed, hidden=hidden)
    return [ToolSpec(sdk_tool, guard, fixed) for sdk_tool, declaration in built
            if not (read_only and not declaration.annotations.read_only_hint)]

