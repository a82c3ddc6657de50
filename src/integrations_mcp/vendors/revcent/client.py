"""RevCent API v2 client: one `_request` that knows the vendor's dialect, then one method per operation, each
returning RevCent's record as a model (`records.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from integrations_mcp.errors import VendorError, VendorUnavailable, quoted
from integrations_mcp.guardrails.secrets import scrub, scrub_vendor_text
from integrations_mcp.lazy_http import HttpRequester
from integrations_mcp.vendor_http import send, vendor_record
from integrations_mcp.vendors.revcent.facts import LIST_KEY, PAGE_FIRST, SITE_LIST_PATH, SITE_PATH, USER_LIST_PATH
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
# A vendor refusal naming one of these fields means the account's API does not take that credential path.
FIELD_SETTING = {
    "secure_form_id": "This RevCent API does not take secure_form_id: set REVCENT_CREDENTIALS_VIA=server-form (the "
                      "server's own secure form, sent as third_party_credentials) and create a new form.",
    "third_party_credentials": "This RevCent API does not take third_party_credentials: set "
                               "REVCENT_CREDENTIALS_VIA=revcent-form (RevCent's secure form) and create a new form.",
}
MAX_PAGES = 400  # 10,000 integrations: far beyond any account, short of looping forever on a vendor fault

M = TypeVar("M", bound=BaseModel)


class RevCentClient:
    """`http` carries the base URL and timeout; the key is added to each request here, the only place that
    unwraps it."""

    def __init__(self, http: HttpRequester, settings: RevCentSettings) -> None:
        self.http = http
        self._settings = settings

    def _key(self) -> str:
        return self._settings.api_key.get_secret_value()

    async def _request(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                       body: dict[str, Any] | None = None, list_key: bool = False,
                       scrub_values: Iterable[str] = ()) -> dict[str, Any]:
        response, data = await send(self.http, VENDOR, operation, method, path, url_setting="REVCENT_BASE_URL",
                                    params=params, json=body, headers={"x-api-key": self._key()})
        if not isinstance(data, dict):
            raise VendorUnavailable(VENDOR, operation, "RevCent sent an answer that is not a JSON object.",
                                    status=response.status_code, hint="Try again; if it persists, report it.")
        # RevCent signals errors with code 0 in the body, whatever the HTTP status.
        if data.get("code") != 1 or response.status_code >= 400:
            # RevCent may quote a rejected key back, in any field of its answer; it must not reach the chat.
            def clean(value: Any, *, words: bool = True) -> str | None:
                if value is None:
                    return None
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                secrets = [self._key(), *scrub_values]
                return scrub_vendor_text(text, secrets) if words else scrub(text, secrets)

            message = clean(data.get("message") or data.get("result") or "RevCent reported an error.") or ""
            raise VendorError(
                VENDOR, operation, message, status=response.status_code, error_code=clean(data.get("error_code")),
                api_call_id=clean(data.get("api_call_id"), words=False),  # random by design: known secrets only
                hint=_setting_hint(message, body),
            )
        if list_key and LIST_KEY not in data:
            # [I] fact revcent.list_key: a page without it would read as "no integrations" (and pass name checks).
            keys = ", ".join(quoted(k, 60) for k in sorted(k for k in data if k not in
                                                           ("api_call_id", "api_call_unix", "code"))[:20])
            raise VendorUnavailable(VENDOR, operation, f"the page has no {LIST_KEY!r} key (it has: {keys or 'none'}).",
                                    status=response.status_code,
                                    hint="The server relies on fact revcent.list_key (docs/vendor-facts.md); run "
                                         "`integrations-mcp check --vendor revcent` and report it.")
        return data

    async def read_raw(self, operation: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read operation's answer as RevCent sent it (for `integrations-mcp check`); errors as for every call."""
        return await self._request(operation, "GET", path, params=params)

    def _read(self, model: type[M], data: dict[str, Any], operation: str, *, hint: str | None = None) -> M:
        return vendor_record(model, data, VENDOR, operation, hint=hint)

    async def list_site_integrations(self, *, limit: int, page: int) -> SiteIntegrationList:
        operation = "GetSiteThirdPartyIntegrations"
        data = await self._request(operation, "GET", SITE_LIST_PATH, list_key=True,
                                   params={"limit": limit, "page": page - 1 + PAGE_FIRST})
        return self._read(SiteIntegrationList, data, operation)

    async def get_site_integration(self, site_id: str) -> SiteIntegration:
        operation = "GetSiteThirdPartyIntegration"
        data = await self._request(operation, "GET", SITE_PATH.format(id=site_id))
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
        data = await self._request(operation, "GET", USER_LIST_PATH, list_key=True,
                                   params={"limit": limit, "page": page - 1 + PAGE_FIRST})
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
        data = await self._request(operation, "POST", "user_third_party_integrations", body=body,
                                   scrub_values=_credential_values(body))
        return self._read(Created, data, operation,
                          hint="It may have been created all the same: list the integrations before trying again.")

    async def get_user_integration(self, integration_id: str) -> UserIntegration:
        operation = "GetUserThirdPartyIntegration"
        data = await self._request(operation, "GET", f"user_third_party_integrations/{integration_id}")
        return self._read(UserIntegration, data, operation)

    async def edit_user_integration(self, integration_id: str, body: dict[str, Any]) -> None:
        # The answer only echoes the id; the write is verified by reading the record back.
        await self._request("EditUserThirdPartyIntegration", "POST",
                            f"user_third_party_integrations/{integration_id}", body=body,
                            scrub_values=_credential_values(body))


def _setting_hint(message: str, body: dict[str, Any] | None) -> str | None:
    """The setting to change when RevCent refuses a credential field this server sent."""
    for field, hint in FIELD_SETTING.items():
        if body is not None and field in body and field in message:
            return hint
    return None


def _credential_values(body: dict[str, Any]) -> list[str]:
    """The credential values a body carries (server-form path): never quoted back to the model."""
    creds = body.get("third_party_credentials")
    fields = creds.get("fields", []) if isinstance(creds, dict) else []
    return [f["value"] for f in fields if isinstance(f, dict) and isinstance(f.get("value"), str) and f["value"]]
