"""CxEngage REST client for integrations: one `_request` that knows the vendor's dialect, then one method per call,
each returning a typed record (`records.py`)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from integrations_mcp.errors import VendorError, VendorUnavailable
from integrations_mcp.guardrails.secrets import scrub_vendor_text as scrub_text
from integrations_mcp.lazy_http import HttpRequester
from integrations_mcp.vendor_http import send, vendor_record
from integrations_mcp.vendors.cxengage.records import IntegrationRecord, IntegrationRef, IntegrationRow
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

__all__ = ["CxEngageClient"]

R = TypeVar("R", bound=IntegrationRef)

VENDOR = "CxEngage"
TOKEN_TTL_SECONDS = 3600  # [I] asked for on POST /v1/tokens; renewed a minute before it runs out
STATUS_HINTS = {
    401: "Check CXENGAGE_API_KEY and CXENGAGE_API_SECRET.",
    403: "The API key's role is not allowed on this tenant (creating integrations needs MANAGE_ALL_PROVIDERS).",
    404: "Check the tenant id and integration id (GetCxEngageIntegrations lists the integrations).",
}


class CxEngageClient:
    def __init__(self, http: HttpRequester, settings: CxEngageSettings) -> None:
        self.http = http
        self._settings = settings
        self._token: tuple[str, float] | None = None

    def _basic(self) -> str:
        pair = f"{self._settings.api_key.get_secret_value()}:{self._settings.api_secret.get_secret_value()}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def _authorization(self) -> str:
        if not self._settings.use_token:
            return self._basic()
        if self._token is None or self._token[1] <= time.monotonic():
            body = {"username": self._settings.api_key.get_secret_value(),
                    "password": self._settings.api_secret.get_secret_value(), "ttl": TOKEN_TTL_SECONDS}
            data = await self._send("CreateToken", "POST", "tokens", body=body, authorization=self._basic())
            token = data.get("token") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise VendorUnavailable(VENDOR, "CreateToken", "the token answer had no token.")
            self._token = (token, time.monotonic() + TOKEN_TTL_SECONDS - 60)
        return f"Token {self._token[0]}"

    async def _request(self, operation: str, method: str, path: str, *, body: dict[str, Any] | None = None,
                       scrub: Iterable[str] = ()) -> Any:
        scrub = list(scrub)
        renewable = self._settings.use_token and self._token is not None
        try:
            data = await self._send(operation, method, path, body=body, authorization=await self._authorization(),
                                    scrub=scrub)
        except VendorError as exc:
            if not (renewable and exc.status == 401):
                raise
            # A cached token the vendor no longer accepts (revoked, expired early): a 401 means nothing was done,
            # so get a new token and try once more instead of failing until the cached one runs out.
            self._token = None
            data = await self._send(operation, method, path, body=body, authorization=await self._authorization(),
                                    scrub=scrub)
        if not isinstance(data, dict) or "result" not in data:
            raise VendorUnavailable(VENDOR, operation, "the answer had no result.")
        return data["result"]

    async def _send(self, operation: str, method: str, path: str, *, body: dict[str, Any] | None,
                    authorization: str, scrub: Iterable[str] = ()) -> Any:
        response, data = await send(self.http, VENDOR, operation, method, path,
                                    url_setting="CXENGAGE_REGION / CXENGAGE_BASE_URL", json=body,
                                    headers={"authorization": authorization})
        if response.status_code in (200, 201) and data is not None:
            return data
        if response.status_code < 400:
            raise VendorUnavailable(VENDOR, operation, "CxEngage sent an answer that is not JSON.",
                                    status=response.status_code)
        message, code = _error_text(data)
        # A vendor may quote a rejected value back (whole, trimmed or shortened); it must not reach the chat.
        own = [self._settings.api_key.get_secret_value(), self._settings.api_secret.get_secret_value(),
               self._token[0] if self._token else "", self._basic().removeprefix("Basic ")]
        secrets = [*scrub, *own]
        message = scrub_text(message, secrets)
        raise VendorError(VENDOR, operation, message or response.reason_phrase or "error", status=response.status_code,
                          error_code=scrub_text(code, secrets) if code else code,
                          hint=STATUS_HINTS.get(response.status_code))

    async def read_raw(self, operation: str, path: str) -> Any:
        """A read's whole answer as CxEngage sent it (for `integrations-mcp check`); errors as for every call."""
        return await self._send(operation, "GET", path, body=None, authorization=await self._authorization())

    async def list_integrations(self, tenant_id: str) -> list[IntegrationRow]:
        operation = "GetIntegrations"
        result = await self._request(operation, "GET", f"tenants/{tenant_id}/integrations")
        if not isinstance(result, list) or not all(_is_record(item) for item in result):
            raise VendorUnavailable(VENDOR, operation, "the answer was not a list of integrations.")
        return [vendor_record(IntegrationRow, item, VENDOR, operation) for item in result]

    async def get_integration(self, tenant_id: str, integration_id: str) -> IntegrationRecord:
        return _record(IntegrationRecord, "GetIntegration", await self._request(
            "GetIntegration", "GET", f"tenants/{tenant_id}/integrations/{integration_id}"))

    async def create_integration(self, tenant_id: str, body: dict[str, Any], *, scrub: Iterable[str] = ()
                                 ) -> IntegrationRef:
        return _record(IntegrationRef, "CreateIntegration", await self._request(
            "CreateIntegration", "POST", f"tenants/{tenant_id}/integrations", body=body, scrub=scrub),
            hint="It may have been created all the same: list the integrations before trying again.")

    async def update_integration(self, tenant_id: str, integration_id: str, body: dict[str, Any], *,
                                 scrub: Iterable[str] = ()) -> None:
        # The answer is not used (the tools read the integration back), so its shape is not checked.
        await self._request("UpdateIntegration", "PUT", f"tenants/{tenant_id}/integrations/{integration_id}",
                            body=body, scrub=scrub)


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str)


def _record(model: type[R], operation: str, result: Any, hint: str | None = None) -> R:
    """An integration as `model`, or VendorUnavailable: a malformed answer must not reach the tools as data."""
    if not _is_record(result):
        raise VendorUnavailable(VENDOR, operation, "the answer was not an integration.", hint=hint)
    return vendor_record(model, result, VENDOR, operation, hint=hint)


def _error_text(data: Any) -> tuple[str, str | None]:
    """CxEngage errors: {"error": {"code", "message", "attribute"}}, or error as a string or a list of strings."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        attribute = error.get("attribute")
        if isinstance(attribute, dict) and attribute:
            details = "; ".join(f"{k}: {_shown(v)}" for k, v in attribute.items())
            message = f"{message} ({details})" if message else details
        code = error.get("code")
        return message, None if code is None else str(code)
    if isinstance(error, list):
        return "; ".join(map(str, error)), None
    if isinstance(error, str):
        return error, None
    return "", None


def _shown(value: Any) -> str:
    """A vendor's detail as text: strings as they are, lists of strings joined, anything else as JSON (never a
    Python repr, whose escapes would hide a secret from the scrub)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)
