"""Canaries planted at every point where a secret can enter (the model's arguments, a vendor's records, a vendor's
error answers, the server's own configuration), searched for in every output channel: the tool result's text and
structuredContent, the error text, every log record at DEBUG (the SDK's tool-error line included), progress
notifications, and (for arguments) what reached the vendor. 0 leaks.

A canary is shaped like a real secret of its kind (a Stripe key, a GitHub token, a JWT, a URL password...): the
server must recognise it by its value, since nothing about its place says "secret".
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import random
import string
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.types import CallToolResult

from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import Session, both_settings, connect, make_server, revcent_emulator, text_of
from tests.vendors.cxengage.helpers import T, item_path

pytestmark = pytest.mark.anyio

N = itertools.count()


def core(n: int) -> str:
    """A unique random token (seeded: the same on every run), 28 letters and digits."""
    rng = random.Random(n)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=24)) + f"Zq{n:04d}"


def jwt(tail: str) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS256'})}.{part({'sub': tail})}.{tail}"


# How a canary is written, given its core: one shape per kind of secret the server must recognise by value.
SHAPES: dict[str, Callable[[str], str]] = {
    "stripe key": lambda c: f"sk_live_{c[:24]}",
    "github token": lambda c: f"ghp_{(c * 2)[:36]}",
    "jwt": jwt,
    "url password": lambda c: f"https://svc:{c}@api.example.invalid/v1",
    "url token userinfo": lambda c: f"https://{c}@api.example.invalid/v1",
    "query api_key": lambda c: f"https://api.example.invalid/hook?api_key={c}",
    "bearer": lambda c: f"Authorization: Bearer {c}",
    "random token": lambda c: c,
    "private key": lambda c: f"-----BEGIN PRIVATE KEY-----\n{c}\n-----END PRIVATE KEY-----",
}


@pytest.fixture(scope="module")
def world() -> tuple[IntegrationsServer, RevCentEmulator, CxEngageEmulator]:
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    tax = revcent.site_integrations[revcent.site_id("tax")]
    settings = next(o for o in tax["third_party_options"] if o["id"] == "tax_settings")
    settings["fields"].append({"id": "webhook_secret", "name": "Webhook secret", "field_type": "input",
                               "required": False})
    return make_server(both_settings(), revcent=revcent, cxengage=cxengage), revcent, cxengage


@dataclass
class Planted:
    """A planting point: `plant(session, canary)` puts the canary in and returns the tool result."""

    kind: str  # "argument": must be refused before anything is sent; "vendor": a read must not show it
    plant: Callable[[Session, str], Awaitable[CallToolResult]]


def twilio(params: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"Twilio {next(N)}", "type": "twilio",
            "properties": {"accountSid": "AC1", "region": "ie1", "globalDialParams": params}}


async def cx_create(s: Session, **args: Any) -> CallToolResult:
    base = {"name": f"Desk {next(N)}", "type": "rest",
            "properties": {"endpointPrefix": "https://api.example.invalid/", "username": "svc"}}
    return await s.call("CreateCxEngageIntegration", {**base, **args})


async def rc_create(s: Session, **args: Any) -> CallToolResult:
    return await s.call("CreateUserThirdPartyIntegration", {
        "name": f"Tax {next(N)}", "site_third_party_integration": s.revcent.site_id("tax"),
        "secure_form_id": "A" * 20, **args})


async def rc_option(s: Session, field: str, value: str) -> CallToolResult:
    uid = s.revcent.add_user_integration(name=f"Tax {next(N)}", site_id=s.revcent.site_id("tax"))
    return await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                        third_party_options=[{"id": "tax_settings", "fields": [{"id": field, "value": [value]}]}])


async def cx_stored(s: Session, properties: dict[str, Any], description: str | None = None) -> CallToolResult:
    cid = s.cxengage.add_integration(T, "rest", f"Stored {next(N)}", {"endpointPrefix": "https://x.invalid/"},
                                     description=description)
    s.cxengage.integrations[T][cid].properties.update(properties)  # names the API's own checks would refuse
    return await s.call("GetCxEngageIntegration", integration_id=cid)


async def rc_stored(s: Session, canary: str) -> CallToolResult:
    uid = s.revcent.add_user_integration(
        name=f"Tax {next(N)}", site_id=s.revcent.site_id("tax"), description=f"notes {canary}",
        options_saved=[{"id": "tax_settings", "fields": [{"id": "webhook_secret", "value": [canary]}]}])
    return await s.call("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)


async def cx_vendor_error(s: Session, canary: str) -> CallToolResult:
    s.cxengage.faults.inject(path_prefix=item_path(s.cxengage_rest), method="PUT", status=400, body=json.dumps(
        {"error": {"code": 400, "message": f"bad value {canary}", "attribute": {"x": [{"echo": canary}]}}}).encode())
    return await s.call("EditCxEngageIntegration", integration_id=s.cxengage_rest, description="x")


async def rc_vendor_error(s: Session, canary: str) -> CallToolResult:
    # RevCent's api_call_id is a random id by design: shown as given unless it is a secret by a known format.
    call_id = "CCCCCCCCCCCCCCCCCCCC" if canary.isalnum() else canary
    s.revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="GET", status=400, body=json.dumps(
        {"code": 0, "error_code": canary, "message": f"rejected {canary}", "api_call_id": call_id,
         "result": "error"}).encode())
    return await s.call("GetUserThirdPartyIntegrations")


PLANTED: dict[str, Planted] = {
    "cx name": Planted("argument", lambda s, c: cx_create(s, name=f"Desk {c}"[:200])),
    "cx description": Planted("argument", lambda s, c: cx_create(s, description=f"see {c}")),
    "cx plain property": Planted("argument", lambda s, c: cx_create(s, properties={"endpointPrefix": c,
                                                                                   "username": "svc"})),
    "cx nested Authorization": Planted("argument", lambda s, c: s.call("CreateCxEngageIntegration",
                                                                       twilio({"Authorization": c}))),
    "cx nested look-alike key": Planted("argument", lambda s, c: s.call("CreateCxEngageIntegration",
                                                                        twilio({"p\u0430ssword": "x" + c}))),
    "cx nested value": Planted("argument", lambda s, c: s.call("CreateCxEngageIntegration",
                                                               twilio({"note": [{"deep": c}]}))),
    "rc name": Planted("argument", lambda s, c: rc_create(s, name=f"Tax {c}"[:200])),
    "rc description": Planted("argument", lambda s, c: rc_create(s, description=f"see {c}")),
    "rc option input": Planted("argument", lambda s, c: rc_option(s, "origin_zip", c)),
    "rc secret option id": Planted("argument", lambda s, c: rc_option(s, "webhook_secret", "plain-words")),
    "unknown argument name": Planted("argument", lambda s, c: s.call("GetCxEngageIntegrations", {c: 1})),
    "oversized description": Planted("argument", lambda s, c: cx_create(s, description=c + " " * 3000)),
    "cx stored apiPass": Planted("vendor", lambda s, c: cx_stored(s, {"apiPass": c, "authorization": c})),
    "cx stored description": Planted("vendor", lambda s, c: cx_stored(s, {}, description=f"notes {c}")),
    "cx stored nested": Planted("vendor", lambda s, c: cx_stored(s, {"extra": {"sessionCookie": c, "x": c}})),
    "rc stored option and description": Planted("vendor", rc_stored),
    "cx vendor error echo": Planted("vendor", cx_vendor_error),
    "rc vendor error echo": Planted("vendor", rc_vendor_error),
}


def leaks(canary: str, texts: list[str]) -> list[str]:
    """Where the canary, or its recognisable core, shows in `texts` (any case, JSON- or base64-encoded)."""
    secret_part = canary.split("@")[0].split(":")[-1].split("=")[-1].split(" ")[-1].split("\n")[0]
    needles = {canary, secret_part, secret_part[:12], base64.b64encode(canary.encode()).decode()[:16]}
    return [text[:200] for text in texts for needle in needles
            if len(needle) >= 8 and needle.lower() in text.lower()]


CASES = [(p, shape) for p in PLANTED for shape in SHAPES]


@pytest.mark.parametrize(("point", "shape"), CASES, ids=[f"{p} x {s}" for p, s in CASES])
async def test_a_planted_canary_reaches_no_channel(world: tuple, point: str, shape: str, counts: Counter,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    server, revcent, cxengage = world
    planted = PLANTED[point]
    canary = SHAPES[shape](core(next(N)))
    async with connect(server=server, revcent=revcent, cxengage=cxengage) as s:
        s.cxengage_rest = cxengage.add_integration(T, "rest", f"Rest {next(N)}",  # type: ignore[attr-defined]
                                                   {"endpointPrefix": "https://x.invalid/"})
        writes_before = len(s.writes())
        try:
            result = await planted.plant(s, canary)
        finally:
            revcent.faults.clear()
            cxengage.faults.clear()
        channels = {
            "result text": [text_of(result)],
            "structuredContent": [json.dumps(result.structured_content or {}, ensure_ascii=False)],
            "logs": [record.getMessage() for record in caplog.records],
        }
        if planted.kind == "argument":
            assert result.is_error, text_of(result)  # refused
            sent = [r.body.decode(errors="replace") for r in s.writes()[writes_before:]]
            channels["vendor"] = sent
            assert not sent or point == "rc secret option id", sent  # nothing reached the vendor
    for channel, texts in channels.items():
        assert not leaks(canary, texts), f"{point} x {shape} leaked to {channel}: {leaks(canary, texts)}"
        counts["canary channel checks"] += 1
    counts["canary plantings"] += 1


@pytest.mark.slow
async def test_no_canary_reaches_a_stdio_servers_stderr_at_debug(counts: Counter) -> None:
    """The same plantings through a real stdio server logging at DEBUG: its stderr holds none of them."""
    import anyio

    from tests.harness import serve_stdio

    canaries = [SHAPES[shape](core(9000 + i)) for i, shape in enumerate(SHAPES)]
    with anyio.fail_after(60):
        async with serve_stdio("--sandbox", env={"INTEGRATIONS_LOG_LEVEL": "DEBUG"}) as box:
            for canary in canaries:
                for arguments in ({"name": f"Desk {canary}"[:200], "type": "rest", "properties": {}},
                                  {"name": "Desk", "type": "rest", "description": canary + " " * 3000},
                                  {"name": "Desk", "type": "twilio", "properties": {"globalDialParams": {
                                      "Authorization": canary}}}):
                    result = await box.call("CreateCxEngageIntegration", arguments)
                    assert result.is_error
                result = await box.call("GetCxEngageIntegrations", {canary: 1})
                assert result.is_error
                counts["stdio plantings"] += 4
    assert "CreateCxEngageIntegration" in box.stderr  # the SDK's tool-error line is there
    for canary in canaries:
        assert not leaks(canary, [box.stderr]), leaks(canary, [box.stderr])
