"""A vendor client's URL joined to its base by concatenation, or made from the parsed base URL with a longer path
(issue 22), is the URL httpx2's own merge makes."""

from __future__ import annotations

import random
import string

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
