"""Authentication of the HTTP transport, assembled from the settings: which verifier, what the SDK is told, and
the fail-closed rule for binds other people can reach."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from starlette.routing import Route

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.loopback import is_loopback
from integrations_mcp.server.auth.tokens import StaticTokenVerifier
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit.access import READ_SCOPE, SCOPES

__all__ = ["FirstMatch", "auth_arguments", "check_exposure", "is_loopback", "metadata_routes", "resource_url"]

log = logging.getLogger(__name__)

HOW_TO_AUTHENTICATE = (
    "set INTEGRATIONS_AUTH_TOKENS_FILE or INTEGRATIONS_AUTH_TOKEN (bearer tokens), or INTEGRATIONS_OAUTH_ISSUER "
    "with INTEGRATIONS_OAUTH_JWKS_URL (OAuth)")


class FirstMatch:
    """One `TokenVerifier` over several: static tokens first, then JWTs."""

    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        self.verifiers = tuple(verifiers)

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self.verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


def base_url(settings: Settings) -> str:
    """Where clients reach this server: the public URL when set, else the listener itself."""
    local = settings.host if is_loopback(settings.host) else "127.0.0.1"
    local = f"[{local}]" if ":" in local and not local.startswith("[") else local
    return settings.public_url or f"http://{local}:{settings.port}"


def resource_url(settings: Settings) -> str:
    """This MCP endpoint as OAuth names it (RFC 8707/9728): the default audience of its tokens."""
    return f"{base_url(settings)}/mcp"


def check_exposure(settings: Settings) -> None:
    """Fail closed: a listener other machines can reach needs authentication, unless the operator accepts it."""
    if is_loopback(settings.host) or settings.auth_enabled:
        return
    if not settings.allow_unauthenticated_remote:
        raise ConfigurationError(
            f"refusing to listen on {settings.host}:{settings.port} without authentication: anyone who can reach "
            f"it could change your vendor integrations. {HOW_TO_AUTHENTICATE}; or listen on 127.0.0.1 "
            "(INTEGRATIONS_HOST, --host); or accept an open server with INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE=1 "
            "(--allow-unauthenticated-remote).")
    log.warning("!!! UNAUTHENTICATED: listening on %s:%d with no authentication "
                "(INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE). Anyone who reaches this port can call every tool, "
                "vendor writes included. To require a token, %s. !!!", settings.host, settings.port,
                HOW_TO_AUTHENTICATE)


def auth_arguments(settings: Settings) -> dict[str, Any]:
    """`token_verifier` and `auth` for MCPServer, or nothing when auth is off. Both modes go through the SDK's
    bearer middleware: 401 with `WWW-Authenticate`, the principal in `get_access_token()`."""
    if not settings.auth_enabled:
        return {}
    verifiers: list[TokenVerifier] = []
    if settings.auth_tokens:
        verifiers.append(StaticTokenVerifier(settings.auth_tokens))
    oauth = settings.oauth_issuer is not None
    if oauth:  # PyJWT and cryptography's key types (~1.6 MB resident) only with OAuth: static tokens need neither
        from integrations_mcp.server.auth.jwt_tokens import JwksCache, JwtVerifier

        audience = oauth_audience(settings)
        verifiers.append(JwtVerifier(issuer=settings.oauth_issuer, audience=audience,
                                     jwks=JwksCache(settings.oauth_jwks_url or ""),
                                     reserved=frozenset(t.name for t in settings.auth_tokens)))
    auth = AuthSettings(
        # Without OAuth there is no authorization server to advertise: no metadata route, and the issuer is unused.
        issuer_url=settings.oauth_issuer or base_url(settings),  # type: ignore[arg-type] - a string keeps its form
        resource_server_url=resource_url(settings) if oauth else None,  # type: ignore[arg-type]
        required_scopes=[READ_SCOPE],  # every principal reads; the write scope is checked per tool
        validate_token_resource=False)  # the JWT verifier checks `aud` itself
    return {"token_verifier": FirstMatch(verifiers), "auth": auth}


def oauth_audience(settings: Settings) -> str:
    if settings.oauth_audience:
        return settings.oauth_audience
    if settings.public_url is None and not is_loopback(settings.host):
        raise ConfigurationError(
            "OAuth on a non-loopback listener needs the address clients use: set INTEGRATIONS_PUBLIC_URL (e.g. "
            "https://mcp.example.com) or INTEGRATIONS_OAUTH_AUDIENCE.")
    return resource_url(settings)


def metadata_routes(settings: Settings) -> list[Route]:
    """RFC 9728 protected-resource metadata listing both scopes (the SDK would list only the required one)."""
    if settings.oauth_issuer is None:
        return []
    # Strings, not AnyHttpUrl: the metadata model keeps an issuer without a path exactly as given (RFC 8414 compares
    # issuers as strings; a trailing slash would break clients).
    return create_protected_resource_routes(resource_url(settings), [settings.oauth_issuer],  # type: ignore[list-item]
                                            scopes_supported=list(SCOPES), resource_name="integrations-mcp")
