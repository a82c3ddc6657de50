"""A vendor client's URL joined to its base by concatenation, or made from the parsed base URL with a longer path
(issue 22), is the URL httpx2's own merge makes."""

from __future__ import annotations

import random
import string
from typing import Any

import httpx2
import pytest

from integrations_mcp.lazy_http import LazyHttpClient

pytestmark = pytest.mark.anyio

BASES = ["http://127.0.0.1:5555/v1/", "https://api.revcent.com/v2", "https://h.example/", "http://h:80/a%20b/",
         "http://u:p%40w@[::1]:8080/v2/", "http://h.example/base?x=1"]
PARTS = ("scheme", "userinfo", "host", "port", "raw_path", "path", "query", "fragment")


async def test_the_url_sent_is_the_url_httpx2_would_merge() -> None:
    rng = random.Random(22)
    plain = string.ascii_letters + string.digits + "_~-"
    paths = [rng.choice(plain) + "".join(rng.choice(plain + "/") for _ in range(rng.randint(0, 30)))
             for _ in range(300)]
    paths += ["../x", "/abs", "//evil.example/x", "a b", "%41", "a?b=c", "tenants/ä", ""]  # left to httpx2's merge
    sent: list[httpx2.URL] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.url)
        return httpx2.Response(200)

    for base in BASES:
        client = LazyHttpClient(base_url=base, transport=httpx2.MockTransport(answer))
        merged = httpx2.AsyncClient(base_url=base)
        try:
            for path in paths:
                for params in ({"page": "2"}, None):
                    await client.request("GET", path, params=params)
                    expected = merged.build_request("GET", path, params=params).url
                    assert sent[-1] == expected, (base, path)
                    assert [getattr(sent[-1], part) for part in PARTS] == [getattr(expected, part) for part in PARTS]
        finally:
            await client.aclose()
            await merged.aclose()


HEADERS: list[Any] = [
    None, {}, {"x-api-key": "k3y"}, {"authorization": "Basic YWJj"}, {"X-Api-Key": "K", "x-trace": "t"},
    {"x-api-key": "a", "X-API-KEY": "b"},  # two names the same but for case: the merge keeps both
    {"Accept": "text/plain"}, {"ACCEPT-encoding": "identity"}, {"user-agent": "me"},  # the client's own
    {"host": "elsewhere.example"}, {"Content-Type": "text/plain"}, {"content-length": "0"}, {"cookie": "a=b"},
    {"transfer-encoding": "chunked"}, {"x-key": "ké"}, {"x-kéy": "v"}, {"x-key": b"bytes"},
    [("x-api-key", "a"), ("x-api-key", "b")], httpx2.Headers({"x-api-key": "h"}), {"x-key": ""},
]


def _sent(request: httpx2.Request) -> tuple[Any, ...]:
    return (request.method, str(request.url), request.headers.raw, request.headers.encoding, request.content,
            request.extensions)


async def test_the_request_sent_is_the_request_httpx2_would_build() -> None:
    """A GET's own headers set on the request built with the client's (`LazyHttpClient._set_after`) give the very
    request httpx2's merge builds: the same headers in the same order, for the headers that take that way and for
    every other (merged by httpx2), with and without cookies in the client's jar, with a body and without."""
    sent: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, headers={"set-cookie": "s=1; Path=/"} if "cookie" in request.url.path else {})

    options = {"base_url": "http://127.0.0.1:5555/v1/", "headers": {"accept": "application/json"}, "timeout": 7.0}
    for cookies in (False, True):
        ours = LazyHttpClient(transport=httpx2.MockTransport(answer), **options)
        theirs = httpx2.AsyncClient(transport=httpx2.MockTransport(answer), **options)
        try:
            if cookies:  # a cookie in each jar: its header comes after the request's own
                for client in (ours, theirs):
                    await client.request("GET", "set/cookie")
            for method in ("GET", "POST", "get"):
                for headers in HEADERS:
                    for extra in ({}, {"params": {"page": "2"}}, {"json": None}, {"json": {"a": 1}},
                                  {"content": b"x"}):
                        if method != "POST" and "content" in extra:
                            continue
                        got: list[Any] = []
                        for client in (ours, theirs):
                            try:
                                await client.request(method, "tenants/t/integrations", headers=headers, **extra)
                                got.append(_sent(sent[-1]))
                            except (TypeError, UnicodeEncodeError) as exc:
                                got.append(repr(exc))
                        assert got[0] == got[1], (cookies, method, headers, extra)
        finally:
            await ours.aclose()
            await theirs.aclose()
