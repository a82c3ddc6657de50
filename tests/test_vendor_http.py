"""`vendor_http.parse_json` (issue 22) reads a vendor's answer as `json.loads` does: the same value, or the same
failure."""

from __future__ import annotations

import json
import random

import pydantic_core

from integrations_mcp.vendor_http import parse_json

PIECES = [b"{", b"}", b"[", b"]", b'"', b":", b",", b"1", b"-", b".", b"e", b"E", b"+", b"0", b"a", b"\\", b"u", b"d8",
          b"dc", b"00", b" ", b"\n", b"true", b"null", b"\\u", b"\\ud83d\\ude00", b"\xc3\xa9", b"\xff", b"NaN",
          b"Infinity", b"\x00", b"\xef\xbb\xbf", b'"k":', b"9" * 400]
EDGES = [b'{"a":1,"a":2}', b'{"s":"\\ud800"}', b'\xef\xbb\xbf{"a":1}', '{"a":"é"}'.encode("utf-16-le"),
         '{"a":"é"}'.encode("utf-32"), b"[" * 600 + b"]" * 600, b"[" * 5000 + b"]" * 5000,
         b'{"n":' + b"1" * 5000 + b"}",
         b'{"f":1e400,"g":-0.0,"h":0.1,"i":-0}', b'{"s":"\\/\\b\\f\\n\\r\\t"}', b"{} x", b"", b" ", b'{"s":"a\x01b"}']


def outcome(read: object, content: bytes) -> tuple[str, str]:
    try:
        return "value", repr(read(content))  # type: ignore[operator]
    except (ValueError, RecursionError) as exc:
        return "error", type(exc).__name__


def test_an_answer_reads_as_json_loads_reads_it() -> None:
    rng = random.Random(22)
    texts = [*EDGES, *(b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) for _ in range(60_000))]
    fast = 0
    for content in texts:
        assert outcome(parse_json, content) == outcome(json.loads, content), content
        fast += outcome(pydantic_core.from_json, content)[0] == "value"
    assert fast > 1_000  # most of those json.loads reads take the fast path
