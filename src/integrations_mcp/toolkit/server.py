"""The MCP server class: the SDK's MCPServer plus argument checks the SDK does not do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import MAX_ERROR_CHARS, clean_output, clean_text, own_links
from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import listing
from integrations_mcp.lazy_http import HttpClients
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.state.store import StateStore
from integrations_mcp.toolkit.access import READ_SCOPE, WRITE_SCOPE, may_call
from integrations_mcp.toolkit.answers import text_answer
from integrations_mcp.toolkit.refusals import FramedError, framed_failure, unknown_arguments
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
        self.state: StateStore | None = None  # the state database (journal, spent forms), set by server.app
        self.owner_base: str | None = None  # the session binding's base shared by replicas (toolkit.identity)
        self.http_clients = HttpClients()  # the vendors' HTTP clients, made on first use, closed with the server

    async def list_tools(self) -> list[MCPTool]:
        """A caller whose access token has only the read scope sees the read tools only."""
        return [tool for tool in await super().list_tools() if may_call(tool.annotations)]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        """Every result and every failure passes the output filter (`guardrails.outputs`) before the SDK sends or
        logs it."""
        with own_links() as links:  # the links the tool makes for the person (outputs.own_link) pass whole
            try:
                result = await self._call_tool(name, arguments, context)
            except ToolError as exc:
                # The SDK sends and logs str(exc): clean it in place, keeping its type and cause (the SDK logs only
                # field names of a ValidationError cause).
                exc.args = (clean_text(str(exc), limit=MAX_ERROR_CHARS, keep=links),)
                raise
        if isinstance(result, CallToolResult):
            result.content = [TextContent(type="text", text=clean_text(c.text, keep=links))
                              if isinstance(c, TextContent) else c for c in result.content]
            if result.structured_content is not None:
                result.structured_content = clean_output(result.structured_content, keep=links)
        return result

    async def _call_tool(self, name: str, arguments: dict[str, Any], context: Context | None) -> Any:
        """Every failure leaves here in the one refusal shape (toolkit/refusals.py)."""
        spec = self.tool_specs.get(name)
        try:
            if spec is not None and not may_call(spec.tool.annotations):
                raise GuardrailError(
                    f"Refused: {name} changes data and this access token has the {READ_SCOPE} scope only. Nothing "
                    f"was sent. Use the read tools, or ask the server's operator for a token with {WRITE_SCOPE}.")
            if spec is not None:
                if spec.guard is not None:
                    spec.guard(arguments)
                known = set(spec.tool.parameters.get("properties", {}))
                unknown = sorted(set(arguments) - known)
                if unknown:
                    # Bounded (20,000 names must not give a megabyte) and masked (a name may be a pasted secret).
                    raise FramedError(unknown_arguments(name, [mask_secret_values(listing(unknown))], known))
                arguments = {**arguments, **spec.fixed}
            result = await super().call_tool(name, arguments, context)
        except FramedError:
            raise
        except UnexpectedToolError as exc:
            raise UnexpectedToolError(framed_failure(name, exc, None, self.tool_specs)) from exc.__cause__
        except ToolError as exc:
            schema = spec.tool.parameters if spec is not None else None
            # A validation error stays the cause: the SDK then logs only the names of the fields, not the values.
            cause = exc.__cause__ if isinstance(exc.__cause__, ValidationError) else exc
            raise FramedError(framed_failure(name, exc, schema, self.tool_specs)) from cause
        if spec is not None and isinstance(result, CallToolResult) and result.structured_content is not None \
                and not result.is_error:
            text = text_answer(spec.tool.fn_metadata.output_model, result.structured_content)
            result = result.model_copy(update={"content": [TextContent(type="text", text=text)]})
        return result
