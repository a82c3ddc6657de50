"""The MCP server class: the SDK's MCPServer plus argument checks the SDK does not do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult

from integrations_mcp.errors import GuardrailError
from integrations_mcp.lazy_http import HttpClients
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.toolkit.registration import ToolSpec

__all__ = ["IntegrationsServer"]


class IntegrationsServer(MCPServer):
    """Refuses unknown top-level arguments (the SDK would silently drop them) and runs per-tool guards (e.g. the
    raw-credential firewall) before the SDK validates and calls the tool. Arguments fixed by the configuration (a
    pinned tenant) are hidden from the schema and filled in here."""

    def __init__(self, *args: Any, tool_specs: Sequence[ToolSpec] = (), **kwargs: Any) -> None:
        super().__init__(*args, tools=[spec.tool for spec in tool_specs], **kwargs)
        self.tool_specs = {spec.name: spec for spec in tool_specs}
        self.secure_forms: SecureFormServer | None = None  # the server's own secure form page, when a vendor needs it
        self.http_clients = HttpClients()  # the vendors' HTTP clients, made on first use, closed with the server

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        spec = self.tool_specs.get(name)
        if spec is not None:
            if spec.guard is not None:
                spec.guard(arguments)
            known = set(spec.tool.parameters.get("properties", {}))
            unknown = sorted(set(arguments) - known)
            if unknown:
                raise GuardrailError(
                    f"Unknown argument(s) for {name}: {', '.join(unknown)}. Nothing was sent. "
                    f"Valid arguments: {', '.join(sorted(known)) or 'none'}."
                )
            arguments = {**arguments, **spec.fixed}
        result: CallToolResult = await super().call_tool(name, arguments, context)
        return result
