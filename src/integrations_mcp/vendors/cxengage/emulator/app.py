"""The HTTP face of the emulator: CxEngage's /v1 JSON API (Basic or Token auth, answers under "result")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations_mcp.vendors.cxengage.emulator.contract import (
    ACCEPT_TRAILING_SLASH,
    API_PREFIX,
    DEFAULT_TOKEN_TTL,
    MAX_TOKEN_TTL,
    MSG_INVALID,
    MSG_TOKEN_ONLY,
    MSG_UNAUTHORIZED,
    TOKEN_SCHEME,
    ApiError,
)

if TYPE_CHECKING:
    from integrations_mcp.vendors.cxengage.emulator.emulator import CxEngageEmulator

__all__ = ["build_app"]

TOKENS_PATH = f"{API_PREFIX}/tokens"
COLLECTION = API_PREFIX + "/tenants/{tenant_id}/integrations"
ITEM = COLLECTION + "/{integration_id}"


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _error(error: ApiError, shape: str = "object") -> JSONResponse:
    return JSONResponse(error.body(shape), status_code=error.status, headers=error.headers)


class _ApiGate:
    """Authentication for every /v1 path but /v1/tokens, before routing, so unknown paths need credentials too."""

    def __init__(self, app: ASGIApp, emu: CxEngageEmulator) -> None:
        self.app, self.emu = app, emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api(scope["path"]):
            path = scope["path"]
            if ACCEPT_TRAILING_SLASH and len(path) > 1 and path.endswith("/"):
                scope = {**scope, "path": path.rstrip("/") or "/"}
            if scope["path"] != TOKENS_PATH:
                try:
                    self.authenticate(Request(scope))
                except ApiError as error:
                    await _error(error, self.emu.contract.error_shape)(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def authenticate(self, request: Request) -> None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme == "basic" and self.emu.check_basic(credentials):
            if self.emu.contract.auth_schemes == "token":
                raise ApiError(401, MSG_TOKEN_ONLY)
            return
        if scheme == TOKEN_SCHEME.lower() and credentials:
            self.emu.check_token(credentials)  # raises 401 for unknown or expired tokens
            return
        raise ApiError(401, MSG_UNAUTHORIZED)


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, MSG_INVALID, {"body": "The request body is not valid JSON."}) from None


def _result(result: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"result": result}, status_code=status)


class _Api:
    def __init__(self, emu: CxEngageEmulator) -> None:
        self.emu = emu

    async def create_token(self, request: Request) -> Response:
        """Credentials in the body (SDK: username/password) or, failing that, in a Basic header."""
        body = await _json(request)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(400, MSG_INVALID, {"body": "The request body must be a JSON object."})
        if "username" in body or "password" in body:
            key, secret = body.get("username"), body.get("password")
            valid = isinstance(key, str) and isinstance(secret, str) and self.emu.check_credentials(key, secret)
        else:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            valid = scheme.lower() == "basic" and self.emu.check_basic(credentials.strip())
        if not valid:
            raise ApiError(401, MSG_UNAUTHORIZED)
        ttl = body.get("ttl", DEFAULT_TOKEN_TTL)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TOKEN_TTL:
            raise ApiError(400, MSG_INVALID, {"ttl": f"Must be a whole number of seconds, 1 to {MAX_TOKEN_TTL}."})
        return JSONResponse({"token": self.emu.issue_token(ttl)})

    async def list_integrations(self, request: Request) -> Response:
        return JSONResponse(self.emu.list_answer(request.path_params["tenant_id"], dict(request.query_params)))

    async def create_integration(self, request: Request) -> Response:
        tenant_id = request.path_params["tenant_id"]
        self.emu.tenant(tenant_id, write=True)  # 403/404 before the body is looked at
        return _result(self.emu.create_integration(tenant_id, await _json(request)),
                       self.emu.contract.create_status)

    async def get_integration(self, request: Request) -> Response:
        return _result(self.emu.get_integration(request.path_params["tenant_id"],
                                                request.path_params["integration_id"]))

    async def update_integration(self, request: Request) -> Response:
        tenant_id, integration_id = request.path_params["tenant_id"], request.path_params["integration_id"]
        self.emu.integration(tenant_id, integration_id, write=True)  # unknown ids are 404 whatever the body
        return _result(self.emu.update_integration(tenant_id, integration_id, await _json(request)))

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create_integration(request)
        return await self.list_integrations(request)

    async def item(self, request: Request) -> Response:
        if request.method == "PUT":
            return await self.update_integration(request)
        return await self.get_integration(request)

    def routes(self) -> list[Route]:
        # One route per path, so a 405's Allow header lists every method the path takes. No DELETE exists [I].
        return [
            Route(TOKENS_PATH, self.create_token, methods=["POST"]),
            Route(COLLECTION, self.collection, methods=["GET", "POST"]),
            Route(ITEM, self.item, methods=["GET", "PUT"]),
        ]


def build_app(emu: CxEngageEmulator) -> ASGIApp:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc, emu.contract.error_shape)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _is_api(request.url.path):
            return PlainTextResponse(exc.detail, status_code=exc.status_code)
        if exc.status_code == 405:
            return _error(ApiError(405, f"{request.method} is not supported on {request.url.path}.",
                                   headers=dict(exc.headers or {})), emu.contract.error_shape)
        return _error(ApiError(404, f"No API resource at {request.url.path}."), emu.contract.error_shape)

    app = Starlette(routes=_Api(emu).routes(),
                    exception_handlers={ApiError: on_api_error, HTTPException: on_http_error})
    app.router.redirect_slashes = False
    return _ApiGate(app, emu)

