"""What every vendor emulator shares: request recording and fault injection (loopback serving: `loopback.py`).

An emulator is a Starlette app wrapped by `RecorderMiddleware`, so tests can assert what reached the
"vendor" (or that nothing did) and make the vendor misbehave on purpose.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_RECORDED = 10_000  # the recorder is bounded even in tests

__all__ = ["MAX_RECORDED", "Fault", "FaultInjector", "RecordedRequest", "RecorderMiddleware"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """One injected misbehaviour. `status`/`body` replace the real answer; `delay` stalls it first."""

    path_prefix: str = ""
    method: str | None = None
    status: int | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # more response headers (e.g. Retry-After)
    delay: float = 0.0  # after applying, when `after` (a write that happened, answered too late)
    times: int | None = 1  # None: every matching request until cleared
    skip: int = 0  # let this many matching requests through first (e.g. fail only the read-back after a write)
    after: bool = False  # apply the request first, then answer with the fault (a write that happened, answer lost)
    reset: bool = False  # drop the connection instead of answering (raised to an in-process client as a read error)
    refuse: bool = False  # refuse the connection: nothing reaches the app (raised as a connect error)

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def inject(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


class RecorderMiddleware:
    """Records every HTTP request and applies injected faults before the app answers.

    Tests keep everything (bodies included, to see what reached the "vendor"), up to the last MAX_RECORDED requests. A
    long-running `--sandbox` keeps only the last `keep` requests and no bodies or headers: they hold the secrets
    people typed and the API key."""

    def __init__(self, app: ASGIApp, requests: list[RecordedRequest], faults: FaultInjector, *,
                 keep: int | None = None, bodies: bool = True) -> None:
        self.app = app
        self.requests = requests
        self.faults = faults
        self.keep, self.bodies = (keep if keep is not None else MAX_RECORDED), bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method, path = scope["method"], scope["path"]
        if self.bodies:
            self.requests.append(RecordedRequest(method, path, scope.get("query_string", b"").decode(), headers, body))
        else:  # headers carry the API key: a sandbox keeps neither
            self.requests.append(RecordedRequest(method, path, scope.get("query_string", b"").decode(), {}, b""))
        if len(self.requests) > self.keep:
            del self.requests[: len(self.requests) - self.keep]

        fault = self.faults.take(method, path)
        if fault and fault.refuse:
            raise httpx2.ConnectError("connection refused by the emulator (injected fault)")
        answer: list[Message] = []
        if fault and fault.after:
            await self.app(scope, _once(body), _answer_into(answer))  # the vendor applies it, then misbehaves
        if fault and fault.delay:
            await anyio.sleep(fault.delay)
        if fault and fault.reset:
            raise httpx2.ReadError("connection reset by the emulator (injected fault)")
        if fault and (fault.status is not None or fault.body is not None):
            payload = fault.body if fault.body is not None else b'{"error": "injected fault"}'
            headers = [(b"content-type", fault.content_type.encode()),
                       *((k.lower().encode(), v.encode()) for k, v in fault.headers.items())]
            await send({"type": "http.response.start", "status": fault.status or 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        if answer:  # applied, then answered late (a delay after applying): its own answer
            for message in answer:
                await send(message)
            return
        await self.app(scope, _once(body), send)


def _once(body: bytes) -> Receive:
    """The request body, replayed once to the app (the recorder has read it already)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _answer_into(messages: list[Message]) -> Send:
    """An ASGI `send` that keeps the app's answer for later."""
    async def keep(message: Message) -> None:
        messages.append(message)
    return keep
