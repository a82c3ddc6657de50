"""Resumable SSE for the streamable-HTTP transport: a bounded in-memory event store, so a client whose stream
drops reconnects with `Last-Event-ID` and gets what it missed.

The SDK hands one store to every session and names streams by JSON-RPC request id ("1" in every session), so a
store keyed by stream id alone would replay one session's answers to another. Each event is therefore stored
under the MCP session it belongs to: `SessionScopes` (ASGI middleware) runs every request in its session's scope,
and the session's own tasks (which the SDK starts inside the session's opening request) inherit it. A replay is
answered only within the asking session's scope; event ids are random, so they cannot be guessed either."""

from __future__ import annotations

import secrets
import weakref
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_mcp.limits import first_headers, handshake_era

__all__ = ["BoundedEventStore", "SessionScopes"]

SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"


class _SessionScope:
    """Identity only: the events of one MCP session."""

    __slots__ = ("__weakref__",)


_current: ContextVar[_SessionScope | None] = ContextVar("integrations_mcp.sse_session", default=None)


@dataclass(frozen=True)
class _Event:
    scope: _SessionScope
    stream_id: StreamId
    message: JSONRPCMessage | None  # None: the priming event that opens a stream


class BoundedEventStore(EventStore):
    """Keeps the last `max_events` events of all sessions (the oldest are dropped: a client that comes back after
    that simply gets no replay)."""

    def __init__(self, max_events: int = 1000) -> None:
        self.max_events = max_events
        self._events: OrderedDict[EventId, _Event] = OrderedDict()
        self._scopes: weakref.WeakValueDictionary[str, _SessionScope] = weakref.WeakValueDictionary()

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        # Outside any known session the event gets a scope of its own: stored, never replayed to anyone else.
        scope = _current.get() or _SessionScope()
        event_id = secrets.token_urlsafe(16)
        self._events[event_id] = _Event(scope, stream_id, message)
        while len(self._events) > self.max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        last = self._events.get(last_event_id)
        if last is None or last.scope is not _current.get():
            return None
        after = False
        for event_id, event in list(self._events.items()):
            if after and event.scope is last.scope and event.stream_id == last.stream_id and event.message:
                await send_callback(EventMessage(event.message, event_id))
            after = after or event_id == last_event_id
        return last.stream_id

    def scope_of(self, session_id: str | None) -> _SessionScope:
        """The scope of a known session; a new one for an opening request (or an unknown session, which the SDK
        answers with 404)."""
        found = self._scopes.get(session_id) if session_id else None
        return found if found is not None else _SessionScope()

    def remember(self, session_id: str, scope: _SessionScope) -> None:
        self._scopes[session_id] = scope


class SessionScopes:
    """Runs each request in its MCP session's event scope, and learns a new session's id from the response that
    opens it. A request of the 2026-07-28 era (a protocol header the handshake era does not know: the SDK's
    routing) opens no session and stores no event, so it passes straight through."""

    def __init__(self, app: ASGIApp, *, store: BoundedEventStore) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = first_headers(scope)  # the first of each, as the SDK reads them
        if not handshake_era(headers.get(VERSION_HEADER)):
            await self.app(scope, receive, send)
            return
        session = headers.get(SESSION_HEADER)
        session_id = None if session is None else session.decode("latin-1")
        events = self.store.scope_of(session_id)

        async def learn_session(message: Message) -> None:
            if message["type"] == "http.response.start" and session_id is None:
                opened = next((v.decode("latin-1") for k, v in message.get("headers", []) if k == SESSION_HEADER),
                              None)
                if opened:
                    self.store.remember(opened, events)
            await send(message)

        token = _current.set(events)
        try:
            await self.app(scope, receive, learn_session)
        finally:
            _current.reset(token)
