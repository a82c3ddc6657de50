"""The one place that reaches into the SDK's internals: the JSON text of a kept tools/list answer, sent as is.

The SDK's 2026-era HTTP entry (`mcp.server._streamable_http_modern._write`) encodes every answer twice (pydantic's
`model_dump`, then `json.dumps`): ~0.4 ms for our ~16 KB list, each time. `install()` wraps that function: an answer
whose result is one `ToolListCache` kept (the same objects, checked) is sent as the text made once from it, by
the SDK's own two steps; everything else goes to the SDK's function unchanged. If the SDK's shape is not the one
this was written against (the function, its parameters, its caller's use of it, or a probe answer that would not
be byte-identical), nothing is wrapped and the SDK's path stays: slower, never different.
tests/server/test_tool_list.py fails when the wrapper is not installed or not used."""

from __future__ import annotations

import inspect
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from mcp.types import JSONRPCResponse

__all__ = ["Kept", "install", "installed", "remember", "sent"]

log = logging.getLogger(__name__)

_EXPECTED_PARAMETERS = ["msg", "scope", "receive", "send"]


@dataclass(eq=False)
class Kept:
    """An answer and its result's JSON text, sent as kept while its owner (a ToolListCache) holds this."""

    answer: dict[str, Any]
    text: str


_kept: weakref.WeakValueDictionary[int, Kept] = weakref.WeakValueDictionary()  # by id(answer["tools"])
_state: dict[str, Any] = {"installed": False, "sent": 0}


def installed() -> bool:
    return _state["installed"]


def sent() -> int:
    """How many answers went out as kept text (tests check that the wrapper is used)."""
    return _state["sent"]


def install() -> bool:
    """Wrap the SDK's `_write` once; False (and the SDK untouched) when its shape is not the expected one."""
    if _state["installed"]:
        return True
    from mcp.server import _streamable_http_modern as modern

    write = getattr(modern, "_write", None)
    if (write is None or not inspect.iscoroutinefunction(write)
            or list(inspect.signature(write).parameters) != _EXPECTED_PARAMETERS
            or getattr(modern, "_OK_STATUS", None) != 200
            or "_write" not in modern.handle_modern_request.__code__.co_names):
        log.warning("tools/list answers are encoded by the SDK each time: its HTTP entry is not the shape "
                    "toolkit/sdk_wire.py expects (mcp %s).", _sdk_version())
        return False
    from starlette.responses import Response

    async def _write(msg: Any, scope: Any, receive: Any, send: Any) -> None:
        text = _kept_text(msg)
        if text is None:
            await write(msg, scope, receive, send)
            return
        _state["sent"] += 1
        body = f'{{"jsonrpc":"2.0","id":{json.dumps(msg.id)},"result":{text}}}'
        await Response(body, status_code=200, media_type="application/json")(scope, receive, send)

    modern._write = _write
    _state["installed"] = True
    return True


def remember(answer: dict[str, Any]) -> Kept | None:
    """The JSON text of `answer` (a tools/list result the SDK made), made by the SDK's own steps, used while the
    caller holds what this returns; None if the whole message built from it would not be byte-identical."""
    if not _state["installed"] or not isinstance(answer.get("tools"), list):
        return None
    probe = JSONRPCResponse(jsonrpc="2.0", id=0, result=answer).model_dump(mode="json", by_alias=True,
                                                                          exclude_none=True)
    text = json.dumps(probe["result"], separators=(",", ":"))
    if f'{{"jsonrpc":"2.0","id":0,"result":{text}}}' != json.dumps(probe, separators=(",", ":")):
        log.warning("tools/list answers are encoded by the SDK each time: its message shape changed.")
        return None
    kept = _kept[id(answer["tools"])] = Kept(answer, text)
    return kept


def _kept_text(msg: Any) -> str | None:
    if type(msg) is not JSONRPCResponse or type(msg.id) not in (int, str) or not isinstance(msg.result, dict):
        return None
    result = msg.result
    kept = _kept.get(id(result.get("tools")))
    if kept is None:
        return None
    answer = kept.answer
    if result.keys() != answer.keys() or not all(result[k] is v or result[k] == v for k, v in answer.items()):
        return None
    return kept.text


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("mcp")
