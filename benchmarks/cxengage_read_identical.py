"""Identical output check for GetCxEngageIntegration (one integration with readiness): today's source against
another's (`--before SRC`, from `git archive <commit> src`), in two processes, through a real MCP client session
(tests/harness.py).

The answers: the sandbox integration, then injected answers of one integration whose properties are each of a list
of property sets (numbers of every JSON type for one key: 1, 1.0, true, "1", null, -0.0, 0.0, NaN, Infinity, a huge
integer; secrets by name at any depth, by look in a URL, a query parameter, an id-named key and a nested list;
look-alike key spellings; string booleans; unicode, zero-width and full-width text; a lone surrogate escape; empty),
under four types (rest, zendesk, salesforce, and one not known) and both `active` values. Every answer is read
twice, and each property set is read under several records, so a server that keeps what it made of properties
(by their content) is compared on its first and its later reads. Compares every answer's isError, texts and
structuredContent byte for byte; prints how many are identical and the first difference; exits 1 on any.

Run: `git archive main src | tar -x -C /tmp/before` then
`.venv/bin/python benchmarks/cxengage_read_identical.py --before /tmp/before/src`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import identical  # noqa: E402  (the identical checks' common part)

# Raw JSON texts of property objects (NaN, Infinity and lone surrogates cannot be written by json.dumps otherwise).
PROPERTIES: list[str] = [
    "{}", '{"a": 1}', '{"a": 1.0}', '{"a": true}', '{"a": "1"}', '{"a": null}', '{"a": -0.0}', '{"a": 0.0}',
    '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 123456789012345678901234567890}', '{"a": 1e300}',
    '{"token": "sandbox-fake-rest-token", "endpointPrefix": "https://orders.example.invalid/api/", "password": "", '
    '"username": ""}',
    '{"endpointPrefix": "https://orders.example.invalid/api/", "password": "", "token": "sandbox-fake-rest-token", '
    '"username": ""}',
    '{"token": "", "password": null, "apiKey": "k", "api_key": "sk_live_a1B2c3D4e5F6g7H8i9J0kLmN"}',
    '{"endpointPrefix": "https://user:hunter2hunter2@example.invalid/x"}',
    '{"url": "https://example.invalid/?api_key=abcdef1234567890abcdef"}',
    '{"nested": {"apiKey": "sk_live_a1B2c3D4e5F6g7H8i9J0kLmN", "list": [1, "ghp_' + "A" * 36 + '", {"secret": "x"}, '
    '[null, true, 2.5]], "plain": "words"}}',
    '{"interactionFieldId": "ghp_' + "A" * 36 + '", "accountSid": "AC' + "a" * 32 + '", "fieldIds": ["x1", "y2"]}',
    '{"interactionFieldId": "12345", "workItems": "true"}', '{"interactionFieldId": "", "workItems": true}',
    '{"workItems": " TRUE "}', '{"workItems": "yes"}',
    '{"PassWord": "x", "pass_word": "y", "Client-Secret": "z", "authToken": "t0k3n"}',
    '{"u": "\\u00dcn\\u00efcode \\uff46\\uff55\\uff4c\\uff4c", "zw": "sk_live_\\u200ba1B2c3D4e5F6g7H8i9J0kLmN"}',
    '{"bad": "\\ud800 lone", "ok": "fine"}',
    '{"bearer": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkLMNOPQ", "hex": "'
    + "0123456789abcdef" * 2 + '"}',
    '{"list": [], "obj": {}, "deep": {"a": {"b": {"c": {"d": "AKIAIOSFODNN7EXAMPLE"}}}}}',
]
TYPES = ["rest", "zendesk", "salesforce", "odd-type"]


def answers() -> None:
    """The `_answers` role: every answer as one JSON line, with the source on PYTHONPATH."""
    from tests.harness import connect, cxengage_settings

    from integrations_mcp.vendors.cxengage.emulator import (
        SANDBOX_INTEGRATION_ID,
        SANDBOX_TENANT_ID,
        CxEngageEmulator,
    )

    tenant = SANDBOX_TENANT_ID

    def say(*parts: Any) -> None:
        print(json.dumps(parts, sort_keys=True, ensure_ascii=False), flush=True)

    async def run() -> None:
        emu = CxEngageEmulator()
        async with connect(cxengage_settings(), cxengage=emu) as cx:
            for read in ("first", "again"):
                r = await cx.call("GetCxEngageIntegration", {"tenant_id": tenant,
                                                             "integration_id": SANDBOX_INTEGRATION_ID})
                say("sandbox", read, r.is_error, [c.text for c in r.content], r.structured_content)
            base = emu.stored(tenant, SANDBOX_INTEGRATION_ID)
            n = 0
            for records in range(2):  # each property set under two records of each type
                for kind in TYPES:
                    for i, properties in enumerate(PROPERTIES):
                        n += 1
                        record_id = f"0000{n:04x}-0000-4000-8000-{n:012x}"
                        record = {**base, "id": record_id, "type": kind, "active": bool((i + records) % 2),
                                  "name": f"Record {n}", "description": f"Properties {i}"}
                        text = json.dumps({"result": {**record, "properties": None}})
                        body = text.replace('"properties": null', f'"properties": {properties}').encode()
                        path = f"/v1/tenants/{tenant}/integrations/{record_id}"
                        for read in ("first", "again"):
                            emu.faults.inject(path_prefix=path, method="GET", status=200, body=body, times=1)
                            r = await cx.call("GetCxEngageIntegration", {"tenant_id": tenant,
                                                                         "integration_id": record_id})
                            say(kind, i, records, read, r.is_error, [c.text for c in r.content],
                                r.structured_content)

    anyio.run(run)


if __name__ == "__main__":
    identical.main(__file__, __doc__, answers)
