"""The HTTP face of the emulator: RevCent's /v2 JSON API (flat envelope, x-api-key) plus the secure form page."""

from __future__ import annotations

import hmac
import json
import re
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations_mcp.vendors.revcent.emulator import schemas
from integrations_mcp.vendors.revcent.emulator.contract import (
    ERROR_RESULT,
    ID_LENGTH,
    LIMIT_MAX,
    LIMIT_MIN,
    RESULT_CREATED,
    RESULT_UPDATED,
    ApiError,
    ErrorCode,
    new_id,
)
from integrations_mcp.vendors.revcent.emulator.form_page import form_page_routes
from integrations_mcp.vendors.revcent.emulator.records import site_view

if TYPE_CHECKING:
    from integrations_mcp.vendors.revcent.emulator.emulator import RevCentEmulator

__all__ = ["build_app"]

API_PREFIX = "/v2"
ALLOWED_METHODS = ("GET", "POST")  # "The V2 API is a HTTP REST API, allowing only GET and POST requests."
_INT = re.compile(r"-?\d{1,9}")


def _error_body(emu: RevCentEmulator, error: ApiError) -> dict[str, Any]:
    return {"api_call_id": new_id(), "api_call_unix": emu.now(), "code": 0, "error_code": str(error.code),
            "message": error.message, "result": ERROR_RESULT}


def _error(emu: RevCentEmulator, error: ApiError) -> JSONResponse:
    headers = {"allow": ", ".join(ALLOWED_METHODS)} if error.code == ErrorCode.METHOD_NOT_ALLOWED else None
    return JSONResponse(_error_body(emu, error), status_code=error.status, headers=headers)


def _ok(emu: RevCentEmulator, **fields: Any) -> JSONResponse:
    if emu.contract.booleans == "strings":
        fields = _bool_strings(fields)
    return JSONResponse({"api_call_id": new_id(), "api_call_unix": emu.now(), "code": 1, **fields})


def _bool_strings(value: Any) -> Any:
    """Contract.booleans="strings": every boolean of an answer as "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: _bool_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bool_strings(v) for v in value]
    return value


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class _ApiGate:
    """Method and key checks for every /v2 path, before routing, so unknown paths need a key too."""

    def __init__(self, app: ASGIApp, emu: RevCentEmulator) -> None:
        self.app, self.emu = app, emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api(scope["path"]):
            error = self._refusal(Request(scope))
            if error is not None:
                await _error(self.emu, error)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> ApiError | None:
        if request.method not in ALLOWED_METHODS:
            return ApiError(ErrorCode.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed; use GET or POST.")
        key = request.headers.get("x-api-key")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if key is None and scheme.lower() == "bearer":
            key = token.strip()
        if not key or not hmac.compare_digest(key.encode(), self.emu.api_key.encode()):
            return ApiError(ErrorCode.UNAUTHORIZED, "Missing or invalid API key (x-api-key header).")
        return None


def _path_id(request: Request, name: str) -> str:
    value = request.path_params[name]
    if len(value) != ID_LENGTH:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{name} must be a {ID_LENGTH} character ID.")
    return value


def _paging(request: Request, page_first: int) -> tuple[int, int]:
    values = []
    for name, low, high in (("limit", LIMIT_MIN, LIMIT_MAX), ("page", page_first, None)):
        raw = request.query_params.get(name)
        if raw is None or not _INT.fullmatch(raw):
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Query parameter '{name}' is required and must be an integer.")
        value = int(raw)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Query parameter '{name}' must be {bounds}.")
        values.append(value)
    return values[0], values[1]


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The request body is not valid JSON.") from None


class _Api:
    def __init__(self, emu: RevCentEmulator) -> None:
        self.emu = emu

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        limit, page = _paging(request, self.emu.contract.page_first)
        start = (page - self.emu.contract.page_first) * limit
        results = items[start:start + limit]
        return _ok(self.emu, current_count=len(results), current_page=page,
                   **{self.emu.contract.list_key: results})

    async def list_sites(self, request: Request) -> Response:
        return self._page(request, [site_view(s, contract=self.emu.contract)
                                    for s in self.emu.site_integrations.values()])

    async def get_site(self, request: Request) -> Response:
        site = self.emu.site(_path_id(request, "site_third_party_integration_id"))
        return _ok(self.emu, **site_view(site, contract=self.emu.contract))

    async def list_integrations(self, request: Request) -> Response:
        # [I] list rows are the Get record without provider assets (a list should not call every provider).
        return self._page(request, [self.emu.view(r, with_assets=False) for r in self.emu.user_integrations.values()])

    async def get_integration(self, request: Request) -> Response:
        record = self.emu.integration(_path_id(request, "user_third_party_integration_id"))
        return _ok(self.emu, **self.emu.view(record))

    async def create_integration(self, request: Request) -> Response:
        body = schemas.check("create", await _json(request), secure_form_id=self.emu.contract.accept_secure_form_id)
        integration_id = self.emu.create_integration(body)
        return _ok(self.emu, user_third_party_integration_id=integration_id, result=RESULT_CREATED)

    async def edit_integration(self, request: Request) -> Response:
        integration_id = _path_id(request, "user_third_party_integration_id")
        self.emu.integration(integration_id)  # an unknown id is "not found" whatever the body says
        body = schemas.check("edit", await _json(request), secure_form_id=self.emu.contract.accept_secure_form_id)
        self.emu.edit_integration(integration_id, body)
        return _ok(self.emu, user_third_party_integration_id=integration_id, result=RESULT_UPDATED)

    async def create_form(self, request: Request) -> Response:
        body = schemas.check("secure_form", await _json(request))
        source, source_id = body["form_source"], body.get("form_source_id")
        if source == "third_party_integration" and source_id is None:
            raise ApiError(ErrorCode.VALIDATION_ERROR,
                           "form_source_id (the site third party integration ID) is required for this form_source.")
        form = self.emu.create_form(source, source_id)
        form_url = f"{str(request.base_url).rstrip('/')}/secure_forms/{form.id}"
        public = self._form_fields(form.public())
        return _ok(self.emu, **{self.emu.contract.form_id_key: form.id}, form_url=form_url,
                   **{k: public[k] for k in ("expiration_date_unix", "completed", "form_source", "form_source_id")
                      if k in public})

    async def get_form(self, request: Request) -> Response:
        return _ok(self.emu, **self._form_fields(self.emu.live_form(_path_id(request, "secure_form_id")).public()))

    def _form_fields(self, public: dict[str, Any]) -> dict[str, Any]:
        if self.emu.contract.form_reports_source:
            return public
        return {k: v for k, v in public.items() if k not in ("form_source_id", "expiration_date_unix")}

    def routes(self) -> list[Route]:
        p = API_PREFIX
        return [
            Route(f"{p}/site_third_party_integrations", self.list_sites, methods=["GET"]),
            Route(p + "/site_third_party_integrations/{site_third_party_integration_id}", self.get_site,
                  methods=["GET"]),
            Route(f"{p}/user_third_party_integrations", self.list_integrations, methods=["GET"]),
            Route(f"{p}/user_third_party_integrations", self.create_integration, methods=["POST"]),
            Route(p + "/user_third_party_integrations/{user_third_party_integration_id}", self.get_integration,
                  methods=["GET"]),
            Route(p + "/user_third_party_integrations/{user_third_party_integration_id}", self.edit_integration,
                  methods=["POST"]),
            Route(f"{p}/secure_forms", self.create_form, methods=["POST"]),
            Route(p + "/secure_forms/{secure_form_id}", self.get_form, methods=["GET"]),
        ]


def build_app(emu: RevCentEmulator) -> ASGIApp:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(emu, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _is_api(request.url.path):
            return PlainTextResponse(exc.detail, status_code=exc.status_code)
        if exc.status_code == 405:
            return _error(emu, ApiError(ErrorCode.METHOD_NOT_ALLOWED,
                                        f"{request.method} is not supported on {request.url.path}."))
        return _error(emu, ApiError(ErrorCode.NOT_FOUND, f"No API operation at {request.url.path}."))

    app = Starlette(routes=_Api(emu).routes() + form_page_routes(emu),
                    exception_handlers={ApiError: on_api_error, HTTPException: on_http_error})
    return _ApiGate(app, emu)
