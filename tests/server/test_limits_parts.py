"""The parts of limits.py on their own, driven through the ASGI interface (the HTTP tests in
test_edge_limits.py drive them as clients meet them): the token buckets, the in-flight queue, a stalled body, and
which requests count as opening an MCP session."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from integrations_mcp.limits import BodyLimit, ClientShares, InFlightLimit, TokenBuckets, first_headers

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(path: str = "/mcp", method: str = "POST", client: str = "10.0.0.1", **headers: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": method, "client": (client, 5000),
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


async def call(app: Any, scope: dict[str, Any], body: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run one request; the response's status, headers and body."""
    incoming = list(body if body is not None else [{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return {"status": start["status"], "headers": dict(start["headers"]),
            "body": b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")}


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(60, clock)  # one a second, a burst of 6
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    wait = buckets.take("a")
    assert 0 < wait <= 1
    assert buckets.take("b") == 0.0  # another client has its own
    clock.now += 2
    assert buckets.take("a") == 0.0


async def test_past_the_limit_a_request_waits_for_a_slot_and_probes_and_streams_do_not_count() -> None:
    release = anyio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await ok_app(scope, receive, send)

    limit = InFlightLimit(slow, limit=1, queue_seconds=0.2)
    async with anyio.create_task_group() as group:
        group.start_soon(call, limit, request())
        await anyio.sleep(0.05)
        assert limit.in_flight == 1
        busy = await call(limit, request())
        assert busy["status"] == 503 and busy["headers"][b"retry-after"] == b"1"
        # A probe and a session's SSE stream are not work: they pass (and wait for `slow` like any request).
        group.start_soon(call, limit, request("/healthz", "GET"))
        group.start_soon(call, limit, request(method="GET", accept="text/event-stream"))
        await anyio.sleep(0.05)
        assert limit.in_flight == 1
        waiting = []
        group.start_soon(lambda: _append(waiting, call(limit, request())))
        await anyio.sleep(0.05)
        release.set()
    assert [r["status"] for r in waiting] == [200]  # it waited for the slot instead of a 503


async def _append(into: list[Any], awaitable: Any) -> None:
    into.append(await awaitable)


def taking(seconds: dict[int, float], order: list[int] | None = None) -> Any:
    """An app whose request `n` (scope["n"]) takes seconds[n]."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if order is not None:
            order.append(scope["n"])
        await anyio.sleep(seconds[scope["n"]])
        await ok_app(scope, receive, send)

    return app


async def arrivals(limit: InFlightLimit, count: int) -> dict[int, int]:
    """`count` requests arriving 10 ms apart; the status of each."""
    answers: dict[int, int] = {}

    async def one(n: int) -> None:
        answers[n] = (await call(limit, {**request(), "n": n}))["status"]

    async with anyio.create_task_group() as group:
        for n in range(count):
            group.start_soon(one, n)
            await anyio.sleep(0.01)
    return answers


async def test_while_requests_keep_finishing_a_waiting_one_is_served_in_turn_past_queue_seconds() -> None:
    """Two slots: 0 and 1 run, 2 and 3 wait; 2 gets 0's slot at 0.2 s, 3 gets it again at 0.4 s: more than the 0.3 s
    without progress that would refuse it, but requests kept finishing meanwhile."""
    order: list[int] = []
    limit = InFlightLimit(taking({0: 0.2, 1: 0.8, 2: 0.2, 3: 0.05}, order), limit=2, queue_seconds=0.3,
                          max_wait_seconds=30)
    assert await arrivals(limit, 4) == {0: 200, 1: 200, 2: 200, 3: 200}
    assert order == [0, 1, 2, 3]  # first come, first served
    assert (limit.in_flight, limit.waiting) == (0, 0)


async def test_a_request_waits_at_most_max_wait_seconds_even_while_others_finish() -> None:
    """As above, slower: 3 would get its slot at 0.6 s, past its 0.45 s in all (though 0 finished at 0.3 s)."""
    limit = InFlightLimit(taking({0: 0.3, 1: 0.8, 2: 0.3, 3: 0.05}), limit=2, queue_seconds=0.4,
                          max_wait_seconds=0.45)
    assert await arrivals(limit, 4) == {0: 200, 1: 200, 2: 200, 3: 503}
    assert (limit.in_flight, limit.waiting) == (0, 0)


async def test_when_nothing_finishes_every_waiting_request_gets_its_503_and_the_queue_empties() -> None:
    """One timer serves the queue: when it fires, every request whose wait ran out is answered, not only the
    first; one that came later is answered at its own deadline."""
    release = anyio.Event()

    async def stuck(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await ok_app(scope, receive, send)

    limit = InFlightLimit(stuck, limit=4, queue_seconds=0.4, max_wait_seconds=30)
    answers: dict[int, int] = {}

    async def one(n: int) -> None:
        answers[n] = (await call(limit, request()))["status"]

    start = anyio.current_time()
    async with anyio.create_task_group() as group:
        for n in range(4):  # the four slots, held
            group.start_soon(one, n)
        await anyio.wait_all_tasks_blocked()
        for n in (4, 5, 6):  # their deadline: about 0.4 s
            group.start_soon(one, n)
        await anyio.sleep_until(start + 0.2)
        group.start_soon(one, 7)  # came 0.2 s later: about 0.6 s
        await anyio.wait_all_tasks_blocked()
        assert limit.waiting == 4 and answers == {}
        await anyio.sleep_until(start + 0.5)
        assert answers == {4: 503, 5: 503, 6: 503} and limit.waiting == 1
        await anyio.sleep_until(start + 0.75)
        assert answers[7] == 503 and limit.waiting == 0
        release.set()
    assert [answers[n] for n in range(4)] == [200] * 4 and (limit.in_flight, limit.waiting) == (0, 0)
    assert (await call(limit, request()))["status"] == 200


async def test_on_idle_is_called_when_the_last_request_in_flight_finishes() -> None:
    release, idle = anyio.Event(), []

    async def held(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/held":
            await release.wait()
        await ok_app(scope, receive, send)

    limit = InFlightLimit(held, limit=4, on_idle=lambda: idle.append(limit.in_flight))
    async with anyio.create_task_group() as group:
        group.start_soon(call, limit, request("/held"))
        await anyio.wait_all_tasks_blocked()
        await call(limit, request())  # finishes while /held is still in flight: not idle
        assert idle == []
        release.set()
    assert idle == [0]


async def test_a_waiting_request_that_goes_away_gives_up_its_place_or_its_slot() -> None:
    release = anyio.Event()

    async def held(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await ok_app(scope, receive, send)

    limit = InFlightLimit(held, limit=1, queue_seconds=30)
    async with anyio.create_task_group() as group:
        group.start_soon(call, limit, request())
        await anyio.sleep(0.05)
        gone = anyio.CancelScope()
        group.start_soon(_cancelled_with, gone, limit)
        await anyio.sleep(0.05)
        assert (limit.in_flight, limit.waiting) == (1, 1)
        release.set()  # the slot is handed to the waiting request as it is cancelled (the client went away)
        gone.cancel()
        await anyio.sleep(0.05)
    assert (limit.in_flight, limit.waiting) == (0, 0)
    assert (await call(limit, request()))["status"] == 200


async def _cancelled_with(scope: anyio.CancelScope, limit: InFlightLimit) -> None:
    with scope:
        await call(limit, request())


async def test_a_body_that_stalls_is_answered_408_and_one_too_long_413() -> None:
    async def reads_body(scope: Any, receive: Any, send: Any) -> None:
        while (message := await receive())["type"] == "http.request" and message.get("more_body"):
            pass
        if message["type"] == "http.disconnect":
            return
        await ok_app(scope, receive, send)

    stalled = await call(BodyLimit(reads_body, limit=100, chunk_timeout=0.1), request(),
                         [{"type": "http.request", "body": b"{", "more_body": True}])
    assert stalled["status"] == 408
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 3
    too_long = await call(BodyLimit(reads_body, limit=100), request(), chunks)
    assert too_long["status"] == 413 and b"INTEGRATIONS_MAX_BODY_BYTES" in too_long["body"]
    declared = await call(BodyLimit(reads_body, limit=100), request(content_length="101"))
    assert declared["status"] == 413
    assert (await call(BodyLimit(reads_body, limit=100), request(content_length="2"),
                       [{"type": "http.request", "body": b"{}", "more_body": False}]))["status"] == 200


def test_each_header_is_its_first_value_read_again_when_a_layer_replaces_the_list() -> None:
    scope = request(host="a.example", content_length="2")
    scope["headers"].append((b"host", b"b.example"))  # a second Host: the first one counts, as the SDK reads it
    assert first_headers(scope)[b"host"] == b"a.example" and first_headers(scope)[b"content-length"] == b"2"
    assert first_headers(scope) is first_headers(scope)  # made once per request
    forwarded = {**scope, "headers": [(b"host", b"c.example")]}  # as ForwardedHeaders does for a trusted proxy
    assert first_headers(forwarded) == {b"host": b"c.example"}
    assert first_headers(scope)[b"host"] == b"a.example"


async def test_only_handshake_era_posts_without_a_session_count_as_openings() -> None:
    async def opens(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"mcp-session-id", b"s1")]})
        await send({"type": "http.response.body", "body": b""})

    shares = ClientShares(opens, sessions=1, per_minute=6000, is_open=lambda session_id: True)
    modern = request(mcp_protocol_version="2026-07-28")
    assert (await call(shares, modern))["status"] == 200
    assert shares.open_sessions("address:10.0.0.1") == 0  # stateless: no session
    assert (await call(shares, request()))["status"] == 200
    refused = await call(shares, request())
    assert refused["status"] == 429 and b"INTEGRATIONS_CLIENT_MAX_SESSIONS" in refused["body"]
    assert (await call(shares, request(client="10.0.0.2")))["status"] == 200  # another address
    assert (await call(shares, modern))["status"] == 200  # calls of the stateless era still pass


async def test_one_client_cannot_hold_every_slot_another_is_served() -> None:
    release = anyio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await ok_app(scope, receive, send)

    shares = ClientShares(slow, sessions=100, per_minute=6000, is_open=lambda session_id: True, in_flight=2)
    modern = {"mcp_protocol_version": "2026-07-28"}
    served: list[dict[str, Any]] = []
    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(lambda: _append(served, call(shares, request(**modern))))
        await anyio.sleep(0.05)
        refused = await call(shares, request(**modern))
        assert refused["status"] == 429 and b"INTEGRATIONS_CLIENT_MAX_IN_FLIGHT" in refused["body"]
        group.start_soon(lambda: _append(served, call(shares, request(client="10.0.0.2", **modern))))
        group.start_soon(lambda: _append(served, call(shares, request(method="GET", accept="text/event-stream"))))
        await anyio.sleep(0.05)
        release.set()
    assert [r["status"] for r in served] == [200] * 4
    assert (await call(shares, request(**modern)))["status"] == 200  # its slots are back


async def test_a_session_is_counted_once_while_its_opening_request_winds_down() -> None:
    """The answer that opens a session reaches the client before the SDK's handler returns: the client may open the
    next one meanwhile, and the first must not count twice (open, and still opening)."""
    finish = anyio.Event()
    numbers = iter(range(100))

    async def opens_then_lingers(scope: Any, receive: Any, send: Any) -> None:
        session_id = f"s{next(numbers)}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"mcp-session-id", session_id)]})
        await send({"type": "http.response.body", "body": b""})
        await finish.wait()

    shares = ClientShares(opens_then_lingers, sessions=2, per_minute=6000, is_open=lambda session_id: True)
    answers: list[dict[str, Any]] = []
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: _append(answers, call(shares, request())))
        await anyio.sleep(0.05)
        group.start_soon(lambda: _append(answers, call(shares, request())))
        await anyio.sleep(0.05)
        finish.set()
    assert [a["status"] for a in answers] == [200, 200]
    assert shares.open_sessions("address:10.0.0.1") == 2



async def _sent(app: Any, parts: list[tuple[float, dict[str, Any]]]) -> int | None:
    """Run one request whose body parts come each after its delay (then nothing more); the status sent, if any."""
    incoming = list(parts)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not incoming:
            await anyio.sleep_forever()
        delay, message = incoming.pop(0)
        await anyio.sleep(delay)
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(request(), receive, send)
    return next((m["status"] for m in sent if m["type"] == "http.response.start"), None)


OPEN_PART = {"type": "http.request", "body": b"{", "more_body": True}
LAST_PART = {"type": "http.request", "body": b"}", "more_body": False}


async def test_only_the_stalled_body_among_many_is_answered_408_and_its_request_goes_on() -> None:
    """One timer serves the stall deadline of every body read: of thirty requests at once, those whose second part
    comes within the deadline are served; the one whose second part never comes gets its 408, and its app, which
    sees the client go away, carries on without a cancellation left over (its next await is not cancelled)."""
    carried_on: list[int] = []

    async def reads_body(scope: Any, receive: Any, send: Any) -> None:
        while (message := await receive())["type"] == "http.request" and message.get("more_body"):
            pass
        if message["type"] == "http.disconnect":
            await anyio.sleep(0.01)
            carried_on.append(asyncio.current_task().cancelling())
            return
        await ok_app(scope, receive, send)

    limit = BodyLimit(reads_body, limit=100, chunk_timeout=0.3)
    statuses: dict[int, int | None] = {}

    async def one(n: int) -> None:
        parts = [(0, OPEN_PART)] if n == 7 else [(0, OPEN_PART), (0.01 * (n % 10), LAST_PART)]
        statuses[n] = await _sent(limit, parts)

    async with anyio.create_task_group() as group:
        for n in range(30):
            group.start_soon(one, n)
    assert statuses.pop(7) == 408 and set(statuses.values()) == {200}
    assert carried_on == [0] and limit.stalls.waiting == 0


async def test_the_apps_own_cancellation_passes_through_the_stall_deadline() -> None:
    """A body read cancelled by the app's own cancel scope is cancelled for the app, not answered 408; when the
    app's deadline and the stall deadline come together, either may win, but no cancellation is swallowed or left
    behind."""
    outcomes: list[tuple[bool, int]] = []

    def app_with_deadline(seconds: float) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            message: dict[str, Any] = {}
            with anyio.move_on_after(seconds) as own:
                message = await receive()
                while message["type"] == "http.request" and message.get("more_body"):
                    message = await receive()
            outcomes.append((own.cancelled_caught, asyncio.current_task().cancelling()))
            if message.get("type") == "http.request" and not message.get("more_body"):
                await ok_app(scope, receive, send)  # the whole body came (not in these requests)
        return app

    own_first = BodyLimit(app_with_deadline(0.05), limit=100, chunk_timeout=5)
    with anyio.fail_after(3):  # the stall deadline (5 s) is not what ends it
        assert await _sent(own_first, [(0, OPEN_PART)]) is None
    assert outcomes == [(True, 0)] and own_first.stalls.waiting == 0
    for _ in range(10):
        outcomes.clear()
        together = BodyLimit(app_with_deadline(0.1), limit=100, chunk_timeout=0.1)
        status = await _sent(together, [(0, OPEN_PART)])
        assert len(outcomes) == 1 and outcomes[0][1] == 0  # no cancellation left over
        assert status == (None if outcomes[0][0] else 408)
        assert together.stalls.waiting == 0
