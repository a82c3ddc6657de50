"""Identical output check for the vendor HTTP path (vendor_http.send, lazy_http, the clients' `_request`, the
telemetry hook around them): today's source against another's (`--before SRC`, from `git archive <commit> src`), in
two processes, through a real MCP client session (tests/harness.py, the emulators over ASGI).

The answers: each read tool of both vendors (one record, a list) and one write of each (an edit) under every fault
the emulators inject: refusals in each vendor's own error body (some quoting the configured key, which must not
reach the answer), 400/401/403/404/405/410/500 with JSON, HTML, plain text and empty bodies, 429/502/503/504 once
(a read is retried) and on every attempt, Retry-After of 0, past dates, more than the server waits and nonsense, a
connection dropped once and always, refused, a malformed, an HTML, an empty and a non-object 200, a BOM before the
JSON, a vendor setting a cookie (later requests carry it: httpx2 merges their headers), and CxEngage with a token
that is refused once (renewed) and always. Per case, besides the answer: the requests that reached the emulator
(method, path, query, the names of their headers in order and whether the key header holds the configured key) and
the server's log lines. Compares them byte for byte; prints how many are identical and the first difference; exits
1 on any.

Run: `git archive main src | tar -x -C /tmp/before` then
`.venv/bin/python benchmarks/vendor_http_identical.py --before /tmp/before/src`."""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import identical  # noqa: E402  (the identical checks' common part)

HTML = b"<html><body>Not here</body></html>"
# name -> Fault arguments (the body "REFUSAL" is the vendor's own error body, "ECHO" one quoting the configured key)
FAULTS: dict[str, dict[str, Any]] = {
    "none": {},
    "400 refusal": {"status": 400, "body": "REFUSAL"},
    "400 echo": {"status": 400, "body": "ECHO"},
    "401 echo": {"status": 401, "body": "ECHO"},
    "403 refusal": {"status": 403, "body": "REFUSAL"},
    "404 json": {"status": 404, "body": b'{"error": "Not found"}'},
    "404 html": {"status": 404, "body": HTML, "content_type": "text/html"},
    "405 html": {"status": 405, "body": HTML, "content_type": "text/html"},
    "410 empty": {"status": 410, "body": b""},
    "500 text": {"status": 500, "body": b"Internal error", "content_type": "text/plain"},
    "200 echo": {"status": 200, "body": "ECHO"},
    "502 once": {"status": 502, "body": HTML, "content_type": "text/html"},
    "503 always": {"status": 503, "body": b"", "times": None},
    "504 twice": {"status": 504, "body": b"", "times": 2},
    "429 after 0": {"status": 429, "body": b'{"message": "slow down"}', "headers": {"Retry-After": "0"}},
    "429 after a past date": {"status": 429, "body": b"", "headers": {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}},
    "429 after 60 (more than waited)": {"status": 429, "body": b'{"message": "later"}',
                                        "headers": {"Retry-After": "60"}, "times": None},
    "503 after nonsense": {"status": 503, "body": b"", "headers": {"Retry-After": "soon"}},
    "reset once": {"reset": True},
    "reset always": {"reset": True, "times": None},
    "refused": {"refuse": True, "times": None},
    "malformed": {"status": 200, "body": b'{"result": ['},
    "html 200": {"status": 200, "body": HTML, "content_type": "text/html"},
    "empty 200": {"status": 200, "body": b""},
    "list 200": {"status": 200, "body": b"[1, 2]"},
    "bom 200": {"status": 200, "body": "BOM"},
    "sets a cookie (last: later requests carry it)": {"status": 200, "body": "ANSWER",
                                                       "headers": {"Set-Cookie": "lb=abc; Path=/"}},
}


def answers() -> None:
    """The `_answers` role: every answer as one JSON line, with the source on PYTHONPATH."""
    ids = random.Random(11)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)  # the emulator's ids, the same each run
    from tests.harness import (
        CXENGAGE_KEY,
        CXENGAGE_SECRET,
        REVCENT_KEY,
        connect,
        cxengage_settings,
        revcent_emulator,
        revcent_settings,
    )

    from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
    from integrations_mcp.vendors.revcent.emulator import contract

    contract.secrets = random.Random(11)  # the RevCent emulator's ids (secrets.choice), the same in both processes
    tenant = SANDBOX_TENANT_ID
    lines: list[str] = []
    edits = itertools.count()

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.name} {record.levelname} {record.getMessage()}")

    handler = Lines(logging.INFO)
    logger = logging.getLogger("integrations_mcp")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def say(*parts: Any) -> None:  # the emulators' timestamps differ between the two processes
        print(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", json.dumps(parts, sort_keys=True)),
              flush=True)

    def body(fault: dict[str, Any], vendor: str, answer: dict[str, Any]) -> dict[str, Any]:
        given = fault.get("body")
        if vendor == "revcent":
            refusal = {"code": 0, "error_code": "invalid", "message": "Invalid request", "result": "error",
                       "api_call_id": "EEEEEEEEEEEEEEEEEEEE"}
            echo = {"code": 0, "error_code": REVCENT_KEY, "message": f"Key {REVCENT_KEY} is not valid",
                    "api_call_id": REVCENT_KEY[:12]}
        else:
            refusal = {"error": {"code": 400, "message": "Invalid", "attribute": {"name": ["taken", "long"]}}}
            echo = {"error": {"code": 401, "message": f"Bad credentials {CXENGAGE_KEY}:{CXENGAGE_SECRET}",
                              "attribute": {"key": CXENGAGE_SECRET[2:]}}}
        if given == "REFUSAL":
            given = json.dumps(refusal).encode()
        elif given == "ECHO":
            given = json.dumps(echo).encode()
        elif given == "BOM":
            given = b"\xef\xbb\xbf" + json.dumps(answer).encode()
        elif given == "ANSWER":
            given = json.dumps(answer).encode()
        return {**fault, "body": given} if "body" in fault else dict(fault)

    def requests(emu: Any, since: int, key_header: str, key: str | None) -> list[Any]:
        """What reached the emulator: the key header's value only as whether it is the configured key (CxEngage's
        Basic header, or a token that differs per process: only whether it is there)."""
        return [[r.method, r.path, r.query, list(r.headers),
                 r.headers.get(key_header) == key if key is not None else key_header in r.headers]
                for r in emu.requests[since:]]

    def at(fault: dict[str, Any], path: str, method: str | None) -> list[dict[str, Any]]:
        return [{**fault, "path_prefix": path, "method": method}] if fault else []

    async def run() -> None:
        rc_emu = revcent_emulator()
        site = rc_emu.site_id("tax")
        uid = rc_emu.add_user_integration(name="Tax", site_id=site, description="Shop")
        rc_reads = [("GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid},
                     f"/v2/user_third_party_integrations/{uid}"),
                    ("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": site},
                     f"/v2/site_third_party_integrations/{site}"),
                    ("GetUserThirdPartyIntegrations", {}, "/v2/user_third_party_integrations")]
        rc_write = ("EditUserThirdPartyIntegration", {"user_third_party_integration_id": uid,
                                                      "description": "Edited"},
                    f"/v2/user_third_party_integrations/{uid}", "POST")
        async with connect(revcent_settings(), revcent=rc_emu) as rc:
            for name, fault in FAULTS.items():
                for tool, arguments, path in rc_reads:
                    answer = json.loads(json.dumps(rc_emu.view(rc_emu.integration(uid))))
                    await case(rc, rc_emu, "revcent", name, at(body(fault, "revcent", {"code": 1, **answer}), path,
                                                               "GET"), tool, arguments, "x-api-key", REVCENT_KEY)
                tool, arguments, path, method = rc_write
                await case(rc, rc_emu, "revcent", name, at(body(fault, "revcent", {"code": 1}), path, method), tool,
                           arguments, "x-api-key", REVCENT_KEY)
        for use_token in (False, True):
            cx_emu = CxEngageEmulator()
            cid = cx_emu.add_integration(tenant, "rest", "Rest", {"endpointPrefix": "https://api.example.invalid/",
                                                                  "username": "svc", "password": "rest-pw-1"})
            reads = [("GetCxEngageIntegration", {"integration_id": cid}, f"/v1/tenants/{tenant}/integrations/{cid}"),
                     ("GetCxEngageIntegrations", {}, f"/v1/tenants/{tenant}/integrations")]
            write = ("EditCxEngageIntegration", {"integration_id": cid, "description": "Edited"},
                     f"/v1/tenants/{tenant}/integrations/{cid}", "PUT")
            async with connect(cxengage_settings(use_token=use_token), cxengage=cx_emu) as cx:
                faults = FAULTS if not use_token else {k: FAULTS[k] for k in ("none", "401 echo", "reset once")}
                for name, fault in faults.items():
                    label = f"cxengage token={use_token}"
                    for tool, arguments, path in reads:
                        answer = {"result": cx_emu.stored(tenant, cid)}
                        await case(cx, cx_emu, label, name, at(body(fault, "cxengage", answer), path, "GET"), tool,
                                   arguments, "authorization", None)
                    tool, arguments, path, method = write
                    await case(cx, cx_emu, label, name, at(body(fault, "cxengage", {}), path, method), tool,
                               arguments, "authorization", None)
                if use_token:  # the renewed token refused too; the renewal itself refused
                    refused = {"status": 401, "body": b'{"error": "Unauthorized"}'}
                    tool, arguments, path = reads[0]
                    await case(cx, cx_emu, label, "401 always", at({**refused, "times": None}, path, "GET"), tool,
                               arguments, "authorization", None)
                    await case(cx, cx_emu, label, "401, then the token request refused",
                               at(refused, path, "GET") + at(refused, "/v1/tokens", "POST"), tool, arguments,
                               "authorization", None)

    async def case(session: Any, emu: Any, vendor: str, name: str, faults: list[dict[str, Any]], tool: str,
                   arguments: dict[str, Any], key_header: str, key: str | None) -> None:
        since = len(emu.requests)
        lines.clear()
        if "description" in arguments:  # each edit changes something, so it is sent
            arguments = {**arguments, "description": f"Edited {next(edits)}"}
        for fault in faults:
            emu.faults.inject(**{"times": 1, **fault})
        r = await session.call(tool, arguments)
        emu.faults.clear()
        say(vendor, name, tool, requests(emu, since, key_header, key), list(lines), r.is_error,
            [c.text for c in r.content], r.structured_content)

    anyio.run(run)


if __name__ == "__main__":
    identical.main(__file__, __doc__, answers)
