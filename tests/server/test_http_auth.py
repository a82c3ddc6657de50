"""Issue 11, authentication on the streamable-HTTP transport, as clients meet it: `integrations-mcp serve --sandbox
--transport http` as a subprocess with static bearer tokens and an OAuth resource server whose JWKS is a real HTTP
endpoint on loopback (serving a generated RSA key), driven by the SDK's client and by raw HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from integrations_mcp.loopback import LoopbackServer
from integrations_mcp.secure_forms.scripted_person import decide_approval
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID
from tests.harness import SERVE, STARTUP_SECONDS, Served, Transcript, clean_env, free_port, serve_process

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # every test here starts the server as a subprocess

ISSUER = "https://idp.example.test"
WRITER, READER, OTHER = "w" * 20 + "-writer-token", "r" * 20 + "-reader-token", "o" * 20 + "-other-token"
TOKENS_FILE = f"""# name token scopes
alice {WRITER}
reader {READER} integrations:read
bob {OTHER} integrations:write
"""
WRITE_TOOLS = {"CreateUserThirdPartyIntegration", "EditCxEngageIntegration", "CreateCxEngageSecureForm"}
DEACTIVATE = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@dataclass
class IdP:
    """A signing key and the JWKS endpoint (a real HTTP server on loopback) that publishes it."""

    key: rsa.RSAPrivateKey
    jwks_url: str

    def token(self, audience: str, *, scope: str = "integrations:read integrations:write", sub: str = "carol",
              lifetime: int = 300, key: Any = None, algorithm: str = "RS256", issuer: str = ISSUER,
              kid: str = "k1") -> str:
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "sub": sub, "scope": scope, "iat": now, "exp": now + lifetime}
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture(scope="module")
def idp() -> Iterator[IdP]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "use": "sig", "alg": "RS256"}

    async def jwks(request: Any) -> JSONResponse:
        return JSONResponse({"keys": [jwk]})

    server = LoopbackServer(Starlette(routes=[Route("/jwks", jwks)])).start()
    try:
        yield IdP(key, f"{server.url}/jwks")
    finally:
        server.stop()


@contextmanager
def serve(*args: str, env: dict[str, str], sandbox: bool = True) -> Iterator[Served]:
    """`harness.serve_process` on the sandbox; `sandbox=False`: the vendors come from `env` (e.g. an emulator on
    loopback reached with a real-looking key)."""
    with serve_process(*(["--sandbox"] if sandbox else []), *args, env=env) as served:
        yield served


@pytest.fixture(scope="module")
def served(idp: IdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tokens = tmp_path_factory.mktemp("auth") / "tokens"
    tokens.write_text(TOKENS_FILE)
    env = {"INTEGRATIONS_AUTH_TOKENS_FILE": str(tokens), "INTEGRATIONS_OAUTH_ISSUER": ISSUER,
           "INTEGRATIONS_OAUTH_JWKS_URL": idp.jwks_url, "INTEGRATIONS_LOG_LEVEL": "DEBUG"}
    with serve(env=env) as server:
        yield server


@asynccontextmanager
async def session(url: str, token: str | None, mode: str = "auto") -> AsyncIterator[Transcript]:
    """`mode="legacy"`: a stateful 2025-11-25 session (Mcp-Session-Id); "auto": the stateless 2026-07-28 era."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield Transcript(client=client)


async def post(url: str, token: str | None = None, **headers: str) -> httpx2.Response:
    auth = {"authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.post(url, json=body, headers={**MCP_HEADERS, **auth, **headers})


# --- who gets in -----------------------------------------------------------------------------------------------------

async def test_no_token_is_401_pointing_at_the_protected_resource_metadata(served: Served) -> None:
    answer = await post(served.url)
    assert answer.status_code == 401 and "mcp-session-id" not in answer.headers
    challenge = answer.headers["www-authenticate"]
    metadata_url = f"{served.base}/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge
    assert challenge.endswith(', scope="integrations:read integrations:write"'), challenge  # RFC 6750 §3
    async with httpx2.AsyncClient(timeout=10) as http:
        metadata = (await http.get(metadata_url)).json()
    assert metadata["resource"] == served.url and metadata["authorization_servers"] == [ISSUER]
    assert set(metadata["scopes_supported"]) == {"integrations:read", "integrations:write"}


@pytest.mark.parametrize("bad", ["wrong", "expired", "other key", "other audience", "other issuer", "HS256",
                                 "none", "no exp"])
async def test_a_bad_token_is_401_and_never_a_session(served: Served, idp: IdP, bad: str) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    token = {
        "wrong": WRITER[:-1] + "x",
        "expired": idp.token(served.url, lifetime=-120),
        "other key": idp.token(served.url, key=other, algorithm="ES256"),
        "other audience": idp.token("https://another.example/mcp"),
        "other issuer": idp.token(served.url, issuer="https://evil.example"),
        "HS256": _public_key_as_hmac_secret(idp, served.url),
        "none": jwt.encode({"iss": ISSUER, "aud": served.url, "sub": "x", "exp": int(time.time()) + 60}, None,
                           algorithm="none", headers={"kid": "k1"}),
        "no exp": jwt.encode({"iss": ISSUER, "aud": served.url, "sub": "x", "scope": "integrations:write"},
                             idp.key, algorithm="RS256", headers={"kid": "k1"}),
    }[bad]
    answer = await post(served.url, token)
    assert answer.status_code == 401 and "mcp-session-id" not in answer.headers
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert answer.headers["www-authenticate"].count("scope=") == 1


def _public_key_as_hmac_secret(idp: IdP, audience: str) -> str:
    """The classic algorithm-confusion forgery: HS256 keyed with the published public key (built by hand: PyJWT
    refuses to sign it)."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    pem = idp.key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = part({"alg": "HS256", "kid": "k1", "typ": "JWT"}) + "." + part(
        {"iss": ISSUER, "aud": audience, "sub": "x", "scope": "integrations:write", "exp": int(time.time()) + 60})
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


async def test_forged_host_without_a_token_never_gets_a_session(served: Served) -> None:
    for token in (None, WRITER):
        answer = await post(served.url, token, host=f"127.0.0.1.evil.example:{served.port}")
        assert answer.status_code in (401, 421) and "mcp-session-id" not in answer.headers
        assert answer.status_code == 421 and "INTEGRATIONS_ALLOWED_HOSTS" in answer.text


async def test_bearer_and_oauth_writers_see_every_tool(served: Served, idp: IdP) -> None:
    for token in (WRITER, idp.token(served.url, scope="integrations:write")):
        async with session(served.url, token) as t:
            tools = {tool.name for tool in (await t.client.list_tools()).tools}
            assert tools >= WRITE_TOOLS
            await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_read_scope_sees_and_calls_only_read_tools(served: Served, idp: IdP, mode: str) -> None:
    for token in (READER, idp.token(served.url, scope="integrations:read")):
        async with session(served.url, token, mode) as t:
            tools = (await t.client.list_tools()).tools
            assert tools and all(tool.annotations.read_only_hint for tool in tools)
            assert not WRITE_TOOLS & {tool.name for tool in tools}
            await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
            await t.refused("EditCxEngageIntegration", "integrations:read", "Nothing was sent", **DEACTIVATE)
            await t.refused("CreateCxEngageSecureForm", "integrations:write", type="salesforce")
            view = await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
            assert view["integration"]["active"] is True


async def test_a_token_without_an_integrations_scope_is_403(served: Served, idp: IdP) -> None:
    answer = await post(served.url, idp.token(served.url, scope="openid profile"))
    challenge = answer.headers["www-authenticate"]
    assert answer.status_code == 403 and 'error="insufficient_scope"' in challenge
    assert challenge.endswith(', scope="integrations:read"'), challenge  # what /mcp requires (RFC 6750 §3)
    assert "mcp-session-id" not in answer.headers


# --- whose forms and approvals ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_forms_and_approvals_bind_to_the_principal(served: Served, idp: IdP, mode: str) -> None:
    """Each principal's secure form and approval are found only by that principal: over the default (2026-07-28)
    client there is no MCP session id, so what separates them is the token's principal alone."""
    carol = idp.token(served.url, sub=f"carol-{mode}")
    async with session(served.url, WRITER, mode) as alice:
        form = await alice.ok("CreateCxEngageSecureForm", type="salesforce")
        refusal = await alice.refused("EditCxEngageIntegration", "approval", **DEACTIVATE)
    approval_url = re.search(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", refusal).group(1)
    approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", refusal).group(1)
    assert approval_url.startswith(served.base)
    await decide_approval(approval_url, approve=True)
    create = {"name": "CRM", "type": "salesforce", "secure_form_id": form["secure_form_id"],
              "properties": {"username": "sf@example.invalid", "consumerKey": "ck-1"}}
    for other in (OTHER, carol):
        async with session(served.url, other, mode) as intruder:
            await intruder.refused("CreateCxEngageIntegration", "No secure form with this id", **create)
            await intruder.refused("EditCxEngageIntegration", "approval", approval_id=approval_id, **DEACTIVATE)
            view = await intruder.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
            assert view["integration"]["active"] is True
    if mode == "auto":  # the same principal, a new connection (a legacy session binds to its Mcp-Session-Id too)
        async with session(served.url, WRITER, mode) as alice_again:
            done = await alice_again.ok("EditCxEngageIntegration", approval_id=approval_id, **DEACTIVATE)
            assert done["verified"]["integration"]["active"] is False
            await alice_again.ok("EditCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID, active=True)


async def test_tokens_never_reach_the_logs(served: Served, idp: IdP) -> None:
    bad_jwt = idp.token("https://another.example/mcp")
    for token in (WRITER, READER, bad_jwt, "x" * 40):
        await post(served.url, token)
    log = served.log()
    assert "session manager started" in log  # the log was captured (DEBUG)
    for secret in (WRITER, READER, OTHER, bad_jwt, bad_jwt.split(".")[2]):
        assert secret not in log


# --- health, hosts, proxies ------------------------------------------------------------------------------------------

async def test_healthz_needs_no_token_and_tells_no_secret(served: Served) -> None:
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await http.get(f"{served.base}/healthz", headers={"host": "10.1.2.3:8000"})  # a probe by IP
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["version"]
    assert body["vendors"] == {"revcent": {"configured": True}, "cxengage": {"configured": True}}
    for secret in (WRITER, READER, OTHER, "sandbox"):
        assert secret not in answer.text


async def test_port_mappings_proxies_and_origins_are_configurable(tmp_path: Any) -> None:
    env = {"INTEGRATIONS_AUTH_TOKEN": WRITER, "INTEGRATIONS_ALLOWED_HOSTS": "mcp.example.test",
           "INTEGRATIONS_TRUSTED_PROXIES": "127.0.0.1"}
    with serve(env=env) as server:
        for host in ("localhost:9000", "localhost", "mcp.example.test"):  # docker -p 9000:8000, a bare name, a proxy
            answer = await post(server.url, WRITER, host=host)
            assert answer.status_code == 200 and answer.headers["mcp-session-id"], (host, answer.text)
        answer = await post(server.url, WRITER, host="mcp.example.test", origin="https://mcp.example.test")
        assert answer.status_code == 200, answer.text
        answer = await post(server.url, WRITER, origin="https://elsewhere.example")
        assert answer.status_code == 403 and "INTEGRATIONS_ALLOWED_ORIGINS" in answer.text
        # From a trusted proxy, X-Forwarded-Host is the Host that is checked.
        answer = await post(server.url, WRITER, **{"x-forwarded-host": "evil.example"})
        assert answer.status_code == 421 and "evil.example" in answer.text
    with serve(env={"INTEGRATIONS_AUTH_TOKEN": WRITER}) as server:  # nobody trusted: the header is ignored
        answer = await post(server.url, WRITER, **{"x-forwarded-host": "evil.example"})
        assert answer.status_code == 200


# --- fail closed -----------------------------------------------------------------------------------------------------

def test_an_open_non_loopback_bind_refuses_to_start() -> None:
    done = subprocess.run([*SERVE, "--sandbox", "--transport", "http", "--host", "0.0.0.0", "--port",
                           str(free_port())], env=clean_env(), capture_output=True, text=True,
                          timeout=STARTUP_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for setting in ("INTEGRATIONS_AUTH_TOKENS_FILE", "INTEGRATIONS_AUTH_TOKEN", "INTEGRATIONS_OAUTH_ISSUER",
                    "INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE", "--allow-unauthenticated-remote"):
        assert setting in done.stderr


async def test_a_non_loopback_bind_with_a_token_or_an_accepted_risk_starts() -> None:
    with serve("--host", "0.0.0.0", env={"INTEGRATIONS_AUTH_TOKEN": WRITER}) as server:
        assert (await post(server.url)).status_code == 401
        assert (await post(server.url, WRITER)).status_code == 200
        assert "UNAUTHENTICATED" not in server.log()
    with serve("--host", "0.0.0.0", "--allow-unauthenticated-remote", env={}) as server:
        assert (await post(server.url)).status_code == 200
        assert "UNAUTHENTICATED" in server.log() and "INTEGRATIONS_AUTH_TOKEN" in server.log()


@pytest.mark.parametrize(("env", "needle"), [
    ({"INTEGRATIONS_AUTH_TOKEN": "short"}, "at least 24"),
    ({"INTEGRATIONS_AUTH_TOKENS_FILE": "/nonexistent/tokens"}, "cannot read"),
    ({"INTEGRATIONS_OAUTH_ISSUER": ISSUER}, "INTEGRATIONS_OAUTH_JWKS_URL"),
    ({"INTEGRATIONS_OAUTH_ISSUER": ISSUER, "INTEGRATIONS_OAUTH_JWKS_URL": "http://idp.example/jwks"}, "https://"),
    ({"INTEGRATIONS_TRUSTED_PROXIES": "proxy.local"}, "INTEGRATIONS_TRUSTED_PROXIES"),
])
def test_bad_auth_settings_are_clear_start_up_errors(env: dict[str, str], needle: str) -> None:
    done = subprocess.run([*SERVE, "--sandbox", "--transport", "http", "--port", str(free_port())],
                          env=clean_env(**env), capture_output=True, text=True, timeout=STARTUP_SECONDS,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and needle in done.stderr and "Traceback" not in done.stderr
    assert "short" not in done.stderr or needle != "at least 24"


# --- resumable SSE ---------------------------------------------------------------------------------------------------

async def _open_session(http: httpx2.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    answer = await http.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
    assert answer.status_code == 200, answer.text
    headers = {**headers, "mcp-session-id": answer.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    await http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return headers


async def _call_and_drop(http: httpx2.AsyncClient, url: str, headers: dict[str, str], limit: int) -> str:
    """Call a tool over SSE and drop the stream right after its first event id (the priming event)."""
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "GetSiteThirdPartyIntegrations", "arguments": {"limit": limit}}}
    async with http.stream("POST", url, headers=headers, json=call) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("id:"):
                return line.removeprefix("id:").strip()
    raise AssertionError("the SSE stream carried no event id")


async def _resume(http: httpx2.AsyncClient, url: str, headers: dict[str, str], last_event_id: str) -> list[str]:
    data: list[str] = []
    with anyio.move_on_after(5):
        async with http.stream("GET", url, headers={**headers, "last-event-id": last_event_id,
                                                    "accept": "text/event-stream"}) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:") and line.strip() != "data:":
                    data.append(line.removeprefix("data:").strip())
                    if '"id":7' in data[-1]:
                        break
    return data


async def test_a_dropped_sse_stream_resumes_within_its_own_session_only() -> None:
    with serve(env={"INTEGRATIONS_AUTH_TOKEN": WRITER}) as server:
        auth = {**MCP_HEADERS, "authorization": f"Bearer {WRITER}"}
        async with httpx2.AsyncClient(timeout=10) as http:
            first = await _open_session(http, server.url, auth)
            second = await _open_session(http, server.url, auth)
            first_id = await _call_and_drop(http, server.url, first, limit=1)
            second_id = await _call_and_drop(http, server.url, second, limit=2)  # the same request id, 7
            await anyio.sleep(0.5)
            resumed = await _resume(http, server.url, first, first_id)
            assert len(resumed) == 1 and '"count":1' in resumed[0], resumed
            assert await _resume(http, server.url, first, second_id) == []  # another session's event: nothing
            resumed = await _resume(http, server.url, second, second_id)
            assert len(resumed) == 1 and '"count":2' in resumed[0], resumed


async def test_form_and_approval_pages_use_the_public_url(idp: IdP) -> None:
    """Behind a proxy or a container port mapping, both pages' links start with INTEGRATIONS_PUBLIC_URL, which is
    also the OAuth resource (the default audience) and its metadata's address."""
    public = "https://mcp.example.test"
    env = {"INTEGRATIONS_AUTH_TOKEN": WRITER, "INTEGRATIONS_PUBLIC_URL": public,
           "INTEGRATIONS_ALLOWED_HOSTS": "mcp.example.test", "INTEGRATIONS_OAUTH_ISSUER": ISSUER,
           "INTEGRATIONS_OAUTH_JWKS_URL": idp.jwks_url}
    with serve(env=env) as server:
        async with session(server.url, WRITER) as t:
            form = await t.ok("CreateCxEngageSecureForm", type="salesforce")
            refusal = await t.refused("EditCxEngageIntegration", "approval", **DEACTIVATE)
        assert form["form_url"].startswith(f"{public}/secure-forms/")
        assert re.search(rf"{re.escape(public)}/secure-forms/approvals/[A-Za-z0-9_-]+", refusal)
        answer = await post(server.url)
        assert f'resource_metadata="{public}/.well-known/oauth-protected-resource/mcp"' in answer.headers[
            "www-authenticate"]
        async with session(server.url, idp.token(f"{public}/mcp", sub="dana")) as t:
            await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
        assert (await post(server.url, idp.token(server.url))).status_code == 401  # not this server's public name
