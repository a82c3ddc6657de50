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
from integrations_mcp.vendors.revcent.facts import (
    AUTH_HEADER,
    CODE_KEY,
    CODE_OK,
    CREDENTIAL_FIELDS,
    CREDENTIALS_KEY,
    ENVELOPE_KEYS,
    ERROR_KEYS,
    FORM_ID_KEYS,
    FORM_PATH,
    FORM_SOURCE,
    FORM_SOURCE_KEYS,
    FORMS_PATH,
    LIST_KEY,
    METHOD_READ,
    METHOD_WRITE,
    OPTIONS_EDIT,
    PAGE_BASES,
    PAGE_FIRST,
    PAGE_PARAMS,
    PAGE_SIZE_MAX,
    ROW_KEYS,
    SECURE_FORM_FIELD,
    SITE_KEY,
    SITE_LIST_PATH,
    SITE_PATH,
    USER_LIST_PATH,
    USER_PATH,
    VALUE,
    Operation,
    OptionsEdit,
)
from integrations_mcp.vendors.revcent.kept_sites import kept_site
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

__all__ = ["RevCentClient", "rows_key"]

VENDOR = "RevCent"
# A vendor refusal naming one of these fields means the account's API does not take that credential path.
FIELD_SETTING = {
    SECURE_FORM_FIELD: f"This RevCent API does not take {SECURE_FORM_FIELD}: set REVCENT_CREDENTIALS_VIA=server-form "
                       f"(the server's own secure form, sent as {CREDENTIALS_KEY}) and create a new form.",
    CREDENTIALS_KEY: f"This RevCent API does not take {CREDENTIALS_KEY}: set REVCENT_CREDENTIALS_VIA=revcent-form "
                     "(RevCent's secure form) and create a new form.",
}
# The unique-name check reads at most this many pages (100 integrations) rather than the whole account: RevCent
# itself refuses a duplicate name ([C] revcent.name_unique), so the check only has to catch the likely cases early
# (and look-alike names RevCent may not compare) without 40 reads in a 1,000-integration account.
NAME_CHECK_PAGES = 4

M = TypeVar("M", bound=BaseModel)


class RevCentClient:
    """`http` carries the base URL and timeout; the key is added to each request here, the only place that
    unwraps it."""

    def __init__(self, http: HttpRequester, settings: RevCentSettings) -> None:
        self.http = http
        self._settings = settings
        self._bases: dict[str, int] = {}  # list path -> the number of its first page, once found
        # [I] revcent.options_edit: what Edit does with saved option fields it is not sent, as far as this process
        # has seen (a write's read-back shows it: writes.learn_options_edit); plans send what it needs.
        self.options_edit: OptionsEdit = OPTIONS_EDIT
        self.options_edit_seen = False  # True once a read-back showed it (else it is the fact's reading)

    def _key(self) -> str:
        return self._settings.api_key.get_secret_value()

    async def _request(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                       body: dict[str, Any] | None = None, list_key: bool = False,
                       scrub_values: Iterable[str] = ()) -> dict[str, Any]:
        response, data = await send(self.http, VENDOR, operation, method, path, url_setting="REVCENT_BASE_URL",
                                    params=params, json=body, headers={AUTH_HEADER: self._key()})
        if not isinstance(data, dict):
            raise VendorUnavailable(VENDOR, operation, "RevCent sent an answer that is not a JSON object.",
                                    status=response.status_code, hint="Try again; if it persists, report it.")
        # RevCent signals errors with code 0 in the body, whatever the HTTP status.
        if data.get(CODE_KEY) != CODE_OK or response.status_code >= 400:
            # RevCent may quote a rejected key back, in any field of its answer; it must not reach the chat.
            def clean(value: Any, *, words: bool = True) -> str | None:
                if value is None:
                    return None
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                secrets = [self._key(), *scrub_values]
                return scrub_vendor_text(text, secrets) if words else scrub(text, secrets)

            text_key, result_key, code_key, call_key = ERROR_KEYS
            message = clean(data.get(text_key) or data.get(result_key) or "RevCent reported an error.") or ""
            raise VendorError(
                VENDOR, operation, message, status=response.status_code, error_code=clean(data.get(code_key)),
                api_call_id=clean(data.get(call_key), words=False),  # random by design: known secrets only
                hint=_setting_hint(message, body),
            )
        if list_key and LIST_KEY not in data:
            # [I] fact revcent.list_key: the rows under another key are taken only if no other key could hold them;
            # a page whose rows cannot be found is refused, never read as "no integrations" (which passes name checks).
            rows = rows_key(data)
            if rows is None:
                keys = ", ".join(quoted(k, 60) for k in sorted(k for k in data if k not in ENVELOPE_KEYS)[:20])
                raise VendorUnavailable(VENDOR, operation, f"the page has no {LIST_KEY!r} key, nor one other list "
                                        f"(it has: {keys or 'none'}).", status=response.status_code,
                                        hint="The server relies on fact revcent.list_key (docs/vendor-facts.md); run "
                                             "`integrations-mcp check --vendor revcent` and report it.")
            data = {**data, LIST_KEY: data[rows]}
        return data

    async def read_raw(self, operation: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read operation's answer as RevCent sent it (for `integrations-mcp check`); errors as for every call."""
        return await self._request(operation, METHOD_READ, path, params=params)

    def _read(self, model: type[M], data: dict[str, Any], operation: str, *, hint: str | None = None) -> M:
        return vendor_record(model, data, VENDOR, operation, hint=hint)

    async def _page(self, operation: str, path: str, limit: int, page: int) -> dict[str, Any]:
        """Page `page` (1 = the first) of a list, numbered as this account numbers them ([I] revcent.paging)."""
        base = await self.page_base(operation, path)
        limit_key, page_key = PAGE_PARAMS
        return await self._request(operation, METHOD_READ, path, list_key=True,
                                   params={limit_key: limit, page_key: page - 1 + base})

    async def page_base(self, operation: str, path: str) -> int:
        """The number of a list's first page, found once per list: 0 or 1 is undocumented ([I] revcent.paging),
        and assuming wrong answers a 0-based account's first page as nothing at all. Page 0 and page 1 at limit 1:
        page 0 refused, empty, or the same row as page 1 (a vendor that clamps) means 1-based; a row on page 0
        that page 1 does not repeat means 0-based. Both empty: an empty list, either way (decided later)."""
        if path in self._bases:
            return self._bases[path]
        limit_key, page_key = PAGE_PARAMS
        try:
            zero = (await self._request(operation, METHOD_READ, path, list_key=True,
                                        params={limit_key: 1, page_key: PAGE_BASES[0]})).get(LIST_KEY) or []
        except VendorUnavailable as exc:
            if exc.status is None or exc.status < 500:  # no answer, or an unreadable one: not about pages
                raise
            zero = []  # a 5xx: a 1-based API may fail on page 0
        except VendorError:
            zero = []  # RevCent refused page 0: not a page here
        one = (await self._request(operation, METHOD_READ, path, list_key=True,
                                   params={limit_key: 1, page_key: PAGE_BASES[1]})).get(LIST_KEY) or []
        if not zero and not one:
            return PAGE_FIRST
        first = _row_id(zero[0]) if zero else None
        base = PAGE_BASES[0] if first is not None and (not one or _row_id(one[0]) != first) else PAGE_BASES[1]
        self._bases[path] = base
        return base

    async def list_site_integrations(self, *, limit: int, page: int) -> SiteIntegrationList:
        operation = Operation.GET_SITES
        return self._read(SiteIntegrationList, await self._page(operation, SITE_LIST_PATH, limit, page), operation)

    async def get_site_integration(self, site_id: str) -> SiteIntegration:
        operation = Operation.GET_SITE
        data = await self._request(operation, METHOD_READ, SITE_PATH.format(id=site_id))
        return self._read(SiteIntegration, data, operation)

    async def create_secure_form(self, site_id: str) -> NewSecureForm:
        operation = Operation.CREATE_FORM
        source_key, source_id_key = FORM_SOURCE_KEYS
        data = await self._request(operation, METHOD_WRITE, FORMS_PATH,
                                   body={source_key: FORM_SOURCE, source_id_key: site_id})
        return self._read(NewSecureForm, data, operation)

    async def get_secure_form(self, form_id: str) -> SecureFormRecord:
        operation = Operation.GET_FORM
        data = await self._request(operation, METHOD_READ, FORM_PATH.format(id=form_id))
        # The id asked for, if the answer gives none.
        return self._read(SecureFormRecord, {FORM_ID_KEYS[-1]: form_id, **data}, operation)

    async def list_user_integrations(self, *, limit: int, page: int) -> UserIntegrationList:
        operation = Operation.GET_USERS
        return self._read(UserIntegrationList, await self._page(operation, USER_LIST_PATH, limit, page), operation)

    async def user_integrations_for_names(self) -> tuple[list[UserIntegrationSummary], bool]:
        """The account's integrations for the unique-name check: up to NAME_CHECK_PAGES pages, and whether that
        was all of them. The list takes no name filter (none is documented). Stops at a short page, or at a page
        that repeats one already seen (a vendor ignoring `page`)."""
        results: list[UserIntegrationSummary] = []
        seen: set[str] = set()
        for page in range(1, NAME_CHECK_PAGES + 1):
            batch = (await self.list_user_integrations(limit=PAGE_SIZE_MAX, page=page)).results
            ids = {row.id for row in batch}
            if ids and ids <= seen:
                return results, True
            seen |= ids
            results += batch
            if len(batch) < PAGE_SIZE_MAX:
                return results, True
        return results, False

    async def create_user_integration(self, body: dict[str, Any]) -> Created:
        operation = Operation.CREATE_USER
        data = await self._request(operation, METHOD_WRITE, USER_LIST_PATH, body=body,
                                   scrub_values=_credential_values(body))
        return self._read(Created, data, operation,
                          hint="It may have been created all the same: list the integrations before trying again.")

    async def get_user_integration(self, integration_id: str) -> UserIntegration:
        operation = Operation.GET_USER
        data = await self._request(operation, METHOD_READ, USER_PATH.format(id=integration_id))
        site = kept_site(data.get(SITE_KEY))  # validated once per content (kept_sites.py); invalid: validated below
        return self._read(UserIntegration, data if site is None else {**data, SITE_KEY: site}, operation)

    async def edit_user_integration(self, integration_id: str, body: dict[str, Any]) -> None:
        # The answer only echoes the id; the write is verified by reading the record back.
        await self._request(Operation.EDIT_USER, METHOD_WRITE, USER_PATH.format(id=integration_id), body=body,
                            scrub_values=_credential_values(body))


def _setting_hint(message: str, body: dict[str, Any] | None) -> str | None:
    """The setting to change when RevCent refuses a credential field this server sent."""
    for field, hint in FIELD_SETTING.items():
        if body is not None and field in body and field in message:
            return hint
    return None


def _credential_values(body: dict[str, Any]) -> list[str]:
    """The credential values a body carries (server-form path): never quoted back to the model."""
    creds = body.get(CREDENTIALS_KEY)
    fields = creds.get(CREDENTIAL_FIELDS, []) if isinstance(creds, dict) else []
    return [f[VALUE] for f in fields if isinstance(f, dict) and isinstance(f.get(VALUE), str) and f[VALUE]]


def rows_key(page: dict[str, Any]) -> str | None:
    """The one key of a list page, besides the envelope, whose value is a list of objects (or empty): where the rows
    are when they are not under `results`. None when there is no such key, or more than one."""
    lists = [k for k, v in page.items() if k not in ENVELOPE_KEYS and isinstance(v, list)
             and all(isinstance(row, dict) for row in v)]
    return lists[0] if len(lists) == 1 else None


def _row_id(row: Any) -> Any:
    return row.get(ROW_KEYS[0]) if isinstance(row, dict) else None
