"""RevCent API v2 client: one `_request` that knows the vendor's dialect, then one method per operation, each
returning RevCent's record as a model (`records.py`)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from integrations_mcp.errors import VendorError, VendorUnavailable
from integrations_mcp.guardrails.secrets import scrub
from integrations_mcp.lazy_http import LazyHttpClient
from integrations_mcp.vendor_http import send, vendor_record
from integrations_mcp.vendors.revcent.records import (
    Created,
    NewSecureForm,
    SecureFormRecord,
    SiteIntegration,
    SiteIntegrationList,
    UserIntegration,
    UserIntegrationList,
    UserIntegrationSummary,
)
from integrations_mcp.vendors.revcent.settings import RevCentSettings

__all__ = ["RevCentClient"]

VENDOR = "RevCent"
PAGE_SIZE_MAX = 25  # RevCent list operations take limit 1..25
MAX_PAGES = 400  # 10,000 integrations: far beyond any account, short of looping forever on a vendor fault

M = TypeVar("M", bound=BaseModel)


class RevCentClient:
    """`http` carries the base URL and timeout; the key is added to each request here, the only place that
    unwraps it."""

    def __init__(self, http: LazyHttpClient, settings: RevCentSettings) -> None:
        self.http = http
        self._settings = settings

    def _key(self) -> str:
        return self._settings.api_key.get_secret_value()

    async def _request(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                       body: dict[str, Any] | None = None) -> dict[str, Any]:
        response, data = await send(self.http, VENDOR, operation, method, path, url_setting="REVCENT_BASE_URL",
                                    params=params, json=body, headers={"x-api-key": self._key()})
        if not isinstance(data, dict):
            raise VendorUnavailable(VENDOR, operation, "RevCent sent an answer that is not a JSON object.",
                                    status=response.status_code, hint="Try again; if it persists, report it.")
        # RevCent signals errors with code 0 in the body, whatever the HTTP status.
        if data.get("code") != 1 or response.status_code >= 400:
            # RevCent may quote a rejected key back, in any field of its answer; it must not reach the chat.
            def clean(value: Any) -> str | None:
                return None if value is None else scrub(str(value), [self._key()])

            raise VendorError(
                VENDOR, operation, clean(data.get("message") or data.get("result") or "RevCent reported an error."),
                status=response.status_code, error_code=clean(data.get("error_code")),
                api_call_id=clean(data.get("api_call_id")),
            )
        return data

    def _read(self, model: type[M], data: dict[str, Any], operation: str, *, hint: str | None = None) -> M:
        return vendor_record(model, data, VENDOR, operation, hint=hint)

    async def list_site_integrations(self, *, limit: int, page: int) -> SiteIntegrationList:
        operation = "GetSiteThirdPartyIntegrations"
        data = await self._request(operation, "GET", "site_third_party_integrations",
                                   params={"limit": limit, "page": page})
        return self._read(SiteIntegrationList, data, operation)

    async def get_site_integration(self, site_id: str) -> SiteIntegration:
        operation = "GetSiteThirdPartyIntegration"
        data = await self._request(operation, "GET", f"site_third_party_integrations/{site_id}")
        return self._read(SiteIntegration, data, operation)

    async def create_secure_form(self, site_id: str) -> NewSecureForm:
        operation = "CreateSecureForm"
        data = await self._request(operation, "POST", "secure_forms",
                                   body={"form_source": "third_party_integration", "form_source_id": site_id})
        return self._read(NewSecureForm, data, operation)

    async def get_secure_form(self, form_id: str) -> SecureFormRecord:
        operation = "GetSecureForm"
        data = await self._request(operation, "GET", f"secure_forms/{form_id}")
        return self._read(SecureFormRecord, {"id": form_id, **data}, operation)  # the id asked for, if none given

    async def list_user_integrations(self, *, limit: int, page: int) -> UserIntegrationList:
        operation = "GetUserThirdPartyIntegrations"
        data = await self._request(operation, "GET", "user_third_party_integrations",
                                   params={"limit": limit, "page": page})
        return self._read(UserIntegrationList, data, operation)

    async def all_user_integrations(self) -> list[UserIntegrationSummary]:
        """Every page of the account's integrations (used for the unique-name check). Stops at a short page, at a
        page that repeats one already seen (a vendor ignoring `page`), or after MAX_PAGES."""
        results: list[UserIntegrationSummary] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            batch = (await self.list_user_integrations(limit=PAGE_SIZE_MAX, page=page)).results
            ids = {row.id for row in batch}
            if ids and ids <= seen:
                break
            seen |= ids
            results += batch
            if len(batch) < PAGE_SIZE_MAX:
                break
        return results

    async def create_user_integration(self, body: dict[str, Any]) -> Created:
        operation = "CreateUserThirdPartyIntegration"
        data = await self._request(operation, "POST", "user_third_party_integrations", body=body)
        return self._read(Created, data, operation,
                          hint="It may have been created all the same: list the integrations before trying again.")

    async def get_user_integration(self, integration_id: str) -> UserIntegration:
        operation = "GetUserThirdPartyIntegration"
        data = await self._request(operation, "GET", f"user_third_party_integrations/{integration_id}")
        return self._read(UserIntegration, data, operation)

    async def edit_user_integration(self, integration_id: str, body: dict[str, Any]) -> None:
        # The answer only echoes the id; the write is verified by reading the record back.
        await self._request("EditUserThirdPartyIntegration", "POST",
                            f"user_third_party_integrations/{integration_id}", body=body)
