"""The MCP server class: the SDK's MCPServer plus argument checks the SDK does not do."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult

from integrations_mcp.errors import GuardrailError
from integrations_mcp.server.secret_form_page import SecretFormServer
from integrations_mcp.tools.common import ArgumentGuard

__all__ = ["IntegrationsServer"]


class IntegrationsServer(MCPServer):
    """Refuses unknown top-level arguments (the SDK would silently drop them) and runs per-tool guards
    (e.g. the raw-credential firewall) before the SDK validates and calls the tool. Arguments fixed by the
    configuration (a pinned tenant) are hidden from the schema and filled in here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.argument_guards: dict[str, ArgumentGuard] = {}
        self.fixed_arguments: dict[str, dict[str, Any]] = {}
        self.secret_forms: SecretFormServer | None = None  # the server's own secure form page, when a vendor needs it

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            if guard := self.argument_guards.get(name):
                guard(arguments)
            known = set(tool.parameters.get("properties", {}))
            unknown = sorted(set(arguments) - known)
            if unknown:
                raise GuardrailError(
                    f"Unknown argument(s) for {name}: {', '.join(unknown)}. Nothing was sent. "
                    f"Valid arguments: {', '.join(sorted(known)) or 'none'}."
                )
            arguments = {**arguments, **self.fixed_arguments.get(name, {})}
        result: CallToolResult = await super().call_tool(name, arguments, context)
        return result
