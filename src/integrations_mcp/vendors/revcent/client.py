"""RevCent API v2 client: one `_request` that knows the vendor's dialect, then one method per operation."""

from __future__ import annotations

from typing import Any

import httpx2

from integrations_mcp.errors import VendorError, VendorUnavailable
from integrations_mcp.guardrails.secrets import scrub
from integrations_mcp.vendor_http import send
from integrations_mcp.vendors.revcent.settings import RevCentSettings

__all__ = ["RevCentClient"]

VENDOR = "RevCent"
PAGE_SIZE_MAX = 25  # RevCent list operations take limit 1..25
MAX_PAGES = 400  # 10,000 integrations: far beyond any account, short of looping forever on a vendor fault


class RevCentClient:
    """`http` carries the base URL and timeout; the key is added to each request here, the only place that
    unwraps it."""

    def __init__(self, http: httpx2.AsyncClient, settings: RevCentSettings) -> None:
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
            raise VendorError(
                VENDOR, operation,
                # RevCent may quote a rejected key back in an error message; it must not reach the chat.
                scrub(str(data.get("message") or data.get("result") or "RevCent reported an error."), [self._key()]),
                status=response.status_code, error_code=_str_or_none(data.get("error_code")),
                api_call_id=_str_or_none(data.get("api_call_id")),
            )
        return data

    async def list_site_integrations(self, *, limit: int, page: int) -> dict[str, Any]:
        return await self._request("GetSiteThirdPartyIntegrations", "GET", "site_third_party_integrations",
                                   params={"limit": limit, "page": page})

    async def get_site_integration(self, site_id: str) -> dict[str, Any]:
        return await self._request("GetSiteThirdPartyIntegration", "GET", f"site_third_party_integrations/{site_id}")

    async def create_secure_form(self, site_id: str) -> dict[str, Any]:
        return await self._request("CreateSecureForm", "POST", "secure_forms",
                                   body={"form_source": "third_party_integration", "form_source_id": site_id})

    async def get_secure_form(self, form_id: str) -> dict[str, Any]:
        return await self._request("GetSecureForm", "GET", f"secure_forms/{form_id}")

    async def list_user_integrations(self, *, limit: int, page: int) -> dict[str, Any]:
        return await self._request("GetUserThirdPartyIntegrations", "GET", "user_third_party_integrations",
                                   params={"limit": limit, "page": page})

    async def all_user_integrations(self) -> list[dict[str, Any]]:
        """Every page of the account's integrations (used for the unique-name check). Stops at a short page, at a
        page that repeats one already seen (a vendor ignoring `page`), or after MAX_PAGES."""
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            data = await self.list_user_integrations(limit=PAGE_SIZE_MAX, page=page)
            batch = [item for item in data.get("results") or [] if isinstance(item, dict)]
            ids = {str(item.get("id")) for item in batch}
            if ids and ids <= seen:
                break
            seen |= ids
            results += batch
            if len(batch) < PAGE_SIZE_MAX:
                break
        return results

    async def create_user_integration(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request("CreateUserThirdPartyIntegration", "POST", "user_third_party_integrations",
                                   body=body)

    async def get_user_integration(self, integration_id: str) -> dict[str, Any]:
        return await self._request("GetUserThirdPartyIntegration", "GET",
                                   f"user_third_party_integrations/{integration_id}")

    async def edit_user_integration(self, integration_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request("EditUserThirdPartyIntegration", "POST",
                                   f"user_third_party_integrations/{integration_id}", body=body)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
