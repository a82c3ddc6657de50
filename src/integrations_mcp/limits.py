"""Capacity and fair shares at the server's edges.

- `InFlightLimit`: work in flight, not connections. Requests being served are counted (not idle keep-alive
  connections, not a session's idle SSE stream, not /healthz); past the limit a request waits its turn while the
  server makes progress, then gets 503 with `Retry-After`. The listener's connection cap (server/http_server.py) is
  only a last resort.
- `BodyLimit`: request bodies are counted while they stream in; a declared or actual excess gets 413 at once, before
  anything reads the whole body.
- `ClientShares` (around /mcp, where the bearer middleware has named the client): per client (the token's principal,
  or the client address without auth) a request rate, requests in flight and open MCP sessions, refused with 429 and
  `Retry-After` so that one client cannot take what the others need.
- `OwnerQuota` and `check_pending`: open secure forms and pending approvals per owner (an MCP session), refused at the
  tool level with a clear isError answer.

Plain ASGI (no Starlette import): settings.py imports `Limits`, and stdio start-up should not pay for a web stack.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from integrations_mcp.errors import GuardrailError

__all__ = ["BodyLimit", "ClientShares", "InFlightLimit", "Limits", "OwnerQuota", "TokenBuckets", "check_pending",
           "client_of", "first_headers", "handshake_era", "quota_refusal"]

MiB = 1024 * 1024
QUEUE_SECONDS = 5.0  # a request past the in-flight limit gets its 503 when no request finished for this long
MAX_WAIT_SECONDS = 25.0  # ... or when it has waited this long in all
HEALTH_PATH = "/healthz"
SESSION_HEADER = b"mcp-session-id"


@dataclass(frozen=True)
class Limits:
    """Every limit of the edge; the defaults are what `load_settings` uses when nothing is set."""

    max_in_flight: int = 256  # HTTP requests served at once (more wait up to QUEUE_SECONDS, then 503)
    max_connections: int = 4096  # open connections, idle ones included: a last-resort guard (then 503)
    header_timeout: float = 10.0  # seconds for a request's head, on a new connection and between requests
    max_body_bytes: int = 4 * MiB  # an HTTP request body (413 past it)
    client_sessions: int = 100  # open MCP sessions per client (token principal, or address without auth)
    client_requests_per_minute: int = 6000  # per client; a burst of a tenth of it is allowed at once
    client_in_flight: int = 128  # requests of one client served at once (half the default in-flight limit)
    session_forms: int = 50  # open secure forms per MCP session (the owner of a form)
    session_approvals: int = 100  # pending approvals (and confirmation tokens) per MCP session


# --- plain ASGI answers ------------------------------------------------------------------------------------------

async def _answer(send: Callable, status: int, text: str, retry_after: float | None = None) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"x-content-type-options", b"nosniff"),
               (b"connection", b"close") if status == 413 else (b"cache-control", b"no-store")]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    body = text.encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_FIRST_HEADERS = "integrations_mcp.first_headers"  # the scope key under which `first_headers` keeps its dict


def first_headers(scope: dict) -> dict[bytes, bytes]:
    """The first value of each request header, by name (the one the SDK and Starlette read), made once per request:
    the layers of the edge look their headers up instead of each scanning the list again. Kept in the scope with
    the list it was made from, so a layer that replaces the list (ForwardedHeaders) gets a new one."""
    headers = scope.get("headers", ())
    kept = scope.get(_FIRST_HEADERS)
    if kept is None or kept[0] is not headers:
        kept = scope[_FIRST_HEADERS] = (headers, dict(reversed(tuple(headers))))
    return kept[1]


def _header(scope: dict, name: bytes) -> bytes | None:
    return first_headers(scope).get(name)


def _is_event_stream(scope: dict) -> bool:
    """A GET that opens a session's SSE stream: it waits for server messages, it is not work."""
    return scope.get("method") == "GET" and b"text/event-stream" in (_header(scope, b"accept") or b"")


# --- work in flight ----------------------------------------------------------------------------------------------

class _Turn:
    """A waiting request: its arrival, and the future that says whether it got a slot (True) or its wait ran out."""

    __slots__ = ("granted", "since")

    def __init__(self, granted: asyncio.Future[bool], since: float) -> None:
        self.granted, self.since = granted, since


class InFlightLimit:
    """At most `limit` requests served at once; the others wait their turn, first come first served, while the server
    makes progress: a waiting request gets its 503 once no request has finished for `queue_seconds` since it came
    (the server is stuck), or after `max_wait_seconds` in all, or at once when `limit` requests are already waiting.

    Progress rather than a fixed wait: a burst of sessions on a busy machine (500 at once, each request taking a few
    seconds) is served in turn instead of refused after 5 s while slots keep freeing up; what is in flight stays
    bounded either way. The cap stays under the SDK client's 30 s timeout, so a client is answered, not timed out.

    A waiting request awaits a plain asyncio future (uvicorn's loop), and one timer serves the whole queue: a waiting
    request's deadline never comes before that of one that came earlier, so the timer is set for the first one's,
    and when it fires every request whose deadline has passed gets its answer. At 500 sessions about half the
    requests wait: a cancel scope, an event and a timer each cost more than the edge's other checks together."""

    def __init__(self, app: Callable, *, limit: int, queue_seconds: float = QUEUE_SECONDS,
                 max_wait_seconds: float = MAX_WAIT_SECONDS, clock: Callable[[], float] = time.monotonic,
                 on_idle: Callable[[], None] | None = None) -> None:
        self.app, self.limit, self.queue_seconds, self.max_wait_seconds = app, limit, queue_seconds, max_wait_seconds
        self._clock = clock
        self.on_idle = on_idle  # called when the last request in flight finishes
        self.in_flight = 0
        self._turns: deque[_Turn] = deque()  # the waiting requests, in arrival order
        self._finished_at = clock()  # when a request last finished: the queue's progress
        self._timer: asyncio.TimerHandle | None = None  # set for the first waiting request's deadline

    @property
    def waiting(self) -> int:
        return len(self._turns)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH_PATH or _is_event_stream(scope):
            await self.app(scope, receive, send)
            return
        if self.in_flight < self.limit and not self._turns:
            self.in_flight += 1
        elif not await self._wait_for_slot():
            await _answer(send, 503, f"The server is busy ({self.limit} requests in flight). Retry after the "
                                     "Retry-After seconds.\n", retry_after=1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._finished_at = self._clock()
            self._hand_on()

    def _hand_on(self) -> None:
        """A slot is free: it passes to the first waiting request (so in_flight stays as it is), else it is freed."""
        while self._turns:
            granted = self._turns.popleft().granted
            if not granted.done():  # (a cancelled one is the request of a client that went away)
                granted.set_result(True)
                return
        self.in_flight -= 1
        if not self.in_flight and self.on_idle is not None:
            self.on_idle()

    def _deadline(self, turn: _Turn) -> float:
        """queue_seconds from its arrival or from the last request that finished, whichever is later; at most
        max_wait_seconds from its arrival."""
        return min(max(self._finished_at, turn.since) + self.queue_seconds, turn.since + self.max_wait_seconds)

    async def _wait_for_slot(self) -> bool:
        if len(self._turns) >= self.limit:  # the queue is bounded too: past it, overload is answered at once
            return False
        turn = _Turn(asyncio.get_running_loop().create_future(), self._clock())
        self._turns.append(turn)
        if self._timer is None:
            self._set_timer()
        try:
            return await turn.granted
        except BaseException:  # cancelled: the client went away
            if turn.granted.done() and not turn.granted.cancelled() and turn.granted.result():
                self._hand_on()  # handed a slot while going away: the next one takes it
            elif turn in self._turns:
                self._turns.remove(turn)
            raise

    def _set_timer(self) -> None:
        wait = max(0.0, self._deadline(self._turns[0]) - self._clock())
        self._timer = asyncio.get_running_loop().call_later(wait, self._expire)

    def _expire(self) -> None:
        """The timer: every waiting request whose deadline has passed gets its 503; then the timer is set for the
        first one still waiting (its deadline may have moved on since the timer was set: requests finished)."""
        self._timer = None
        now = self._clock()
        while self._turns and self._deadline(self._turns[0]) <= now:
            granted = self._turns.popleft().granted
            if not granted.done():
                granted.set_result(False)
        if self._turns:
            self._set_timer()


# --- body size -----------------------------------------------------------------------------------------------------

class BodyLimit:
    """413 for a body past `limit` bytes: at once when Content-Length says so, else as soon as the streamed bytes
    pass it; 408 when the next part of a body takes more than `chunk_timeout` seconds (a trickled body would hold a
    slot of work in flight). Either way the app then sees the client disconnect, and whatever it sends is dropped."""

    def __init__(self, app: Callable, *, limit: int, chunk_timeout: float = Limits.header_timeout) -> None:
        self.app, self.limit, self.chunk_timeout = app, limit, chunk_timeout
        self.stalls = _Stalls(chunk_timeout)

    def refusal(self) -> str:
        return (f"Request body too large: at most {self.limit} bytes (INTEGRATIONS_MAX_BODY_BYTES). Send smaller "
                "arguments; a credential never goes in a request anyway (use a secure form).\n")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.limit):
            await _answer(send, 413, self.refusal())
            return
        body = _CountedBody(self, receive, send)
        await self.app(scope, body.receive, body.send)


class _Wait:
    """A body read waiting for its next part: its task, when its deadline passes, and whether it did."""

    __slots__ = ("deadline", "expired", "task")

    def __init__(self, task: asyncio.Task, deadline: float) -> None:
        self.task, self.deadline, self.expired = task, deadline, False


class _Stalls:
    """The stall deadline of every body read of a `BodyLimit`, with one timer: each read's deadline is `timeout`
    after it began, so the one that began first is always the next to expire, and the timer is set for it. When it
    fires, each read past its deadline is marked expired and its task cancelled (asyncio's own cancellation, which
    the read catches at once: it is awaiting the server's receive, under no cancel scope of the app), then the timer
    is set for the next one.

    Instead of a cancel scope and a timer for each read (as `anyio.move_on_after`, or `asyncio.timeout`), which cost
    more than every other check of the edge together, for bodies that nearly always arrive with their request. The
    read tells its cancellation from anyone else's as `asyncio.timeout` does: it is the deadline's only when the read
    expired and no other cancellation is pending (`Task.uncancel`); any other is raised on, untouched."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._waiting: OrderedDict[_Wait, None] = OrderedDict()  # in the order they began: of their deadlines
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the timer's (an app served again by another loop)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def begin(self) -> _Wait:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a body is read outside an asyncio task")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._timer = loop, None
            self._waiting.clear()
        wait = _Wait(task, loop.time() + self.timeout)
        self._waiting[wait] = None
        if self._timer is None:
            self._timer = loop.call_at(wait.deadline, self._expire)
        return wait

    def end(self, wait: _Wait) -> None:
        self._waiting.pop(wait, None)

    def _expire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._waiting:
            first = next(iter(self._waiting))
            if first.deadline > now:
                self._timer = loop.call_at(first.deadline, self._expire)
                return
            del self._waiting[first]
            first.expired = True
            first.task.cancel()


class _CountedBody:
    """One request's body as `BodyLimit` lets it through: its bytes counted, each part awaited with the stall
    deadline (none once the body is complete: an SSE stream then only waits for the client to go away), and, once
    refused, nothing more received or sent. (An object a request rather than closures: fewer objects to collect.)"""

    __slots__ = ("body_done", "limits", "received", "refused", "started", "_receive", "_send")

    def __init__(self, limits: BodyLimit, receive: Callable, send: Callable) -> None:
        self.limits, self._receive, self._send = limits, receive, send
        self.received, self.started, self.refused, self.body_done = 0, False, False, False

    async def _refuse(self, status: int, text: str) -> dict:
        self.refused = True
        if not self.started:
            await _answer(self._send, status, text)
        return {"type": "http.disconnect"}

    async def receive(self) -> dict:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.body_done:
            return await self._receive()
        limits = self.limits
        wait = limits.stalls.begin()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            if not wait.expired or wait.task.uncancel():  # not the deadline's, or someone else's as well
                raise
            return await self._refuse(408, f"The request body stalled (no data for {limits.chunk_timeout:g} s).\n")
        finally:
            limits.stalls.end(wait)
        if wait.expired:  # the part came, and the receive swallowed the deadline's cancellation: it is void
            wait.task.uncancel()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_done = not message.get("more_body", False)
            if self.received > limits.limit:
                return await self._refuse(413, limits.refusal())
        return message

    async def send(self, message: dict) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


# --- per client ----------------------------------------------------------------------------------------------------

def client_of(scope: dict) -> str:
    """Who a request counts against: the authenticated principal, else the client address (as ForwardedHeaders
    settled it)."""
    token = getattr(scope.get("user"), "access_token", None)
    if token is not None and getattr(token, "client_id", None):
        return f"token:{token.client_id}"
    client = scope.get("client") or ("unknown", 0)
    return f"address:{client[0]}"


class TokenBuckets:
    """A token bucket per key: `per_minute` tokens a minute, holding at most a tenth of that (a burst). Full buckets
    are forgotten when there are many keys, so addresses seen once cost nothing for long."""

    MAX_KEYS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 10.0)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 when the request may go now; else the seconds until it may."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.MAX_KEYS:
            self._forget_full(now)
        return wait

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.capacity:
                del self._buckets[key]
        while len(self._buckets) > self.MAX_KEYS:  # still too many: the least recently seen go
            self._buckets.popitem(last=False)


@functools.cache
def _handshake_versions() -> frozenset[bytes]:
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS  # when /mcp is first served: stdio never needs it

    return frozenset(v.encode("latin-1") for v in HANDSHAKE_PROTOCOL_VERSIONS)


def handshake_era(version: bytes | None) -> bool:
    """A request whose first `Mcp-Protocol-Version` header is `version` is of the handshake era (no header, or one of
    its versions): the SDK routes it as such, and may open a session for it. Any other value goes to the SDK's
    2026-07-28 entry, which is stateless: every call is a POST without a session, and opens none."""
    return version is None or version in _handshake_versions()


def _opens_session(scope: dict) -> bool:
    """A POST of the handshake era without a session id: the SDK may open a session for it."""
    return (scope.get("method") == "POST" and handshake_era(_header(scope, b"mcp-protocol-version"))
            and _header(scope, SESSION_HEADER) is None)


class ClientShares:
    """Around the /mcp endpoint: each client's request rate, and its open MCP sessions.

    A session is counted from the response that opens it (its `Mcp-Session-Id`) until the client deletes it or the
    SDK forgets it (idle timeout): `is_open(session_id)` asks the session manager. Openings in progress count too, so
    a burst of parallel openings cannot slip past the cap."""

    def __init__(self, app: Callable, *, sessions: int, per_minute: int, is_open: Callable[[str], bool],
                 in_flight: int = Limits.client_in_flight, clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.sessions, self.is_open, self.in_flight = app, sessions, is_open, in_flight
        self.rate = TokenBuckets(per_minute, clock)
        self._busy: dict[str, int] = {}  # client -> its requests being served
        self._open: dict[str, set[str]] = {}
        self._opening: dict[str, int] = {}

    def open_sessions(self, client: str) -> int:
        ids = self._open.get(client)
        if ids:
            ids.intersection_update({i for i in ids if self.is_open(i)})
            if not ids:
                del self._open[client]
        return len(self._open.get(client, ())) + self._opening.get(client, 0)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        wait = self.rate.take(client)
        if wait:
            await _answer(send, 429, f"Too many requests from this client ({self.rate.rate * 60:.0f} a minute, "
                                     "INTEGRATIONS_CLIENT_REQUESTS_PER_MINUTE). Retry after the Retry-After "
                                     "seconds.\n", retry_after=wait)
            return
        if _is_event_stream(scope):  # a session's stream waits, it does not work
            await self._serve(client, scope, receive, send)
            return
        if self._busy.get(client, 0) >= self.in_flight:
            await _answer(send, 429, f"Too many requests of this client in flight ({self.in_flight}, "
                                     "INTEGRATIONS_CLIENT_MAX_IN_FLIGHT). Retry after the Retry-After seconds.\n",
                          retry_after=1)
            return
        self._busy[client] = self._busy.get(client, 0) + 1
        try:
            if _opens_session(scope) or scope.get("method") == "DELETE":
                await self._serve(client, scope, receive, send)
            else:  # nearly every request: a call in a session, or of the stateless era
                await self.app(scope, receive, send)
        finally:
            self._busy[client] -= 1
            if not self._busy[client]:
                del self._busy[client]

    async def _serve(self, client: str, scope: dict, receive: Callable, send: Callable) -> None:
        if not _opens_session(scope):
            await self.app(scope, receive, send)
            if scope.get("method") == "DELETE":
                self.open_sessions(client)  # prunes the deleted one
            return
        if self.open_sessions(client) >= self.sessions:
            await _answer(send, 429, f"Too many open MCP sessions for this client ({self.sessions}, "
                                     "INTEGRATIONS_CLIENT_MAX_SESSIONS). Close sessions you no longer use (an MCP "
                                     "client does on exit), or retry once idle ones have expired.\n", retry_after=60)
            return
        self._opening[client] = self._opening.get(client, 0) + 1
        pending = True

        def settle() -> None:  # no longer an opening in progress: counted as open, or not at all
            nonlocal pending
            if pending:
                pending = False
                self._opening[client] -= 1
                if not self._opening[client]:
                    del self._opening[client]

        async def learn(message: dict) -> None:
            if message["type"] == "http.response.start":
                opened = next((v for k, v in message.get("headers", ()) if k == SESSION_HEADER), None)
                if opened and message["status"] < 300:
                    self._open.setdefault(client, set()).add(opened.decode("latin-1"))
                settle()  # before the client can read the answer and open the next one
            await send(message)

        try:
            await self.app(scope, receive, learn)
        finally:
            settle()


# --- per owner (tool level) ----------------------------------------------------------------------------------------

def quota_refusal(what: str, limit: int, setting: str, next_step: str) -> GuardrailError:
    return GuardrailError(f"Refused: this session already has {limit} {what} (the most allowed, {setting}). "
                          f"Nothing was created. {next_step}")


class OwnerQuota:
    """Items per owner that are still live (until each one's expiry, or `release`), counted in this process."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit, self._clock = limit, clock
        self._lock = threading.Lock()  # the form store is used from the event loop and from page threads
        self._items: dict[str, dict[str, float]] = {}  # owner -> item id -> expires at

    def admit(self, owner: str, item: str, expires_at: float, refusal: Callable[[], Exception]) -> None:
        now = self._clock()
        with self._lock:
            live = {i: at for i, at in self._items.get(owner, {}).items() if at > now}
            if len(live) >= self.limit:
                self._items[owner] = live
                raise refusal()
            live[item] = expires_at
            self._items[owner] = live
            if len(self._items) > TokenBuckets.MAX_KEYS:
                self._items = {o: items for o, items in self._items.items() if any(at > now for at in items.values())}

    def release(self, owner: str, item: str) -> None:
        with self._lock:
            self._items.get(owner, {}).pop(item, None)


def check_pending(pending: int, limit: int) -> None:
    """For the approval store: refuse a new approval when `pending` of this owner's are still waiting."""
    if pending >= limit:
        raise quota_refusal("approvals waiting for a decision", limit, "INTEGRATIONS_MAX_PENDING_APPROVALS",
                            "Ask the person to decide the open ones (or wait until they expire), then call again.")
