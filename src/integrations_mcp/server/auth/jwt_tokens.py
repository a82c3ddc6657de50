"""OAuth 2.1 resource server: JWT access tokens checked against the authorization server's JWKS.

Checked: the signature (asymmetric algorithms only, the key chosen by `kid` and compatible with the token's `alg`),
`iss` (exactly the configured issuer), `aud` (the configured audience: this server's /mcp URL by default, RFC 8707),
`exp` (required), `nbf`/`iat` when present, with a small clock leeway. The principal is `sub` (else `client_id`,
else `azp`); the scopes come from `scope` (space separated) or `scp`. The token is never passed on to a vendor."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import anyio
import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

from integrations_mcp.toolkit.access import READ_SCOPE, WRITE_SCOPE

__all__ = ["ALGORITHMS", "JwksCache", "JwtVerifier"]

log = logging.getLogger(__name__)

# Asymmetric only: "none" and the HMAC family (a shared secret) are refused whatever the token says.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30


class JwksCache:
    """The authorization server's signing keys, fetched with httpx2 and kept for `max_age` seconds. An unknown
    `kid` refetches (key rotation), at most once every `min_refresh` seconds so bad tokens cannot flood the IdP."""

    def __init__(self, url: str, *, max_age: float = 300, min_refresh: float = 30, timeout: float = 10,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.url, self.max_age, self.min_refresh, self.timeout = url, max_age, min_refresh, timeout
        self._transport = transport
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched: float | None = None
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> dict[str, Any] | None:
        found = self._lookup(kid)
        if self._age() > (self.max_age if found is not None else self.min_refresh):
            async with self._lock:
                if self._age() > self.min_refresh:  # another request may have refreshed meanwhile
                    await self._refresh()
            found = self._lookup(kid)
        return found

    def _age(self) -> float:
        return float("inf") if self._fetched is None else time.monotonic() - self._fetched

    def _lookup(self, kid: str | None) -> dict[str, Any] | None:
        if kid is not None:
            return self._keys.get(kid)
        # Without a kid a token is accepted only when the set has exactly one signing key.
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _refresh(self) -> None:
        self._fetched = time.monotonic()  # also on failure: do not hammer an unreachable IdP
        try:
            async with httpx2.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                answer = await http.get(self.url, headers={"accept": "application/json"})
            answer.raise_for_status()
            keys = answer.json().get("keys", [])
        except (httpx2.HTTPError, ValueError, AttributeError) as exc:
            log.warning("could not fetch the JWKS from %s (%s): tokens are refused until it can be read",
                        self.url, type(exc).__name__)
            return
        self._keys = {str(k.get("kid", i)): k for i, k in enumerate(keys)
                      if isinstance(k, dict) and k.get("use", "sig") == "sig"}


class JwtVerifier:
    """The SDK's `TokenVerifier` for JWT access tokens."""

    def __init__(self, *, issuer: str, audience: str, jwks: JwksCache, reserved: frozenset[str] = frozenset()) -> None:
        """`reserved`: principal names a JWT may not take (the static tokens' names): forms and approvals bind to
        the name, so an IdP user called like a static token must not reach that token's forms."""
        self.issuer, self.audience, self.jwks, self.reserved = issuer, audience, jwks, reserved

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self._claims(token)
        except jwt.PyJWTError as exc:
            log.info("JWT refused: %s", type(exc).__name__)  # the reason's class only: never the token
            return None
        if claims is None:
            return None
        principal = next((str(claims[c]) for c in ("sub", "client_id", "azp") if claims.get(c)), None)
        if principal is None or principal in self.reserved:
            log.warning("JWT refused: %s", "no sub, client_id or azp" if principal is None else
                        "its principal is the name of a static token (INTEGRATIONS_AUTH_TOKENS_FILE)")
            return None
        return AccessToken(token=token, client_id=principal, scopes=_scopes(claims), expires_at=int(claims["exp"]),
                           resource=self.audience, subject=claims.get("sub"), claims={"iss": claims["iss"]})

    async def claims(self, token: str) -> dict[str, Any] | None:
        """The verified claims of any JWT from the issuer for this audience (an OpenID Connect ID token whose
        audience is the pages' client id: `pages.signin.oidc`); None when it does not verify."""
        try:
            return await self._claims(token)
        except jwt.PyJWTError as exc:
            log.info("JWT refused: %s", type(exc).__name__)
            return None

    async def _claims(self, token: str) -> dict[str, Any] | None:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            log.info("JWT refused: algorithm %r is not allowed", str(algorithm)[:20])
            return None
        jwk = await self.jwks.key(header.get("kid"))
        if jwk is None or jwk.get("alg", algorithm) != algorithm:
            log.info("JWT refused: no signing key matches its kid and alg")
            return None
        key = jwt.PyJWK(jwk, algorithm=algorithm)  # refuses a key of another type than the algorithm's
        return jwt.decode(token, key=key.key, algorithms=[algorithm], issuer=self.issuer,
                          audience=[self.audience], leeway=LEEWAY_SECONDS,
                          options={"require": ["exp", "iss", "aud"]})


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp", ""))
    scopes = raw.split() if isinstance(raw, str) else [str(s) for s in raw] if isinstance(raw, list) else []
    if WRITE_SCOPE in scopes and READ_SCOPE not in scopes:
        scopes.append(READ_SCOPE)  # writing includes reading
    return scopes
