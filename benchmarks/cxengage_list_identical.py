"""Identical output check for GetCxEngageIntegrations: today's source against another's (`--before SRC`, from
`git archive <commit> src`), in two processes, through a real MCP client session (tests/harness.py).

The answers: a tenant of 120 integrations (every type, upper-case type spellings, secret-looking and long names and
descriptions, active and not) under every setting of the CxEngage emulator's `Contract` (the default and each
INFERRED one), each with 15 argument sets (pages, limits, type and name filters, blanks); then injected list answers
of 0, 1, 60 and 300 rows (upper-case ids, string booleans with blanks, unknown types), unpaged and with paging keys;
then the last list read again after each of a rename, a deactivation and a new integration at CxEngage (a list answer
is read again only when its bytes change), and the same bytes answered for two tenants; then a malformed row (past
the first page) of each kind, in a list of 300. Ids are drawn from a seeded generator, so both processes see the same
tenant. Every argument set is read twice (the second answer is made of the page kept on the listing). Compares
every answer's isError, texts and structuredContent byte for byte;
prints how many are identical and the first difference; exits 1 on any.

Run: `git archive main src | tar -x -C /tmp/before` then
`.venv/bin/python benchmarks/cxengage_list_identical.py --before /tmp/before/src`."""

from __future__ import annotations

import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import identical  # noqa: E402  (the identical checks' common part)

NAMES = ["Desk", "sk_live_" + "a1B2c3D4e5F6g7H8i9J0kLmN", "AKIAIOSFODNN7EXAMPLE", "x" * 250, "Ünïcode ｆｕｌｌ",
         "ghp_" + "A" * 36, "name\u200bwith zero width", "  spaces  ",
         "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkLMNOPQ", "password=hunter2hunter2"]
DESCRIPTIONS = [None, "", "plain", "d" * 300, "token: 0123456789abcdef0123456789abcdef",
                "xoxb-1234567890-abcdefghijklmnop"]
CALLS: list[dict[str, Any]] = [
    {}, {"page": 2}, {"page": 9}, {"limit": 200}, {"limit": 1, "page": 37}, {"type": "Zendesk"},
    {"type": "rest api"}, {"type": "REST"}, {"type": "plivo"}, {"name": "desk"}, {"name": "SK_LIVE"},
    {"name": "x", "type": "twilio", "page": 2}, {"name": "  "}, {"type": " "}, {"name": "ｆｕｌｌ"}]
MALFORMED: list[dict[str, Any]] = [
    {"active": "maybe"}, {"active": 1}, {"active": None}, {"active": "ｔｒｕｅ"}, {"name": 7}, {"id": "not-a-uuid"},
    {"id": "00000fb0-0000-4000-8000-000000000fb0\n"}, {"id": " 00000fb0-0000-4000-8000-000000000fb0"}, {"id": 7},
    {"description": []}, {"type": {}}, {"id": None}]


def answers() -> None:
    """The `_answers` role: every answer as one JSON line, with the source on PYTHONPATH."""
    ids = random.Random(11)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)  # the emulator's ids, the same each run
    from tests.harness import connect, cxengage_settings

    from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
    from integrations_mcp.vendors.cxengage.emulator.contract import INFERRED, INTEGRATION_TYPES, Contract

    tenant, types, draw = SANDBOX_TENANT_ID, sorted(INTEGRATION_TYPES), random.Random(7)
    path = f"/v1/tenants/{tenant}/integrations"

    def injected(n: int) -> list[dict[str, Any]]:
        return [{"id": f"{k:08X}-0000-4000-8000-{k:012X}", "name": f"Row {k}", "tenantId": tenant,
                 "type": draw.choice(["rest", "Zendesk", "REST API", "odd"]),
                 "active": draw.choice([True, False, "TRUE", " false ", "true"]),
                 "description": draw.choice(DESCRIPTIONS), "properties": {"password": f"s3cr3t-{k}"}}
                for k in range(1, n + 1)]

    def say(*parts: Any) -> None:
        print(json.dumps(parts, sort_keys=True, ensure_ascii=False), flush=True)

    async def run() -> None:
        for label, contract in [("default", Contract())] + [(f"{k}={v}", Contract(**{k: v}))
                                                           for k, values in INFERRED.items() for v in values]:
            emu = CxEngageEmulator(contract=contract)
            for i in range(120):
                kind = types[i % len(types)]
                emu.add_integration(tenant, kind.upper() if i % 3 == 0 and kind.isalpha() else kind,
                                    f"{NAMES[i % len(NAMES)]} {i}", active=bool(i % 2),
                                    description=DESCRIPTIONS[i % len(DESCRIPTIONS)])
            async with connect(cxengage_settings(), cxengage=emu) as cx:
                for arguments in CALLS:
                    for read in ("first", "again"):  # again: the page kept on the listing (its JSON, dump, text)
                        r = await cx.call("GetCxEngageIntegrations", arguments)
                        say(label, read, arguments, r.is_error, [c.text for c in r.content], r.structured_content)
        emu = CxEngageEmulator()
        async with connect(cxengage_settings(), cxengage=emu) as cx:
            for n in (0, 1, 60, 300):
                for extra in ({}, {"total": n, "page": 1}):
                    body = json.dumps({"result": injected(n), **extra}).encode()
                    for arguments in CALLS:
                        for read in ("first", "again"):
                            emu.faults.inject(path_prefix=path, method="GET", status=200, body=body, times=1)
                            r = await cx.call("GetCxEngageIntegrations", arguments)
                            say(n, extra, read, arguments, r.is_error, [c.text for c in r.content],
                                r.structured_content)
            # The same tenant's list read again after each change at CxEngage (a rename to a name that looks like a
            # secret, a deactivation, a new integration): a list answer is read again only when its bytes change.
            ids_ = [row["id"] for row in emu.list_integrations(tenant)]
            changes = [("rename", lambda: emu.update_integration(tenant, ids_[0], {"name": NAMES[1] + " renamed"})),
                       ("deactivate", lambda: emu.update_integration(tenant, ids_[-1], {"active": False})),
                       ("add", lambda: emu.add_integration(tenant, "zendesk", "Desk added", active=True))]
            for label, change in [("unchanged", lambda: None), *changes]:
                change()
                for arguments in ({}, {"name": "desk"}, {"limit": 1, "page": 1}):
                    r = await cx.call("GetCxEngageIntegrations", arguments)
                    say("changed", label, arguments, r.is_error, [c.text for c in r.content], r.structured_content)
            # The same bytes from two tenants: each answer names its own tenant.
            other, same = emu.add_tenant(), json.dumps({"result": injected(3)}).encode()
            for where in (tenant, other, tenant):
                emu.faults.inject(path_prefix=f"/v1/tenants/{where}/integrations", method="GET", status=200,
                                  body=same, times=1)
                r = await cx.call("GetCxEngageIntegrations", {"tenant_id": where})
                say("same bytes", where, r.is_error, [c.text for c in r.content], r.structured_content)
            for bad in MALFORMED:
                rows = injected(300)
                rows[250] = {**rows[250], **bad}
                for extra in ({}, {"total": 300}):
                    emu.faults.inject(path_prefix=path, method="GET", status=200, times=3,
                                      body=json.dumps({"result": rows, **extra}).encode())
                    r = await cx.call("GetCxEngageIntegrations", {})
                    emu.faults.clear()
                    say("malformed", bad, extra, r.is_error, [c.text for c in r.content], r.structured_content)

    anyio.run(run)


if __name__ == "__main__":
    identical.main(__file__, __doc__, answers)
