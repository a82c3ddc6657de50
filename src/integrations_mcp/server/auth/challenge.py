"""RFC 6750 §3 `scope=` on the SDK's Bearer challenges at /mcp (its middleware sends `error` and
`resource_metadata` only). MCP clients request the challenge's scopes when they (re)authorize:

- 401 (no token, or a bad one): both scopes, what the whole tool set needs (an authorization server may grant
  less; a read-only grant then sees the read tools);
- 403 `insufficient_scope` (a valid token with neither scope): the scope /mcp requires, `integrations:read`, plus
  any of ours the token already holds.

A write tool called with a read-only token is refused inside MCP (a tool error naming the scope), not by HTTP."""

from __future__ import annotations

import json

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, RequireAuthMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_mcp.toolkit.access import READ_SCOPE, SCOPES

__all__ = ["NO_TOKEN_HINT", "ScopeChallenge", "registration_hint_route", "with_scope_challenge"]

# A client that sent no token at all was most likely added without the bearer header: say so (the SDK's 401 says
# "Authentication required", and a client that then tries OAuth meets a 404 at /register).
NO_TOKEN_HINT = ("No bearer token was sent: add the header Authorization: Bearer <token> to this server's entry in "
                 "the MCP client (e.g. claude mcp add --transport http integrations <url> --header "
                 "\"Authorization: Bearer $INTEGRATIONS_AUTH_TOKEN\"); the token is the server's "
                 "INTEGRATIONS_AUTH_TOKEN or a line of its INTEGRATIONS_AUTH_TOKENS_FILE.")


class ScopeChallenge:
    """Wraps the SDK's auth-requiring endpoint; inside it the request's granted scopes (`scope["auth"]`) are known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _scopes(self, status: int, scope: Scope) -> str:
        if status == 401:
            return " ".join(SCOPES)
        granted = set(getattr(scope.get("auth"), "scopes", ()) or ())
        return " ".join(s for s in SCOPES if s == READ_SCOPE or s in granted)

    def _let_through(self, scope: Scope) -> bool:
        """The wrapped RequireAuthMiddleware will pass this request on (its own test: an authenticated user holding
        every required scope), so no challenge can come back: nothing to watch."""
        if not isinstance(self.app, RequireAuthMiddleware) or not isinstance(scope.get("user"), AuthenticatedUser):
            return False
        granted = getattr(scope.get("auth"), "scopes", None) or ()
        return all(required in granted for required in self.app.required_scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._let_through(scope):
            await self.app(scope, receive, send)
            return

        no_token = not any(k.lower() == b"authorization" for k, _ in scope.get("headers", []))
        held: list[Message] = []

        async def send_with_scope(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                hint = f', scope="{self._scopes(message["status"], scope)}"'.encode()
                message = {**message, "headers": [
                    (k, v + hint if k.lower() == b"www-authenticate" and v[:7].lower() == b"bearer "
                     and b"scope=" not in v else v) for k, v in message.get("headers", [])]}
                if message["status"] == 401 and no_token:
                    held.append(message)  # the body gets the hint, so the length changes: sent with it
                    return
            if held and message["type"] == "http.response.body":
                start, body = held.pop(), _with_hint(message.get("body", b""))
                headers = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                           for k, v in start["headers"]]
                await send({**start, "headers": headers})
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, send_with_scope)


def _with_hint(body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    return json.dumps({**data, "error_description": NO_TOKEN_HINT}).encode()


def registration_hint_route() -> Route:
    """Static bearer tokens, no OAuth: a client that was added without the header tries OAuth after the 401 and
    registers itself at /register (RFC 7591). Answer with an RFC 7591 error whose description says what is
    missing, instead of a bare 404 ("Dynamic Client Registration rejected (HTTP 404)")."""

    async def register(_request: Request) -> JSONResponse:
        return JSONResponse({"error": "invalid_client_metadata", "error_description": NO_TOKEN_HINT}, status_code=400,
                            headers={"Cache-Control": "no-store"})

    return Route("/register", endpoint=register, methods=["POST"])


def with_scope_challenge(routes: list, path: str) -> None:
    """Wrap the endpoint of the Route at `path` (the SDK's /mcp, behind its bearer middleware) in place."""
    for i, route in enumerate(routes):
        if isinstance(route, Route) and route.path == path:
            routes[i] = Route(path, endpoint=ScopeChallenge(route.endpoint), methods=route.methods,
                              name=route.name, include_in_schema=route.include_in_schema)
