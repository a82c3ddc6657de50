"""`ScopeChallenge` around the SDK's own bearer middleware (in process: `RequireAuthMiddleware` with the SDK's
`AuthenticationMiddleware` and `BearerAuthBackend`, a static-token verifier of ours): the `scope=` hint on 401 and
403, exactly once, and answers that are not challenges untouched. Over real HTTP: tests/server/test_http_auth.py."""

from __future__ import annotations

import httpx2
import pytest
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from integrations_mcp.server.auth.challenge import with_scope_challenge
from integrations_mcp.server.auth.tokens import StaticToken, StaticTokenVerifier

pytestmark = pytest.mark.anyio

TOKENS = {"both": "b" * 32, "none": "n" * 32}


class Inner:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("in")(scope, receive, send)


def app(required: list[str]) -> Starlette:
    verifier = StaticTokenVerifier([StaticToken("both", TOKENS["both"], ("integrations:read", "integrations:write")),
                                    StaticToken("none", TOKENS["none"], ("unrelated",))])
    routes = [Route("/mcp", endpoint=RequireAuthMiddleware(Inner(), required)),
              Route("/other", endpoint=RequireAuthMiddleware(Inner(), required))]
    with_scope_challenge(routes, "/mcp")
    return Starlette(routes=routes, middleware=[Middleware(AuthenticationMiddleware,
                                                           backend=BearerAuthBackend(verifier))])


async def get(path: str, token: str | None, required: list[str] | None = None) -> httpx2.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app(required or ["integrations:read"])),
                                  base_url="http://127.0.0.1") as http:
        return await http.get(path, headers=headers)


async def test_401_names_both_scopes_once() -> None:
    for token in (None, "x" * 32):
        answer = await get("/mcp", token)
        assert answer.status_code == 401
        challenge = answer.headers["www-authenticate"]
        assert challenge.startswith("Bearer error=") and challenge.count("scope=") == 1
        assert challenge.endswith(', scope="integrations:read integrations:write"')


async def test_403_names_the_required_scope_and_keeps_what_the_token_holds() -> None:
    answer = await get("/mcp", TOKENS["none"])
    assert answer.status_code == 403 and answer.headers["www-authenticate"].endswith(', scope="integrations:read"')
    answer = await get("/mcp", TOKENS["both"], required=["integrations:read", "more"])
    assert answer.status_code == 403
    assert answer.headers["www-authenticate"].endswith(', scope="integrations:read integrations:write"')


async def test_answers_that_are_not_challenges_are_untouched() -> None:
    answer = await get("/mcp", TOKENS["both"])
    assert answer.status_code == 200 and answer.text == "in" and "www-authenticate" not in answer.headers
    other = await get("/other", None)  # only the wrapped path gets the hint
    assert other.status_code == 401 and "scope=" not in other.headers["www-authenticate"]
