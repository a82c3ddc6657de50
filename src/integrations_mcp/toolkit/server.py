"""The MCP server class: the SDK's MCPServer plus argument checks the SDK does not do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import pydantic_core
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolRequestParams, CallToolResult, TextContent
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, ValidationError

from integrations_mcp import telemetry
from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import MAX_ERROR_CHARS, clean_output, clean_text, own_links
from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import listing
from integrations_mcp.lazy_http import HttpClients
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.state.store import StateStore
from integrations_mcp.toolkit.access import READ_SCOPE, WRITE_SCOPE, may_call
from integrations_mcp.toolkit.answers import KeptTexts, json_exact, text_answer
from integrations_mcp.toolkit.arguments import argument_size
from integrations_mcp.toolkit.refusals import FramedError, framed_failure, too_large, unknown_arguments
from integrations_mcp.toolkit.registration import ToolSpec
from integrations_mcp.toolkit.tool_list import ToolListCache

__all__ = ["IntegrationsServer"]

INLINE_GUARD_CHARS = 4_000  # arguments larger than this are scanned in a worker thread
# Answers larger than this are filtered in a worker thread. The filter holds the GIL either way, so a thread lets
# the event loop in only every switch interval (5 ms): below that much work (~30 K characters filtered cold, a
# 100-row CxEngage page) the hop costs and the loop waits just as long.
INLINE_ANSWER_CHARS = 32_000


class IntegrationsServer(MCPServer):
    """Refuses unknown top-level arguments (the SDK would silently drop them) and runs per-tool guards (e.g. the
    raw-credential firewall) before the SDK validates and calls the tool. Arguments fixed by the configuration (a
    pinned tenant) are hidden from the schema and filled in here."""

    def __init__(self, *args: Any, tool_specs: Sequence[ToolSpec] = (), **kwargs: Any) -> None:
        self.tool_list = ToolListCache()  # innermost server middleware: tools/list made once per version and scope
        super().__init__(*args, tools=[spec.tool for spec in tool_specs],
                         middleware=[*kwargs.pop("middleware", ()), self.tool_list], **kwargs)
        self.tool_specs = {spec.name: spec for spec in tool_specs}
        self.secure_forms: SecureFormServer | None = None  # the server's own secure form page, when a vendor needs it
        self.state: StateStore | None = None  # the state database (journal, spent forms), set by server.app
        self.owner_base: str | None = None  # the session binding's base shared by replicas (toolkit.identity)
        self.http_clients = HttpClients()  # the vendors' HTTP clients, made on first use, closed with the server
        self.kept_texts = KeptTexts()  # text answers made before, by their structuredContent (toolkit/answers.py)
        telemetry.serving(self)  # its tool and prompt names may appear in exported spans

    async def list_tools(self) -> list[MCPTool]:
        """A caller whose access token has only the read scope sees the read tools only (on the wire, answered from
        `self.tool_list` after the first time)."""
        return [tool for tool in await super().list_tools() if may_call(tool.annotations)]

    def add_tool(self, *args: Any, **kwargs: Any) -> None:
        super().add_tool(*args, **kwargs)
        self.tool_list.clear()

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self.tool_list.clear()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Context | None = None) -> Any:
        """An unknown prompt or bad prompt arguments: an invalid-params error naming what is valid (the SDK raises a
        bare ValueError, which reaches the client as error code 0 and the log as a traceback)."""
        known = sorted(prompt.name for prompt in await self.list_prompts())
        if name not in known:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt {clean_text(name[:100])!r}. Prompts: "
                                           f"{', '.join(known) or 'none'}.")
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, f"Prompt {name}: {clean_text(str(exc), limit=1000)}") from None

    async def _handle_call_tool(self, ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> Any:
        """The SDK's `tools/call` handler; a result whose structuredContent this server dumped from a model
        (`_Dumped`) goes to the SDK as its wire dict (`_wire`), so the SDK's check of the result against the protocol
        version's shape, which it makes of a dict as of a model, is the only walk of it (a model is dumped first)."""
        result = await super()._handle_call_tool(ctx, params)
        return _wire(result) if type(result) is _Dumped else result

    @telemetry.tool_calls  # calls per tool and outcome, refusals by rule
    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        """Every result and every failure passes the output filter (`guardrails.outputs`) before the SDK sends or
        logs it."""
        with own_links() as links:  # the links the tool makes for the person (outputs.own_link) pass whole
            try:
                result, converted, dumped = await self._call_tool(name, arguments, context)
            except ToolError as exc:
                # The SDK sends and logs str(exc): clean it in place, keeping its type and cause (the SDK logs only
                # field names of a ValidationError cause).
                exc.args = (clean_text(str(exc), limit=MAX_ERROR_CHARS, keep=links),)
                raise
            if not isinstance(result, CallToolResult):
                return result
            structured = _structured_json(result, dumped)
            result, made = self._with_text(name, result, structured if converted else None, dumped)
        shown = (result.content, result.structured_content)
        if _answer_chars(result, structured) > INLINE_ANSWER_CHARS:
            # A large answer (long texts stored at the vendor) is filtered off the event loop.
            await anyio.to_thread.run_sync(_clean_result, result, links, structured)
        else:
            _clean_result(result, links, structured)
        if made is not None and converted and structured is not None and result.content[0] is shown[0][0] \
                and (result.structured_content is shown[1] or result.structured_content == shown[1]):
            self.kept_texts.keep(name, structured, made)  # it passed the filter whole
        return result

    def _with_text(self, name: str, result: CallToolResult, structured: bytes | None,
                   dumped: BaseModel | None = None) -> tuple[CallToolResult, str | None]:
        """A tool's structured result with its text answer (`toolkit.answers`) as its one text part, and that text
        when it was made now (None: kept from before, or not a structured result). `structured`: the JSON of a
        structuredContent this server converted (JSON values only, so the same JSON is the same value), or None;
        `dumped`: the model instance that structuredContent was dumped from, or None."""
        spec = self.tool_specs.get(name)
        if spec is None or result.structured_content is None or result.is_error:
            return result, None
        text = self.kept_texts.get(name, structured)
        made = None
        if text is None:
            text = made = text_answer(spec.tool.fn_metadata.output_model, result.structured_content, dumped)
        if result.content:  # converted by the SDK: its text (the JSON again) is replaced
            return result.model_copy(update={"content": [TextContent(type="text", text=text)]}), made
        result.content = [TextContent(type="text", text=text)]
        return result, made

    async def _call_tool(self, name: str, arguments: dict[str, Any],
                         context: Context | None) -> tuple[Any, bool, BaseModel | None]:
        """The result; whether its structuredContent was converted here from what the tool returned (not a
        CallToolResult of the tool's own); the model instance it was dumped from, when it was (`_converted`). Every
        failure leaves here in the one refusal shape (toolkit/refusals.py)."""
        converted, dumped = False, None
        spec = self.tool_specs.get(name)
        try:
            if spec is not None and not may_call(spec.tool.annotations):
                raise GuardrailError(
                    f"Refused: {name} changes data and this access token has the {READ_SCOPE} scope only. Nothing "
                    f"was sent. Use the read tools, or ask the server's operator for a token with {WRITE_SCOPE}.")
            if spec is not None:
                size, where = argument_size(arguments)
                if where is not None:
                    raise FramedError(too_large(name, where, spec.tool.parameters.get("properties", {})))
                if spec.guard is not None and size > INLINE_GUARD_CHARS:
                    # A scan of tens of thousands of characters takes tens of ms: off the event loop, so other
                    # sessions' requests (a ping, a read) are answered meanwhile.
                    await anyio.to_thread.run_sync(spec.guard, arguments)
                elif spec.guard is not None:
                    spec.guard(arguments)
                known = set(spec.tool.parameters.get("properties", {}))
                unknown = sorted(set(arguments) - known)
                if unknown:
                    # Bounded (20,000 names must not give a megabyte) and masked (a name may be a pasted secret).
                    raise FramedError(unknown_arguments(name, [mask_secret_values(listing(unknown))], known))
                arguments = {**arguments, **spec.fixed}
            if spec is not None and context is not None:
                returned = await spec.tool.run(arguments, context)
                result, dumped = _converted(spec, name, returned)
                converted = result is not returned
            else:
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
        return result, converted, dumped


class _Dumped(CallToolResult):
    """A result whose structuredContent is a model's dump in JSON mode (`_converted`): JSON's own values only (dicts,
    lists, strings, numbers, booleans, None), before and after the output filter (it replaces strings)."""


def _wire(result: _Dumped) -> dict[str, Any] | CallToolResult:
    """What the SDK's `model_dump(by_alias=True, mode="json", exclude_none=True)` makes of `result`, for the shape
    this server sends (text parts of their text alone, no _meta), made without walking the structuredContent: a dump
    in JSON mode of JSON's own values is those values (the SDK's check then copies them into the wire form); any
    other shape is left to the SDK (the result itself)."""
    content = []
    for part in result.content:
        if type(part) is not TextContent or part.annotations is not None or part.meta is not None:
            return result
        content.append({"type": "text", "text": part.text})
    if result.meta is not None or result.result_type is None:
        return result
    wire: dict[str, Any] = {"content": content}
    if result.structured_content is not None:
        wire["structuredContent"] = result.structured_content
    wire["isError"] = result.is_error
    wire["resultType"] = result.result_type
    return wire


def _converted(spec: ToolSpec, name: str, value: Any) -> tuple[Any, BaseModel | None]:
    """What the SDK's `FuncMetadata.convert_result` makes of a tool's return value, without the pretty-printed JSON
    text it first makes of a model (the answer's text replaces it): a model instance of the declared output model is
    what validating it returns (pydantic does not revalidate instances), dumped as the SDK dumps it (and returned
    second). Anything else goes through the SDK's conversion. A failure is a crash, as inside `Tool.run`."""
    meta = spec.tool.fn_metadata
    model = meta.output_model if meta.output_schema is not None else None
    try:
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(value, model) \
                and not meta.wrap_output and model.model_config.get("revalidate_instances", "never") == "never":
            return _Dumped(content=[], structured_content=value.model_dump(mode="json", by_alias=True)), value
        return meta.convert_result(value), None
    except MCPError:
        raise
    except Exception as exc:
        raise UnexpectedToolError(f"Error executing tool {name}") from exc


def _structured_json(result: CallToolResult, dumped: BaseModel | None = None) -> bytes | None:
    """The structuredContent as JSON (UTF-8), made in C; None when there is none or it cannot be made here.
    `dumped`: the model instance it is the dump of (`_converted`): when its model is `json_exact` (strings, numbers,
    booleans and lists of them, as they are, with no serializer of its own), the model's serializer writes the same
    JSON with the types known, in half the time of a `to_json` of the dict, which finds each value's type."""
    if result.structured_content is None:
        return None
    try:
        if dumped is not None and json_exact(type(dumped)):
            # A model may write its JSON itself, byte for byte its serializer's (toolkit/answers.py): looked up on the
            # class (on an instance without it, pydantic's __getattr__ raises, slowly).
            made = getattr(type(dumped), "structured_json", None)
            return made(dumped) if callable(made) else dumped.__pydantic_serializer__.to_json(dumped, by_alias=True)
        return pydantic_core.to_json(result.structured_content, fallback=str)
    except (ValueError, RecursionError):
        return None


def _answer_chars(result: CallToolResult, structured: bytes | None) -> int:
    """How large an answer is: its texts and its structuredContent as JSON (`structured`), counted in C, where a walk
    of every value cost more than the rest of our part of a small read."""
    size = sum(len(c.text) for c in result.content if isinstance(c, TextContent))
    if result.structured_content is None:
        return size
    if structured is None:  # too deep to serialise here: filtered off the event loop, like a large one
        return INLINE_ANSWER_CHARS + 1
    return size + len(structured)


def _clean_result(result: CallToolResult, links: set[str], structured: bytes | None = None) -> None:
    """`structured`: the structuredContent's JSON, which lets the filter recognise a value that passed before."""
    content = [_clean_content(c, links) for c in result.content]
    if any(new is not old for new, old in zip(content, result.content, strict=True)):
        result.content = content
    if result.structured_content is not None:
        result.structured_content = clean_output(result.structured_content, keep=links, as_json=structured)


_TEXT_ONLY = frozenset({"type", "text"})


def _clean_content(content: Any, links: set[str]) -> Any:
    """A text part filtered into a new TextContent of its text alone; one the filter left unchanged that holds nothing
    but its text is kept (the new one would equal it)."""
    if not isinstance(content, TextContent):
        return content
    text = clean_text(content.text, keep=links)
    if text == content.text and content.model_fields_set == _TEXT_ONLY and content.annotations is None \
            and content.meta is None:
        return content
    return TextContent(type="text", text=text)
