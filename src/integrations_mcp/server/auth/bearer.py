"""The SDK's bearer authentication (`BearerAuthBackend`, in front of /mcp), with the Authorization header looked up
in the request's first headers (`limits.first_headers`, made once per request by the edge) instead of decoding and
lower-casing every header name of every request. Same header, same checks, same answer: the SDK's backend finds the
first header whose name is `authorization` (an ASGI server sends names in lower case; a name in another case is
never found by its lookup either), then asks the token verifier, the expiry and the resource as here."""

from __future__ import annotations

import time

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from integrations_mcp.limits import first_headers

__all__ = ["HeaderBearerBackend", "use_header_lookup"]


class HeaderBearerBackend(BearerAuthBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        raw = first_headers(conn.scope).get(b"authorization")
        if not raw or raw[:7].lower() != b"bearer ":
            return None
        auth_info = await self.token_verifier.verify_token(raw[7:].decode("latin-1"))
        if not auth_info:
            return None
        if auth_info.expires_at and auth_info.expires_at < int(time.time()):
            return None
        if self.resource_server_url and not self._issued_for_this_resource(auth_info.resource):
            return await super().authenticate(conn)  # the SDK's refusal, with its warning
        return AuthCredentials(auth_info.scopes), AuthenticatedUser(auth_info)


def use_header_lookup(app: Starlette) -> bool:
    """Swap the SDK's backend for `HeaderBearerBackend` in `app`'s authentication middleware (before the app serves:
    Starlette builds its middleware stack on the first request). False, and the SDK's own backend serves, when the
    app has no such middleware (auth off) or the SDK assembles it differently."""
    for entry in app.user_middleware:
        backend = entry.kwargs.get("backend")
        if entry.cls is AuthenticationMiddleware and type(backend) is BearerAuthBackend:
            entry.kwargs["backend"] = HeaderBearerBackend(backend.token_verifier,
                                                          resource_server_url=backend.resource_server_url)
            return True
    return False
