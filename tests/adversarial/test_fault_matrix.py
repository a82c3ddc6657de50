"""Every fault x every operation x both vendors: the answer is one of the three honest outcomes, never a crash, and a
create is never applied twice.

Outcomes of a write: DONE (a result), NOT_WRITTEN (an error that says nothing was written), MAY (an error that says
it may have happened and names the read that settles it), UNVERIFIED (a result saying the read-back failed). A read
gives a result or an error naming the failed operation. A secure form is usable again exactly when nothing was
written, and the answer says which.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.types import CallToolResult

from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import Session, both_settings, connect, make_server, revcent_emulator, text_of
from tests.vendors.cxengage.helpers import T, collection_path, item_path
from tests.vendors.revcent.helpers import revcent_form_id

pytestmark = pytest.mark.anyio

DONE, NOT_WRITTEN, MAY, UNVERIFIED, READ_ERROR = "done", "not written", "may have happened", "unverified", "read error"

# name -> (Fault kwargs, applied by the vendor)
FAULTS: dict[str, tuple[dict[str, Any], bool]] = {
    "502 before": ({"status": 502, "body": b"<html>Bad gateway</html>"}, False),
    "502 after": ({"status": 502, "body": b"<html>Bad gateway</html>", "after": True}, True),
    "reset before": ({"reset": True}, False),
    "reset after": ({"reset": True, "after": True}, True),
    "malformed before": ({"status": 200, "body": b'{"result": [', "content_type": "application/json"}, False),
    "malformed after": ({"status": 200, "body": b'{"res', "after": True}, True),
    "html 200 after": ({"status": 200, "body": b"<html>ok</html>", "content_type": "text/html", "after": True}, True),
    "400 before": ({"status": 400}, False),  # the vendor's own refusal body: per vendor below
    "connection refused": ({"refuse": True}, False),
}
REFUSALS = {
    "cxengage": b'{"error": {"code": 400, "message": "Invalid", "attribute": [{"nested": {"k": "v"}}, "x"]}}',
    "revcent": b'{"code": 0, "error_code": "invalid", "message": "Invalid request", "result": "error", '
               b'"api_call_id": "EEEEEEEEEEEEEEEEEEEE", "api_call_unix": 1}',
}


@dataclass
class Op:
    """One operation: `prepare` (a secure form, before any fault) then `run` (the tool call); `path`/`method` are
    where its fault goes."""

    tool: str
    method: str
    path: Callable[[dict[str, Any]], str]
    run: Callable[[Session, dict[str, Any]], Awaitable[CallToolResult]]
    prepare: Callable[[Session, dict[str, Any]], Awaitable[None]] | None = None
    write: bool = True
    creates: bool = False


# One server and one pair of emulators for the module (building a server costs more than a case); each case works
# on its own integration and names.
@pytest.fixture(scope="module")
def world() -> tuple[IntegrationsServer, RevCentEmulator, CxEngageEmulator]:
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    return make_server(both_settings(), revcent=revcent, cxengage=cxengage), revcent, cxengage


NUMBERS = itertools.count()


@asynccontextmanager
async def case(world: tuple, vendor: str) -> AsyncIterator[tuple[Session, dict[str, Any], Any]]:
    server, revcent, cxengage = world
    n = next(NUMBERS)
    async with connect(server=server, revcent=revcent, cxengage=cxengage) as s:
        emu = cxengage if vendor == "cxengage" else revcent
        context: dict[str, Any] = {"n": n, "name": f"Faulty {n}"}
        if vendor == "cxengage":
            context["cid"] = cxengage.add_integration(T, "rest", f"Rest {n}", dict(REST_PROPERTIES), active=True)
        else:
            context["site"] = revcent.site_id("tax")
            context["uid"] = revcent.add_user_integration(name=f"Tax {n}", site_id=context["site"],
                                                          credentials={"account_id": "a-1", "license_key": "l-1"})
        try:
            yield s, context, emu
        finally:
            emu.faults.clear()


# --- CxEngage -----------------------------------------------------------------------------------------------------

ZENDESK = {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid"}
REST_PROPERTIES = {"endpointPrefix": "https://api.example.invalid/", "username": "svc", "password": "rest-pw-1",
                   "token": "rest-token-1"}


async def cx_read(s: Session, c: dict) -> CallToolResult:
    return await s.call("GetCxEngageIntegration", integration_id=c["cid"])


async def cx_create_form(s: Session, c: dict) -> None:
    c["form"] = await s.form("zendesk", {"password": "zd-typed-pw"})


async def cx_create(s: Session, c: dict) -> CallToolResult:
    return await s.call("CreateCxEngageIntegration", name=c["name"], type="zendesk", properties=dict(ZENDESK),
                        secure_form_id=c["form"])


async def cx_edit(s: Session, c: dict) -> CallToolResult:
    return await s.call("EditCxEngageIntegration", integration_id=c["cid"], description="Edited")


async def cx_edit_form_prepare(s: Session, c: dict) -> None:
    c["form"] = await s.form("rest", {"token": "new-typed-token"}, integration_id=c["cid"], fields=["token"])


async def cx_edit_form(s: Session, c: dict) -> CallToolResult:
    return await s.call("EditCxEngageIntegration", integration_id=c["cid"], secure_form_id=c["form"],
                        confirm_overwrite=True)


CX_OPS = {
    "read": Op("GetCxEngageIntegration", "GET", lambda c: item_path(c["cid"]), cx_read, write=False),
    "create": Op("CreateCxEngageIntegration", "POST", lambda c: collection_path(), cx_create, cx_create_form,
                 creates=True),
    "edit": Op("EditCxEngageIntegration", "PUT", lambda c: item_path(c["cid"]), cx_edit),
    "edit with form": Op("EditCxEngageIntegration", "PUT", lambda c: item_path(c["cid"]), cx_edit_form,
                         cx_edit_form_prepare),
}

# --- RevCent ------------------------------------------------------------------------------------------------------

UI = "/v2/user_third_party_integrations"


async def rc_form(s: Session, c: dict) -> None:
    form = await s.ok("CreateSecureForm", site_third_party_integration_id=c["site"])
    s.revcent.complete_secure_form(revcent_form_id(form), {"account_id": "acct-2", "license_key": "lk-2"})
    c["form"] = form["secure_form_id"]


async def rc_read(s: Session, c: dict) -> CallToolResult:
    return await s.call("GetUserThirdPartyIntegration", user_third_party_integration_id=c["uid"])


async def rc_create(s: Session, c: dict) -> CallToolResult:
    return await s.call("CreateUserThirdPartyIntegration", name=c["name"], site_third_party_integration=c["site"],
                        secure_form_id=c["form"])


async def rc_edit(s: Session, c: dict) -> CallToolResult:
    return await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=c["uid"],
                        description="Edited")


async def rc_edit_form(s: Session, c: dict) -> CallToolResult:
    return await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=c["uid"],
                        secure_form_id=c["form"], confirm_overwrite=True)


RC_OPS = {
    "read": Op("GetUserThirdPartyIntegration", "GET", lambda c: f"{UI}/{c['uid']}", rc_read, write=False),
    "create": Op("CreateUserThirdPartyIntegration", "POST", lambda c: UI, rc_create, rc_form, creates=True),
    "edit": Op("EditUserThirdPartyIntegration", "POST", lambda c: f"{UI}/{c['uid']}", rc_edit),
    "edit with form": Op("EditUserThirdPartyIntegration", "POST", lambda c: f"{UI}/{c['uid']}", rc_edit_form,
                         rc_form),
}

VENDORS = {"cxengage": CX_OPS, "revcent": RC_OPS}


# --- the oracle ---------------------------------------------------------------------------------------------------

READS = ("GetCxEngageIntegration", "GetCxEngageIntegrations", "GetUserThirdPartyIntegration",
         "GetUserThirdPartyIntegrations")


def outcome(result: CallToolResult) -> str:
    text = text_of(result)
    assert text.strip() and not text.rstrip().endswith(("Error executing tool", "Error executing tool "))
    if not result.is_error:
        data = result.structured_content or {}
        return UNVERIFIED if any("reading it back failed" in m for m in data.get("mismatches", [])) else DONE
    lowered = text.lower()
    if "may have happened" in lowered:
        assert any(read in text for read in READS), f"no read named: {text}"
        assert "call again" not in lowered.replace("do not simply call again", ""), text
        return MAY
    if "nothing was written" in lowered or "nothing was sent" in lowered:
        return NOT_WRITTEN
    return READ_ERROR


def expected(op_name: str, op: Op, fault: str, applied: bool) -> set[str]:
    if not op.write:
        return {READ_ERROR, DONE, NOT_WRITTEN}  # a read that failed (or never left), or that a retry saved
    if fault.startswith("400") or fault == "connection refused":
        return {NOT_WRITTEN}
    if applied and op.creates:
        return {DONE}  # found by its name and read back
    return {MAY}


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unexpected exception" in r.getMessage()]


def count_named(s: Session, vendor: str, name: str) -> int:
    if vendor == "cxengage":
        return sum(1 for r in s.cxengage.integrations[T].values() if r.name == name)
    return sum(1 for r in s.revcent.user_integrations.values() if r.name == name)


CASES = [(v, o, f) for v, ops in VENDORS.items() for o in ops for f in FAULTS]


async def run(op: Op, s: Session, c: dict[str, Any], emu: Any, **fault: Any) -> CallToolResult:
    if op.prepare is not None:
        await op.prepare(s, c)
    emu.faults.inject(**fault)
    result = await op.run(s, c)
    emu.faults.clear()
    return result


@pytest.mark.parametrize(("vendor", "op_name", "fault"), CASES, ids=[" x ".join(c) for c in CASES])
async def test_a_fault_gets_an_honest_answer(world: tuple, vendor: str, op_name: str, fault: str, counts: Counter,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    op = VENDORS[vendor][op_name]
    async with case(world, vendor) as (s, c, emu):
        kwargs, applied = FAULTS[fault]
        kwargs = {**kwargs, "body": REFUSALS[vendor]} if fault.startswith("400") else kwargs
        # A read fails on every attempt (reads are retried); a write once (writes are not).
        result = await run(op, s, c, emu, path_prefix=op.path(c), method=op.method,
                           times=None if not op.write else 1, **kwargs)
        got = outcome(result)
        assert got in expected(op_name, op, fault, applied), f"{got}: {text_of(result)}"
        assert not crashes(caplog)
        if op.creates:
            assert count_named(s, vendor, c["name"]) <= 1
        if "form" in c and result.is_error:
            text = text_of(result)
            usable = "given back" in text
            assert usable == (got == NOT_WRITTEN), text
            assert usable or "spent" in text, text
    counts["fault cases"] += 1
    counts[f"fault outcome {got}"] += 1


READ_BACK = {"502": {"status": 502, "body": b"<html>"}, "reset": {"reset": True},
             "malformed": {"status": 200, "body": b'{"result": ['}}


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("op_name", ["create", "edit", "edit with form"])
@pytest.mark.parametrize("fault", READ_BACK)
async def test_a_failed_read_back_says_the_write_happened(world: tuple, vendor: str, op_name: str, fault: str,
                                                          counts: Counter, caplog: pytest.LogCaptureFixture) -> None:
    op = VENDORS[vendor][op_name]
    async with case(world, vendor) as (s, c, emu):
        # The record's own read after the write: an edit reads it first to plan, twice when it asks for a
        # confirmation (the harness confirms as an agent under policy `model` does, by calling again).
        skip = {"create": 0, "edit": 1, "edit with form": 2}[op_name]
        if vendor == "cxengage":
            where = item_path(c["cid"]) if op_name != "create" else collection_path() + "/"
        else:
            where = f"{UI}/{c['uid']}" if op_name != "create" else f"{UI}/"
        result = await run(op, s, c, emu, path_prefix=where, method="GET", skip=skip, times=None, **READ_BACK[fault])
        assert outcome(result) == UNVERIFIED, text_of(result)
        assert not crashes(caplog)
    counts["read-back fault cases"] += 1


# Odd-shaped answers: valid JSON of the wrong shape, on a read and as a read-back.
def cx_record(**changes: Any) -> bytes:
    record = {"id": "00000000-0000-4000-8000-000000000001", "tenantId": T, "name": "Odd", "type": "rest",
              "active": True, "properties": {"endpointPrefix": "https://x.example/"}, **changes}
    return json.dumps({"result": record}).encode()


ODD = {
    "cxengage": {"properties list": cx_record(properties=["a"]), "properties string": cx_record(properties="x"),
                 "name null": cx_record(name=None), "type 5": cx_record(type=5), "result 5": b'{"result": 5}',
                 "record list": b'{"result": [1, 2]}'},
    "revcent": {"results 5": b'{"code": 1, "results": 5}', "result 5": b'{"code": 1, "result": 5}',
                "name null": b'{"code": 1, "id": "x", "name": null}', "list": b"[1, 2, 3]",
                "code string": b'{"code": "1"}'},
}
ODD_CASES = [(v, shape) for v in ODD for shape in ODD[v]]


@pytest.mark.parametrize(("vendor", "shape"), ODD_CASES, ids=[f"{v} {s}" for v, s in ODD_CASES])
async def test_an_odd_shaped_answer_is_never_a_bare_error(world: tuple, vendor: str, shape: str, counts: Counter,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with case(world, vendor) as (s, c, emu):
        ops = VENDORS[vendor]
        list_path = collection_path() if vendor == "cxengage" else UI
        for path, tool_run in ((ops["read"].path(c), ops["read"].run), (list_path, _lister(vendor))):
            emu.faults.inject(path_prefix=path, method="GET", status=200, body=ODD[vendor][shape], times=None)
            result = await tool_run(s, c)
            emu.faults.clear()
            assert outcome(result) in {READ_ERROR, DONE, NOT_WRITTEN}, text_of(result)
            counts["odd-shape reads"] += 1
        # As the read-back of an edit: the edit happened, and the answer says so.
        result = await run(ops["edit"], s, c, emu, path_prefix=ops["read"].path(c), method="GET", status=200,
                           body=ODD[vendor][shape], skip=1, times=None)
        assert outcome(result) in {UNVERIFIED, DONE}, text_of(result)
        assert not crashes(caplog)
    counts["odd-shape read-backs"] += 1


def _lister(vendor: str) -> Callable[[Session, dict], Awaitable[CallToolResult]]:
    tool = "GetCxEngageIntegrations" if vendor == "cxengage" else "GetUserThirdPartyIntegrations"

    async def list_them(s: Session, _: dict) -> CallToolResult:
        return await s.call(tool)
    return list_them


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("op_name", ["create", "edit"])
async def test_a_write_applied_but_answered_after_the_timeout(vendor: str, op_name: str, counts: Counter) -> None:
    """Over real HTTP (timeouts are real there): the vendor applies the write and answers too late."""
    from integrations_mcp.loopback import serve_loopback
    from tests.harness import cxengage_settings, revcent_settings

    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    emu = cxengage if vendor == "cxengage" else revcent
    with serve_loopback(emu.app) as listener:
        settings = (cxengage_settings(base_url=listener.url, timeout_seconds=1.0) if vendor == "cxengage"
                    else revcent_settings(base_url=listener.url + "/v2", timeout_seconds=1.0))
        async with connect(settings, revcent=revcent, cxengage=cxengage) as s:
            c: dict[str, Any] = {"name": "Late", "form": None}
            if vendor == "cxengage":
                c["cid"] = cxengage.add_integration(T, "rest", "Rest late", dict(REST_PROPERTIES), active=True)
            else:
                c["site"] = revcent.site_id("tax")
                c["uid"] = revcent.add_user_integration(name="Tax late", site_id=c["site"])
            op = VENDORS[vendor][op_name]
            result = await run(op, s, c, emu, path_prefix=op.path(c), method=op.method, after=True, delay=2.5)
            got = outcome(result)
            assert got == (DONE if op.creates else MAY), text_of(result)
            if op.creates:
                assert count_named(s, vendor, "Late") == 1
    counts["late-answer cases"] += 1
