"""The parts of HTTP auth one at a time, in process: the tokens file, the JWT verifier against a real JWKS endpoint
on loopback (key rotation, an unreachable IdP), and the listener's header deadline on a real uvicorn socket.
The whole path through real clients: test_http_auth.py."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.limits import Limits
from integrations_mcp.loopback import LoopbackServer, bind_tcp
from integrations_mcp.server.auth.jwt_tokens import JwksCache, JwtVerifier
from integrations_mcp.server.auth.tokens import StaticTokenVerifier, parse_tokens
from integrations_mcp.server.http_server import config
from integrations_mcp.server.settings import load_settings

pytestmark = pytest.mark.anyio

TOKEN_A, TOKEN_B = "a" * 30, "b" * 30
ISSUER, AUDIENCE = "https://idp.example.test", "https://mcp.example.test/mcp"


# --- the tokens file -------------------------------------------------------------------------------------------------

def test_tokens_file_lines_become_principals_with_scopes(tmp_path: Any) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# team tokens\n\nalice {TOKEN_A}   # all scopes\nci-bot {TOKEN_B} integrations:read\n")
    settings = load_settings({"REVCENT_API_KEY": "k" * 20, "INTEGRATIONS_AUTH_TOKENS_FILE": str(path),
                              "INTEGRATIONS_AUTH_TOKEN": "c" * 30})
    found = {t.name: t.scopes for t in settings.auth_tokens}
    assert found == {"alice": ("integrations:read", "integrations:write"), "ci-bot": ("integrations:read",),
                     "default": ("integrations:read", "integrations:write")}
    assert TOKEN_A not in repr(settings) and "c" * 30 not in repr(settings)


@pytest.mark.parametrize(("text", "needle"), [
    (f"alice {TOKEN_A} integrations:admin", "line 1: unknown scope(s) integrations:admin"),
    ("alice\n", "line 1: expected `name token"),
    ("alice short-token\n", "line 1: a token must be at least 24"),
    (f"alice {TOKEN_A}\nalice {TOKEN_B}\n", "alice appear more than once"),
    (f"alice {TOKEN_A}\nbob {TOKEN_A}\n", "the same token is given twice"),
    (f"al/ice {TOKEN_A}\n", "the name must be"),
    ("alice your-integrations-auth-token\n", "line 1: the token is still a placeholder"),
])
def test_a_bad_tokens_file_names_the_line_never_the_token(text: str, needle: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_tokens(text, "INTEGRATIONS_AUTH_TOKENS_FILE")
    assert needle in str(refused.value)
    assert TOKEN_A not in str(refused.value) and "short-token" not in str(refused.value)


async def test_static_tokens_verify_to_their_principal_only() -> None:
    verifier = StaticTokenVerifier(parse_tokens(f"alice {TOKEN_A}\nci {TOKEN_B} integrations:read\n", "file"))
    alice, ci = await verifier.verify_token(TOKEN_A), await verifier.verify_token(TOKEN_B)
    assert alice is not None and alice.client_id == "alice" and "integrations:write" in alice.scopes
    assert ci is not None and ci.client_id == "ci" and ci.scopes == ["integrations:read"]
    for wrong in (TOKEN_A[:-1], TOKEN_A + "a", "", "Bearer " + TOKEN_A):
        assert await verifier.verify_token(wrong) is None
    assert TOKEN_A not in repr(verifier)
    # Each principal's verdict is made once and handed out again; a later call still gets its own principal's.
    assert await verifier.verify_token(TOKEN_A) is alice and await verifier.verify_token(TOKEN_B) is ci
    assert (await verifier.verify_token(TOKEN_A)).client_id == "alice"
    assert await verifier.verify_token(TOKEN_A[:-1]) is None


# --- the JWT verifier ------------------------------------------------------------------------------------------------

class KeySet:
    """A JWKS endpoint on loopback whose keys a test can rotate; counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        self.server = LoopbackServer(Starlette(routes=[Route("/jwks", self._jwks)])).start()
        self.url = f"{self.server.url}/jwks"

    async def _jwks(self, request: Any) -> JSONResponse:
        self.fetches += 1
        return JSONResponse({"keys": self.keys})


@pytest.fixture
def keyset() -> Iterator[KeySet]:
    keys = KeySet()
    try:
        yield keys
    finally:
        keys.server.stop()


def _token(key: Any, kid: str | None, algorithm: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "carol", "scope": "integrations:write", "exp": now + 60, **claims}
    body = {name: value for name, value in body.items() if value is not None}  # None: leave the claim out
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid} if kid else {})


async def test_jwt_principal_scopes_and_key_rotation(keyset: KeySet) -> None:
    old, new = rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(ec.SECP256R1())
    keyset.keys = [{**RSAAlgorithm.to_jwk(old.public_key(), as_dict=True), "kid": "old"}]
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksCache(keyset.url, min_refresh=0))
    found = await verifier.verify_token(_token(old, "old"))
    assert found is not None and found.client_id == "carol" and found.subject == "carol"
    assert set(found.scopes) == {"integrations:read", "integrations:write"} and found.resource == AUDIENCE
    no_sub = await verifier.verify_token(_token(old, "old", sub=None, client_id="svc-1", scp=["integrations:read"],
                                                scope=None))
    assert no_sub is not None and no_sub.client_id == "svc-1" and no_sub.scopes == ["integrations:read"]
    # The IdP rotates to an EC key: an unknown kid refetches the set once.
    keyset.keys.append({**ECAlgorithm.to_jwk(new.public_key(), as_dict=True), "kid": "new"})
    assert (await verifier.verify_token(_token(new, "new", algorithm="ES256"))) is not None
    assert keyset.fetches == 2
    # A token naming the EC key's kid but an RSA algorithm: refused (no algorithm confusion).
    assert await verifier.verify_token(_token(old, "new", algorithm="RS256")) is None


async def test_unknown_kids_do_not_flood_the_idp(keyset: KeySet) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyset.keys = [{**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}]
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksCache(keyset.url, min_refresh=60))
    for n in range(20):
        assert await verifier.verify_token(_token(key, f"forged-{n}")) is None
    assert keyset.fetches == 1
    assert await verifier.verify_token(_token(key, "k1")) is not None  # the cached key still works
    assert await verifier.verify_token(_token(key, None)) is not None  # one key in the set: no kid needed


async def test_a_jwt_cannot_take_a_static_tokens_principal(keyset: KeySet) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyset.keys = [{**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}]
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksCache(keyset.url),
                           reserved=frozenset({"alice", "default"}))
    assert await verifier.verify_token(_token(key, "k1", sub="alice")) is None
    assert await verifier.verify_token(_token(key, "k1", sub=None, client_id="default")) is None
    assert (await verifier.verify_token(_token(key, "k1", sub="alice2"))) is not None


async def test_an_unreachable_jwks_refuses_tokens() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE,
                           jwks=JwksCache(f"http://127.0.0.1:{port}/jwks", timeout=2))
    assert await verifier.verify_token(_token(key, "k1")) is None


# --- the listener ----------------------------------------------------------------------------------------------------

def test_a_connection_that_sends_no_request_is_closed() -> None:
    """uvicorn alone would hold it open forever; the header deadline closes it, while a request is served."""
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    sock = bind_tcp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(config(Starlette(routes=[Route("/", hello)]), Limits(header_timeout=0.5)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""  # closed by the server
            assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
            assert slow.recv(1) == b""
        with socket.create_connection(("127.0.0.1", port), timeout=5) as good:
            good.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := good.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the bearer header lookup ----------------------------------------------------------------------------------------

def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/mcp", "headers": headers}


def _verdict(result: Any) -> Any:
    if result is None:
        return None
    credentials, user = result
    return credentials.scopes, user.access_token, user.display_name


async def test_the_bearer_header_lookup_answers_as_the_sdks_backend() -> None:
    """`HeaderBearerBackend` reads the Authorization header from the request's first headers; the SDK's backend
    scans every header. Every header list here (case of the name and of `Bearer`, several Authorization headers,
    other headers around, no token, tokens of another principal or none, a resource check) gets the same verdict
    from both: nothing authenticated, or the same scopes and the same principal's token."""
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
    from pydantic import AnyHttpUrl
    from starlette.requests import HTTPConnection

    from integrations_mcp.server.auth.bearer import HeaderBearerBackend

    verifier = StaticTokenVerifier(parse_tokens(f"alice {TOKEN_A}\nci {TOKEN_B} integrations:read\n", "file"))
    values = [f"Bearer {TOKEN_A}", f"bearer {TOKEN_B}", f"BEARER {TOKEN_A}", f"Bearer  {TOKEN_A}", f"Bearer {TOKEN_A} ",
              f"Basic {TOKEN_A}", f"Bearer{TOKEN_A}", "Bearer ", "Bearer", "", TOKEN_A, f"Bearer {TOKEN_A[:-1]}"]
    lists: list[list[tuple[bytes, bytes]]] = [[], [(b"host", b"127.0.0.1")]]
    for value in values:
        raw, other = value.encode("latin-1"), f"Bearer {TOKEN_B}".encode()
        lists += [[(b"authorization", raw)], [(b"host", b"x"), (b"authorization", raw), (b"accept", b"*/*")],
                  [(b"Authorization", raw)], [(b"authorization", raw), (b"authorization", other)],
                  [(b"Authorization", raw), (b"authorization", other)],
                  [(b"authorization", b"Bearer " + b"\xe9" * 30), (b"authorization", raw)]]
    checked = 0
    for resource in (None, AnyHttpUrl("https://mcp.example.test/mcp")):
        sdk, ours = (cls(verifier, resource_server_url=resource) for cls in (BearerAuthBackend, HeaderBearerBackend))
        for headers in lists:
            expected = _verdict(await sdk.authenticate(HTTPConnection(_scope(headers))))
            assert _verdict(await ours.authenticate(HTTPConnection(_scope(headers)))) == expected, headers
            checked += expected is not None
    # Found without the resource check (which refuses them all): 4 lists for each of the 3 valid values, and the
    # lowercase second header of a list whose first name is not lowercase, for the other 9.
    assert checked == 21


def test_the_http_app_authenticates_with_the_header_lookup() -> None:
    """With auth on, the SDK's authentication middleware of /mcp uses `HeaderBearerBackend` (same verifier); the
    whole path through real clients is test_http_auth.py."""
    from starlette.middleware.authentication import AuthenticationMiddleware

    from integrations_mcp.server.app import build_server
    from integrations_mcp.server.auth.bearer import HeaderBearerBackend
    from integrations_mcp.server.transports import http_app

    settings = load_settings({"CXENGAGE_API_KEY": "k" * 36, "CXENGAGE_API_SECRET": "s" * 43,
                              "CXENGAGE_TENANT_ID": "0b1c4c6e-7a8f-4d0e-9e3b-2f6a1c5d8e90",
                              "INTEGRATIONS_AUTH_TOKEN": TOKEN_A,
                              "INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:"}, transport="http")
    app = http_app(build_server(settings), settings)
    backends = [m.kwargs["backend"] for m in app.user_middleware if m.cls is AuthenticationMiddleware]
    assert [type(b) for b in backends] == [HeaderBearerBackend]
