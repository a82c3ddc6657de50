"""tools/list answered from the wire form the SDK made the first time, per protocol version and caller scope.

The list never changes while the server runs, yet for every request the SDK rebuilds one pydantic `Tool` per tool,
dumps the result, validates that dump against the protocol version's schema and dumps it again (~2 ms for our
~16 KB list, against ~0.1 ms for a one-tool server). `ToolListCache` is server middleware (the SDK's public
`middleware=` chain, innermost): the first plain tools/list of each (protocol version, may the caller write) runs the
SDK's whole path and its answer is kept; later ones get that answer. Anything else, or anything unusual (params
besides `_meta`, params the SDK would refuse, a connection before its handshake), takes the SDK's path, so refusals
stay the SDK's own. Over HTTP the answer's JSON text is kept too (toolkit/sdk_wire.py)."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import PaginatedRequestParams
from mcp_types import methods
from pydantic import ValidationError

from integrations_mcp.toolkit import sdk_wire
from integrations_mcp.toolkit.access import may_write

__all__ = ["METHOD", "ToolListCache"]

METHOD = "tools/list"


class ToolListCache:
    def __init__(self) -> None:
        # At most two entries per protocol version the SDK knows (write scope or read only): bounded.
        self.answers: dict[tuple[str, bool], dict[str, Any]] = {}
        self._texts: list[sdk_wire.Kept] = []  # their JSON text, over HTTP (sdk_wire), while held here

    def clear(self) -> None:
        """The tools changed (a tool added or removed after start): the next lists are made afresh."""
        self.answers.clear()
        self._texts.clear()

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != METHOD or ctx.request_id is None:
            return await call_next(ctx)
        key = (ctx.protocol_version, may_write())  # the list is filtered by the caller's scope (IntegrationsServer)
        answer = self.answers.get(key)
        if answer is None or not _plain(ctx):
            result = await call_next(ctx)
            if answer is None and isinstance(result, dict) and _plain(ctx):
                self.answers[key] = result
                if (text := sdk_wire.remember(result)) is not None:
                    self._texts.append(text)
            return result
        # The runner copies the top level (runner._dump_result) and only encodes what is below, never changes it;
        # `_meta` (the 2026 era's serverInfo stamp) is copied too, as the SDK makes it afresh for each answer.
        meta = answer.get("_meta")
        return {**answer, "_meta": dict(meta)} if isinstance(meta, dict) else dict(answer)


def _plain(ctx: ServerRequestContext[Any, Any]) -> bool:
    """A request the SDK would answer with the same list every time: past the handshake (the SDK refuses a list
    before `initialize`), no cursor (ignored by MCPServer, but its shape is checked), params the SDK accepts."""
    params = ctx.params
    if ctx.session.client_params is None or (params is not None and set(params) - {"_meta"}):
        return False
    try:
        methods.validate_client_request(METHOD, ctx.protocol_version, params)
        PaginatedRequestParams.model_validate({} if params is None else params, by_name=False)
    except (KeyError, ValueError, ValidationError):  # the SDK's path gives its own refusal
        return False
    return True
