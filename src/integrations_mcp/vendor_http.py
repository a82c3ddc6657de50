"""What every vendor client does the same way: send one request, turn transport failures into tool errors that
name the next step, log the outcome (operation and status only: never bodies, which may hold secrets), and read
an answer as a typed record.

Reads (GET) are retried with exponential backoff and jitter (`stamina`) after a dropped connection or a 429/502/
503/504 answer, honouring `Retry-After` up to RETRY_AFTER_MAX seconds. Writes are never retried here: whether a
write that got no answer happened is settled by reading it back (pipeline/write.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, TypeVar

import httpx2
import pydantic_core
from pydantic import BaseModel, ValidationError

from integrations_mcp import telemetry
from integrations_mcp.errors import VendorUnavailable, quoted
from integrations_mcp.lazy_http import HttpRequester

__all__ = ["parse_json", "send", "vendor_record"]

log = logging.getLogger(__name__)

READ_ATTEMPTS = 3
RETRY_AFTER_MAX = 10.0  # seconds; a vendor asking for a longer pause gets its answer passed on instead
_RETRY_STATUS = frozenset({429, 502, 503, 504})
# A read that may be repeated: the connection failed or dropped (a timeout is not retried: it already took long).
_RETRY_ERRORS = (httpx2.ConnectError, httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError)


class _RetryableAnswer(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        self.response = response


def _retry_after(response: httpx2.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None


def _backoff(exc: Exception) -> bool | float:
    """stamina's hook: whether to retry, or how long to wait (the vendor's Retry-After)."""
    if isinstance(exc, _RetryableAnswer):
        after = _retry_after(exc.response)
        return True if after is None else (after if after <= RETRY_AFTER_MAX else False)
    return isinstance(exc, _RETRY_ERRORS)


async def _retried(http: HttpRequester, method: str, path: str, request: dict[str, Any],
                   first: Exception) -> httpx2.Response:
    """A read whose first attempt (made by `send`, outside stamina: its retry context costs more than the rest of our
    part of a read) failed as `first`: stamina is entered only now, and its first attempt replays that failure, so it
    sees, waits and retries exactly as if it had made that attempt itself."""
    import stamina  # on the first read that fails: tools/list does not need it (with tenacity, ~15 ms of a start)

    try:
        async for attempt in stamina.retry_context(on=_backoff, attempts=READ_ATTEMPTS, timeout=None,
                                                   wait_initial=0.2, wait_max=2.0, wait_jitter=0.3):
            with attempt:
                if attempt.num == 1:
                    raise first
                response = await http.request(method, path, **request)
                if response.status_code in _RETRY_STATUS and attempt.num < READ_ATTEMPTS:
                    raise _RetryableAnswer(response)
                return response
    except _RetryableAnswer as exc:  # a pause longer than RETRY_AFTER_MAX asked for: the vendor's answer stands
        return exc.response
    raise AssertionError("unreachable: stamina either returns or raises")


def parse_json(content: bytes) -> Any:
    """`json.loads(content)`, read by pydantic-core's parser in about half the time. What that parser refuses and
    json.loads reads (a lone surrogate escape, a UTF-8 BOM, UTF-16 or UTF-32 text) is read by json.loads, which also
    raises what it raises; every text both read, they read the same (tests/test_vendor_http.py)."""
    try:
        return pydantic_core.from_json(content)
    except ValueError:
        return json.loads(content)


@telemetry.vendor_calls  # a client span and a duration per call, by status
async def send(http: HttpRequester, vendor: str, operation: str, method: str, path: str, *,
               url_setting: str, parse: Callable[[bytes], Any] = parse_json,
               **request: Any) -> tuple[httpx2.Response, Any]:
    """The response and its JSON body (None when it is not JSON). `url_setting` names the setting to check when
    the vendor cannot be reached. `parse` reads the body (a ValueError: not JSON): a caller that checks a large
    answer's shape may read and check it in one pass, and give json.loads' reading otherwise (`parse_json`)."""
    try:
        # The first attempt here, in this frame (every frame between a request and its caller is resumed at each
        # wait for the network); a read's failure that may be retried goes on in `_retried`; a write is never retried.
        first: Exception | None = None
        try:
            response = await http.request(method, path, **request)
        except _RETRY_ERRORS as exc:
            if method != "GET":
                raise
            first = exc
        else:
            if method == "GET" and response.status_code in _RETRY_STATUS and READ_ATTEMPTS >= 2:
                first = _RetryableAnswer(response)
        if first is not None:  # retried outside the except clause, as before: no error raised later has it as context
            response = await _retried(http, method, path, request, first)
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:  # the request never left
        raise VendorUnavailable(vendor, operation, f"could not connect to {vendor} ({type(exc).__name__}); nothing "
                                "was sent.", hint=f"Check {url_setting} and the network, then try again.",
                                not_sent=True) from None
    except httpx2.TimeoutException:
        # After a write, run_write adds that it may have happened and how to find out.
        hint = "Try again shortly." if method == "GET" else None
        raise VendorUnavailable(vendor, operation, "the request timed out.", hint=hint) from None
    except httpx2.TransportError as exc:
        raise VendorUnavailable(vendor, operation, f"could not reach {vendor} ({type(exc).__name__}).",
                                hint=f"Check {url_setting} and the network, then try again.") from None
    log.info("%s %s %s -> %s", vendor, operation, method, response.status_code)
    try:
        return response, parse(response.content)
    except ValueError:
        if response.status_code in (404, 405, 410):  # no API answers there: the base URL is wrong, not the vendor
            url = response.url
            where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"
            raise VendorUnavailable(vendor, operation, f"{where} answered HTTP {response.status_code} with a page "
                                    f"that is not {vendor}'s API.", status=response.status_code,
                                    hint=f"Check {url_setting}: it should be the API's base URL.") from None
        return response, None


M = TypeVar("M", bound=BaseModel)


def vendor_record(model: type[M], data: Any, vendor: str, operation: str, *, hint: str | None = None) -> M:
    """`data` from the vendor as `model`; an answer of another shape is a vendor fault with a clear message, not a
    bare "Error executing tool"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "the record"
        # The place is named by the vendor's own keys: quoted, like any text of theirs.
        raise VendorUnavailable(vendor, operation, f"{vendor} sent an answer this server cannot read at "
                                f"{quoted(where, 120)}.",
                                hint=hint or "Try again; if it persists, report it.") from None
