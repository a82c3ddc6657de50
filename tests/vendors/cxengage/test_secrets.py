"""Canary values planted as the CxEngage API secret and as secrets typed into the server's own secure form must
appear in no tool result, error text or log record, at any log level, whatever goes wrong on the way, while the
typed secrets do reach CxEngage (the emulator's stored record)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator

import pytest

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import fill_secure_form
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    CxEngageEmulator,
)
from tests.harness import Session, connect, cxengage_settings

pytestmark = pytest.mark.anyio

SECRET_CANARY = "CANARY-apisecret-3e7a91c4"
TYPED_CANARY = "CANARY-typed-6b2f08d5"
T = SANDBOX_TENANT_ID
COLLECTION = f"/v1/tenants/{T}/integrations"
SALESFORCE = {"username": "sf@example.invalid", "consumerKey": "ck-123"}
SECRET_FIELDS = ("password", "consumerSecret", "securityToken")


def typed(field_id: str, round: str = "first") -> str:
    return f"{TYPED_CANARY}-{round}-{field_id}"


def error_body(message: str, **attribute: str) -> bytes:
    return json.dumps({"error": {"code": 400, "message": message, "attribute": attribute}}).encode()


@pytest.fixture(params=[False, True], ids=["basic", "token"])
async def session(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Session]:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx2, mcp, uvicorn, ours
    emu = CxEngageEmulator(api_secret=SECRET_CANARY)
    with serve_loopback(emu.app) as vendor:  # a real HTTP path, as in production
        settings = cxengage_settings(secret=SECRET_CANARY, base_url=vendor.url, use_token=request.param,
                                     timeout_seconds=1.0)  # slow enough for a loaded 2-core CI machine
        # The secure form page on its own loopback listener, as under stdio.
        async with connect(settings, cxengage=emu, forms=SecureFormServer(), raise_exceptions=False) as s:
            yield s


def forbidden(emu: CxEngageEmulator) -> list[str]:
    """The canaries, and the credentials derived from the API secret (Basic header, tokens issued)."""
    basic = base64.b64encode(f"{SANDBOX_API_KEY}:{SECRET_CANARY}".encode()).decode()
    tokens = [r.headers["authorization"].split(" ", 1)[1] for r in emu.requests
              if r.headers.get("authorization", "").startswith("Token ")]
    return [SECRET_CANARY, TYPED_CANARY, basic, *tokens]


async def test_canaries_reach_cxengage_and_nothing_else(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    s, emu = session, session.cxengage
    await s.ok("GetCxEngageIntegrations")
    token = next(iter(emu.tokens), None)  # token mode: the token is a credential too

    # The person types the secrets into the server's own page (a real browser-like HTTP round trip).
    form = await s.ok("CreateCxEngageSecureForm", type="salesforce")
    page = await fill_secure_form(form["form_url"], {f: typed(f) for f in SECRET_FIELDS})
    assert TYPED_CANARY not in page
    create = {"name": "CRM", "type": "salesforce", "properties": SALESFORCE, "secure_form_id": form["secure_form_id"]}

    # A vendor 400 that quotes everything it was sent, and the API secret (and token) for good measure.
    quoted = " ".join([*(typed(f) for f in SECRET_FIELDS), SECRET_CANARY, token or ""])
    emu.faults.inject(path_prefix=COLLECTION, method="POST", status=400,
                      body=error_body(f"Rejected: {quoted}", **{"properties.password": f"bad {typed('password')}"}))
    await s.refused("CreateCxEngageIntegration", "http_status=400", "Rejected: [redacted]", **create)
    # A timeout on the write: it may have happened, so the form is spent; the person fills a new one.
    emu.faults.inject(path_prefix=COLLECTION, method="POST", status=504, delay=2.0)
    await s.refused("CreateCxEngageIntegration", "timed out", **create)
    await s.refused("CreateCxEngageIntegration", "already used", **create)
    form = await s.ok("CreateCxEngageSecureForm", type="salesforce")
    await fill_secure_form(form["form_url"], {f: typed(f) for f in SECRET_FIELDS})
    create["secure_form_id"] = form["secure_form_id"]
    created = await s.ok("CreateCxEngageIntegration", **create)
    uid = created["integration_id"]
    assert created["mismatches"] == []
    await s.ok("GetCxEngageIntegration", integration_id=uid)
    await s.ok("GetCxEngageIntegrations")

    # A secret typed into the chat is refused without being repeated.
    await s.refused("EditCxEngageIntegration", "properties.password", integration_id=uid,
                    properties={"password": typed("password", "chat")})
    # Clearing a required secret of this inactive integration needs the person; the diff never shows its value.
    await s.refused("EditCxEngageIntegration", "properties.consumerSecret: 'set' → (not set)", integration_id=uid,
                    properties={"consumerSecret": ""})
    # An overwrite of a plain property: the refusal's diff, then a dry run and a write, all carry the saved secrets.
    await s.refused("EditCxEngageIntegration", "confirm_overwrite", integration_id=uid,
                    properties={"consumerKey": "ck-456"})
    await s.ok("EditCxEngageIntegration", integration_id=uid, properties={"consumerKey": "ck-456"}, dry_run=True)
    emu.faults.inject(path_prefix=f"{COLLECTION}/{uid}", method="PUT", status=400,
                      body=error_body(f"Cannot save {typed('securityToken')}"))
    await s.refused("EditCxEngageIntegration", "Cannot save [redacted]", integration_id=uid,
                    properties={"consumerKey": "ck-456"}, confirm_overwrite=True)

    # Rotation through a new form: a refusal, a vendor error quoting old and new, a timeout, an ignored write.
    rotation = await s.ok("CreateCxEngageSecureForm", type="salesforce", integration_id=uid)
    await fill_secure_form(rotation["form_url"], {f: typed(f, "rotated") for f in SECRET_FIELDS})
    edit = {"integration_id": uid, "secure_form_id": rotation["secure_form_id"]}
    await s.refused("EditCxEngageIntegration", "'set' → 'replaced'", **edit)
    emu.faults.inject(path_prefix=f"{COLLECTION}/{uid}", method="PUT", status=400,
                      body=error_body(f"old {typed('password')} new {typed('password', 'rotated')}"))
    await s.refused("EditCxEngageIntegration", "old [redacted] new [redacted]", **edit, confirm_overwrite=True)
    stale = json.dumps({"result": emu.stored(T, uid)}).encode()
    emu.faults.inject(path_prefix=f"{COLLECTION}/{uid}", method="PUT", status=200, body=stale)
    ignored = await s.ok("EditCxEngageIntegration", **edit, confirm_overwrite=True)
    assert "properties.password: the secret sent was not read back" in ignored["mismatches"]
    rotation = await s.ok("CreateCxEngageSecureForm", type="salesforce", integration_id=uid)
    await fill_secure_form(rotation["form_url"], {f: typed(f, "rotated") for f in SECRET_FIELDS})
    edit = {"integration_id": uid, "secure_form_id": rotation["secure_form_id"], "confirm_overwrite": True}
    rotated = await s.ok("EditCxEngageIntegration", **edit)
    assert rotated["mismatches"] == []

    # Reads that go wrong: a timeout, an unreadable answer, a server error, a malformed record.
    emu.faults.inject(path_prefix=COLLECTION, method="GET", delay=2.0)
    await s.refused("GetCxEngageIntegrations", "timed out")
    emu.faults.inject(path_prefix=COLLECTION, method="GET", status=200, body=b"<html>oops</html>")
    await s.refused("GetCxEngageIntegrations", "not JSON")
    emu.faults.inject(path_prefix=COLLECTION, method="GET", status=500, body=error_body(f"boom {SECRET_CANARY}"))
    await s.refused("GetCxEngageIntegrations", "boom [redacted]")
    emu.faults.inject(path_prefix=f"{COLLECTION}/{uid}", method="GET", status=200, body=b'{"result": [1]}')
    await s.refused("GetCxEngageIntegration", "not an integration", integration_id=uid)
    await s.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)

    # The typed secrets did reach CxEngage, only through the form and only in the write bodies sent to it.
    stored = emu.stored(T, uid)["properties"]
    assert {f: stored[f] for f in SECRET_FIELDS} == {f: typed(f, "rotated") for f in SECRET_FIELDS}
    carrying = [r for r in emu.requests if TYPED_CANARY.encode() in r.body]
    assert carrying and all(r.method in ("POST", "PUT") and r.path.startswith(COLLECTION) for r in carrying)
    assert not any(typed("password", "chat").encode() in r.body for r in emu.requests)

    outputs = "\n".join(s.seen) + "\n" + caplog.text + "\n" + json.dumps([r.getMessage() for r in caplog.records])
    assert "CreateCxEngageIntegration" in outputs and "secure form" in caplog.text  # really captured
    for canary in forbidden(emu):
        assert canary not in outputs, canary


@pytest.mark.parametrize("use_token", [False, True], ids=["basic", "token"])
async def test_a_wrong_api_secret_is_never_quoted(use_token: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emu = CxEngageEmulator(api_secret="the-right-secret")
    with serve_loopback(emu.app) as vendor:
        settings = cxengage_settings(secret=SECRET_CANARY, base_url=vendor.url, use_token=use_token)
        async with connect(settings, cxengage=emu, forms=SecureFormServer(), raise_exceptions=False) as s:
            result = await s.call("GetCxEngageIntegrations", {"tenant_id": T})
    assert result.is_error and "http_status=401" in result.content[0].text
    outputs = result.model_dump_json() + caplog.text + repr(settings)
    for canary in forbidden(emu):
        assert canary not in outputs, canary
    assert emu.writes() == []
