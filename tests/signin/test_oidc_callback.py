"""The OIDC method's callback against a small issuer on a real ASGI path (discovery, JWKS and token endpoints; its
ID tokens signed with a generated RSA key) and the HTTP transport's own JWT verifier: what the token endpoint is sent
(the code, the PKCE verifier whose S256 is the challenge, the redirect URI, the client's credentials), and every ID
token that must not sign anyone in (another nonce, audience, issuer or key, expired, unsigned, a static token's
name, another authorized party) — only the right one sets the session cookie."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from integrations_mcp.pages.signin.oidc import FLOW_COOKIE, SESSION_COOKIE, OidcSignIn
from integrations_mcp.server.auth.jwt_tokens import JwksCache, JwtVerifier

pytestmark = pytest.mark.anyio

ISSUER, CLIENT, SECRET = "https://idp.example.test", "pages", "pages-secret-9c1e"
ORIGIN, PREFIX = "http://testserver", "/secure-forms"
RETURN_TO = f"{PREFIX}/approvals/abc"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Issuer:
    """Discovery, JWKS and a token endpoint that answers with the ID token the test sets."""

    def __init__(self) -> None:
        self.id_token = ""
        self.requests: list[tuple[dict[str, list[str]], str]] = []
        jwk = {**RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1", "use": "sig", "alg": "RS256"}

        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                                 "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
                                 "code_challenge_methods_supported": ["S256"]})

        async def jwks(request: Request) -> JSONResponse:
            return JSONResponse({"keys": [jwk]})

        async def token(request: Request) -> JSONResponse:
            self.requests.append((parse_qs((await request.body()).decode()), request.headers.get("authorization", "")))
            return JSONResponse({"id_token": self.id_token, "token_type": "Bearer", "access_token": "at"})

        self.app = Starlette(routes=[Route("/.well-known/openid-configuration", discovery),
                                     Route("/jwks", jwks), Route("/token", token, methods=["POST"])])


def id_token(nonce: str, **over: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "bob", "name": "Bob", "roles": ["integrations:approve"],
              "nonce": nonce, "iat": now, "exp": now + 300, **over}
    key, algorithm = over.pop("_key", KEY), over.pop("_alg", "RS256")
    claims = {k: v for k, v in claims.items() if not k.startswith("_") and v is not None}
    if algorithm == "none":
        return jwt.encode(claims, None, algorithm="none")
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": "k1"})


def app_for(issuer: Issuer) -> Starlette:
    transport = httpx2.ASGITransport(app=issuer.app)
    verifier = JwtVerifier(issuer=ISSUER, audience=CLIENT, jwks=JwksCache(f"{ISSUER}/jwks", transport=transport))
    method = OidcSignIn(issuer=ISSUER, client_id=CLIENT, client_secret=SECRET, verify_id_token=verifier.claims,
                        key=b"k" * 32, transport=transport, reserved=frozenset({"ci-bot"}),
                        keep_roles=frozenset({"integrations:approve"}))
    return Starlette(routes=method.routes(PREFIX, lambda: None))


async def sign_in(issuer: Issuer, **over: Any) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app_for(issuer))) as http:
        start = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/start", params={"return_to": RETURN_TO})
        assert start.status_code == 303
        sent = parse_qs(urlsplit(start.headers["location"]).query)
        issuer.id_token = id_token(sent["nonce"][0], **over)
        flow = start.cookies[FLOW_COOKIE]
        answer = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/callback",
                                params={"code": "the-code", "state": sent["state"][0]},
                                headers={"cookie": f"{FLOW_COOKIE}={flow}"})
    form, authorization = issuer.requests[-1]
    verifier = form["code_verifier"][0]
    assert base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=") == \
        sent["code_challenge"][0] and sent["code_challenge_method"] == ["S256"]
    assert form["code"] == ["the-code"] and form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == [f"{ORIGIN}{PREFIX}/signin/oidc/callback"] == sent["redirect_uri"]
    assert authorization == "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert sent["prompt"] == ["login"] and sent["client_id"] == [CLIENT]
    return answer


async def test_the_right_id_token_signs_the_person_in() -> None:
    answer = await sign_in(Issuer())
    assert answer.status_code == 200 and "Signed in" in answer.text and f"url={RETURN_TO}" in answer.text
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert f"Path={PREFIX}" in cookie and SECRET not in answer.text + cookie


@pytest.mark.parametrize("over", [
    {"nonce": "another-sign-in"}, {"aud": "another-client"}, {"iss": "https://other.example"},
    {"exp": int(time.time()) - 3600}, {"_key": OTHER_KEY}, {"_alg": "none"}, {"_alg": "HS256", "_key": "k" * 32},
    {"sub": "ci-bot"}, {"sub": None}, {"aud": [CLIENT, "other"], "azp": "other"},
], ids=["nonce", "aud", "iss", "expired", "other key", "unsigned", "hmac", "static token name", "no sub", "azp"])
async def test_no_other_id_token_signs_anyone_in(over: dict[str, Any]) -> None:
    if over.get("nonce"):  # the test's id_token() sets the right nonce; replace it after
        issuer = Issuer()
        answer = await _with_nonce(issuer, over["nonce"])
    else:
        answer = await sign_in(Issuer(), **over)
    assert answer.status_code == 403 and "could not be confirmed" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


async def _with_nonce(issuer: Issuer, nonce: str) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app_for(issuer))) as http:
        start = await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/start", params={"return_to": RETURN_TO})
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        issuer.id_token = id_token(nonce)
        return await http.get(f"{ORIGIN}{PREFIX}/signin/oidc/callback", params={"code": "c", "state": state},
                              headers={"cookie": f"{FLOW_COOKIE}={start.cookies[FLOW_COOKIE]}"})
