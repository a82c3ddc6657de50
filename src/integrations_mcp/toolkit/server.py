"""The MCP server class: the SDK's MCPServer plus argument checks the SDK does not do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import MAX_ERROR_CHARS, clean_output, clean_text, handed_over
from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import listing
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.toolkit.registration import ToolSpec

__all__ = ["IntegrationsServer"]


class IntegrationsServer(MCPServer):
    """Refuses unknown top-level arguments (the SDK would silently drop them) and runs per-tool guards (e.g. the
    raw-credential firewall) before the SDK validates and calls the tool. Arguments fixed by the configuration (a
    pinned tenant) are hidden from the schema and filled in here. Every result and every tool error passes the
    output filter (`guardrails.outputs`) before the SDK sends or logs it."""

    def __init__(self, *args: Any, tool_specs: Sequence[ToolSpec] = (), **kwargs: Any) -> None:
        super().__init__(*args, tools=[spec.tool for spec in tool_specs], **kwargs)
        self.tool_specs = {spec.name: spec for spec in tool_specs}
        self.secure_forms: SecureFormServer | None = None  # the server's own secure form page, when a vendor needs it

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        try:
            result = await self._call_tool(name, arguments, context)
        except ToolError as exc:
            # The SDK sends and logs str(exc): clean it in place, keeping its type and cause (the SDK logs only
            # field names of a ValidationError cause).
            exc.args = (clean_text(str(exc), limit=MAX_ERROR_CHARS),)
            raise
        if isinstance(result, CallToolResult):
            links = handed_over(result.structured_content)
            result.content = [TextContent(type="text", text=clean_text(c.text, keep=links))
                              if isinstance(c, TextContent) else c for c in result.content]
            if result.structured_content is not None:
                result.structured_content = clean_output(result.structured_content)
        return result

    async def _call_tool(self, name: str, arguments: dict[str, Any], context: Context | None) -> Any:
        spec = self.tool_specs.get(name)
        if spec is not None:
            if spec.guard is not None:
                spec.guard(arguments)
            known = set(spec.tool.parameters.get("properties", {}))
            unknown = sorted(set(arguments) - known)
            if unknown:
                raise GuardrailError(
                    f"Unknown argument(s) for {name}: {mask_secret_values(listing(unknown))}. Nothing was sent. "
                    f"Valid arguments: {', '.join(sorted(known)) or 'none'}."
                )
            arguments = {**arguments, **spec.fixed}
        result: CallToolResult = await super().call_tool(name, arguments, context)
        return result
