"""CxEngage REST client for integrations: one `_request` that knows the vendor's dialect, then one method per call,
each returning a typed record (`records.py`)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from integrations_mcp.errors import VendorError, VendorUnavailable
from integrations_mcp.guardrails.secrets import scrub_vendor_text as scrub_text
from integrations_mcp.lazy_http import HttpRequester
from integrations_mcp.vendor_http import parse_json, send, vendor_record
from integrations_mcp.vendors.cxengage.facts import (
    AUTH_BASIC,
    AUTH_TOKEN,
    ERROR_KEY,
    ERROR_KEYS,
    ID_KEY,
    INTEGRATION_PATH,
    INTEGRATIONS_PATH,
    LIST_PAGE_KEYS,
    LIST_PAGE_PARAM,
    LIST_TOTAL_KEY,
    RESULT_KEY,
    SUCCESS_STATUSES,
    TOKEN_BODY_KEYS,
    TOKEN_KEY,
    TOKEN_TTL_SECONDS,
    TOKENS_PATH,
)
from integrations_mcp.vendors.cxengage.learned import Learned
from integrations_mcp.vendors.cxengage.records import (
    IntegrationRecord,
    IntegrationRef,
    IntegrationRow,
    ListRow,
    list_answer,
    list_rows,
)
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

if TYPE_CHECKING:
    import httpx2

__all__ = ["CxEngageClient", "Listing"]

R = TypeVar("R", bound=IntegrationRef)

VENDOR = "CxEngage"
URL_SETTING = "CXENGAGE_REGION / CXENGAGE_BASE_URL"  # the settings to check when CxEngage cannot be reached
# fact cxengage.basic_auth [I]: an account that takes tokens only refuses Basic with a 401.
BASIC_REFUSED_HINT = "If the account takes tokens only, set CXENGAGE_AUTH=token (fact cxengage.basic_auth)."
SHAPE_HINT = ("Its answer is not of the documented shape (docs/vendor-facts.md: cxengage.record, cxengage.ids, "
              "cxengage.booleans); `integrations-mcp check --vendor cxengage` shows which. Nothing was changed by "
              "reading it.")
MAX_LIST_PAGES = 200  # a paged list is read at most this many pages deep (fact cxengage.no_paging)
# List answers kept with what was read of them (`_KeptLists`): at most this many, of at most this many bytes in all.
KEPT_LISTS = 4
KEPT_LIST_BYTES = 8_000_000
KEPT_PAGES = 32  # pages made of one kept listing (`Listing.pages`; emptied when full)


@dataclass(frozen=True)
class Listing:
    """A tenant's integrations as read, and whether the answer may leave some out (fact cxengage.no_paging).
    `pages`: what a tool made of this listing, by its arguments (a page of GetCxEngageIntegrations is a function of
    the listing and the arguments alone). A listing read from one answer is kept with that answer's bytes
    (`_KeptLists`) and read again as the same object, pages included, while CxEngage sends the same bytes. Nothing
    changes `rows` or its rows."""

    rows: list[ListRow]
    complete: bool = True
    note: str = ""
    pages: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


class _KeptLists:
    """The last list answers read whole in one request (no paging keys), each kept by its exact bytes with the
    `Listing` read from them: an answer byte for byte the same as one kept is the same listing, its every row already
    checked, so it is not parsed and checked again (a team reading one tenant's list gets the same bytes until the
    list changes). A function of the bytes alone: any other answer is read as before. Bounded (KEPT_LISTS answers,
    KEPT_LIST_BYTES in all; the oldest go first)."""

    def __init__(self) -> None:
        self._kept: list[tuple[bytes, Listing]] = []

    def get(self, content: bytes) -> Listing | None:
        for kept, listing in self._kept:
            if kept == content:  # the lengths first, then the bytes
                return listing
        return None

    def keep(self, content: bytes, listing: Listing) -> None:
        if len(content) > KEPT_LIST_BYTES:
            return
        kept = [(c, i) for c, i in self._kept if c != content][-(KEPT_LISTS - 1):]
        while kept and sum(len(c) for c, _ in kept) + len(content) > KEPT_LIST_BYTES:
            kept.pop(0)
        self._kept = [*kept, (content, listing)]
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
        self._basic_header: tuple[str, str] | None = None  # (key:secret, its Basic header)
        self.learned = Learned()  # what this process learned of the account's behaviour (learned.py)
        self._lists = _KeptLists()

    def _basic(self) -> str:
        pair = f"{self._settings.api_key.get_secret_value()}:{self._settings.api_secret.get_secret_value()}"
        if self._basic_header is None or self._basic_header[0] != pair:  # encoded once, not on every request
            self._basic_header = (pair, f"{AUTH_BASIC} " + base64.b64encode(pair.encode()).decode())
        return self._basic_header[1]

    async def _authorization(self) -> str:
        if not self._settings.use_token:
            return self._basic()
        if self._token is None or self._token[1] <= time.monotonic():
            body = dict(zip(TOKEN_BODY_KEYS, (self._settings.api_key.get_secret_value(),
                                              self._settings.api_secret.get_secret_value(), TOKEN_TTL_SECONDS),
                            strict=True))
            data = await self._send("CreateToken", "POST", TOKENS_PATH, body=body, authorization=self._basic())
            token = data.get(TOKEN_KEY) if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise VendorUnavailable(VENDOR, "CreateToken", "the token answer had no token.")
            self._token = (token, time.monotonic() + TOKEN_TTL_SECONDS - 60)
        return f"{AUTH_TOKEN} {self._token[0]}"

    async def _request(self, operation: str, method: str, path: str, *, body: dict[str, Any] | None = None,
                       scrub: Iterable[str] = (), whole: bool = False, params: dict[str, str] | None = None,
                       parse: Callable[[bytes], Any] = parse_json) -> Any:
        scrub = list(scrub)
        renewable = self._settings.use_token and self._token is not None
        try:
            # `_send`'s work in this frame (every frame between a request and its caller is resumed at each wait for
            # the network), and Basic's header without a coroutine for it (`_authorization` gives the same).
            authorization = await self._authorization() if self._settings.use_token else self._basic()
            response, data = await send(self.http, VENDOR, operation, method, path, url_setting=URL_SETTING,
                                        json=body, headers={"authorization": authorization}, params=params,
                                        parse=parse)
            data = self._answer(operation, response, data, scrub)
        except VendorError as exc:
            if not (renewable and exc.status == 401):
                raise
            # A cached token the vendor no longer accepts (revoked, expired early): a 401 means nothing was done,
            # so get a new token and try once more instead of failing until the cached one runs out.
            self._token = None
            data = await self._send(operation, method, path, body=body, authorization=await self._authorization(),
                                    scrub=scrub, params=params, parse=parse)
        if not isinstance(data, dict) or RESULT_KEY not in data:
            raise VendorUnavailable(VENDOR, operation, "the answer had no result.")
        return data if whole else data[RESULT_KEY]

    async def _send(self, operation: str, method: str, path: str, *, body: dict[str, Any] | None,
                    authorization: str, scrub: Iterable[str] = (), params: dict[str, str] | None = None,
                    parse: Callable[[bytes], Any] = parse_json) -> Any:
        response, data = await send(self.http, VENDOR, operation, method, path, url_setting=URL_SETTING, json=body,
                                    headers={"authorization": authorization}, params=params, parse=parse)
        return self._answer(operation, response, data, scrub)

    def _answer(self, operation: str, response: httpx2.Response, data: Any, scrub: Iterable[str]) -> Any:
        """The JSON body of a success, else the VendorError (or VendorUnavailable) it stands for."""
        if response.status_code in SUCCESS_STATUSES and data is not None:
            return data
        if response.status_code < 400:
            raise VendorUnavailable(VENDOR, operation, "CxEngage sent an answer that is not JSON.",
                                    status=response.status_code)
        message, code = _error_text(data)
        # A vendor may quote a rejected value back (whole, trimmed or shortened); it must not reach the chat.
        own = [self._settings.api_key.get_secret_value(), self._settings.api_secret.get_secret_value(),
               self._token[0] if self._token else "", self._basic().removeprefix(f"{AUTH_BASIC} ")]
        secrets = [*scrub, *own]
        message = scrub_text(message, secrets)
        hint = STATUS_HINTS.get(response.status_code)
        if response.status_code == 401 and not self._settings.use_token:
            hint = f"{hint} {BASIC_REFUSED_HINT}"
        raise VendorError(VENDOR, operation, message or response.reason_phrase or "error", status=response.status_code,
                          error_code=scrub_text(code, secrets) if code else code, hint=hint)

    def _read_list(self, content: bytes) -> Any:
        """A list answer: the listing kept with the same bytes (`_KeptList`), else read and checked (`_read_list`)."""
        listing = self._lists.get(content)
        return _read_list(content) if listing is None else _KeptList(listing)

    async def read_raw(self, operation: str, path: str) -> Any:
        """A read's whole answer as CxEngage sent it (for `integrations-mcp check`); errors as for every call."""
        return await self._send(operation, "GET", path, body=None, authorization=await self._authorization())

    async def probe(self, operation: str, path: str) -> tuple[int, Any]:
        """A read's status and JSON body, errors included (for `integrations-mcp check`: how CxEngage answers an
        error). Nothing of it is shown but its shape."""
        response, data = await send(self.http, VENDOR, operation, "GET", path, url_setting=URL_SETTING,
                                    headers={"authorization": await self._authorization()})
        return response.status_code, data

    async def list_integrations(self, tenant_id: str) -> list[ListRow]:
        return (await self.list_all(tenant_id)).rows

    async def list_all(self, tenant_id: str) -> Listing:
        """Every integration of the tenant. The list is one array (fact cxengage.no_paging); if the answer carries
        paging keys beside it, the following pages are read while a total says rows are missing, and whatever
        cannot be read is said (`complete` False), never shown as the whole list."""
        operation, path = "GetIntegrations", INTEGRATIONS_PATH.format(tenant=tenant_id)
        data = await self._request(operation, "GET", path, whole=True, parse=self._read_list)
        if isinstance(data, _KeptList):
            return data.listing
        rows = _rows(operation, data)
        paging = sorted(k for k in data if k.lower() in LIST_PAGE_KEYS)
        if not paging:
            listing = Listing(rows)
            if isinstance(data, _CheckedList) and data.content is not None:
                self._lists.keep(data.content, listing)
            return listing
        total = data.get(LIST_TOTAL_KEY)
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            return Listing(rows, False, f"CxEngage's answer carries paging keys ({', '.join(paging)}) but no total: "
                                        "the list may be incomplete.")
        rows, seen, page = list(rows), {row["id"] for row in rows}, 1
        while len(seen) < total and page < MAX_LIST_PAGES:
            page += 1
            more = _rows(operation, await self._request(operation, "GET", path, whole=True, parse=_read_list,
                                                        params={LIST_PAGE_PARAM: str(page)}))
            new = [row for row in more if row["id"] not in seen]
            if not new:
                break
            rows += new
            seen.update(row["id"] for row in new)
        if len(seen) < total:
            return Listing(rows, False, f"CxEngage reports {total} integrations but answered {len(seen)} (its pages "
                                        "could not be read further): the list may be incomplete.")
        return Listing(rows)

    async def get_integration(self, tenant_id: str, integration_id: str) -> IntegrationRecord:
        return _record(IntegrationRecord, "GetIntegration", await self._request(
            "GetIntegration", "GET", INTEGRATION_PATH.format(tenant=tenant_id, integration=integration_id)))

    async def create_integration(self, tenant_id: str, body: dict[str, Any], *, scrub: Iterable[str] = ()
                                 ) -> IntegrationRef:
        return _record(IntegrationRef, "CreateIntegration", await self._request(
            "CreateIntegration", "POST", INTEGRATIONS_PATH.format(tenant=tenant_id), body=body, scrub=scrub),
            hint="It may have been created all the same: list the integrations before trying again.")

    async def update_integration(self, tenant_id: str, integration_id: str, body: dict[str, Any], *,
                                 scrub: Iterable[str] = ()) -> None:
        # The answer is not used (the tools read the integration back), so its shape is not checked.
        await self._request("UpdateIntegration", "PUT",
                            INTEGRATION_PATH.format(tenant=tenant_id, integration=integration_id), body=body,
                            scrub=scrub)


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get(ID_KEY), str)


class _CheckedList(dict[str, Any]):
    """A list answer whose rows are checked already (`_read_list`), with the bytes it was read from."""

    content: bytes | None = None


class _KeptList(dict[str, Any]):
    """A list answer byte for byte the same as one kept (`_KeptLists`): `listing` is what was read of it."""

    def __init__(self, listing: Listing) -> None:
        super().__init__({RESULT_KEY: listing.rows})
        self.listing = listing


def _read_list(content: bytes) -> Any:
    """A list answer read and checked in one pass (`list_answer`: 1,000 rows in about half the time of json.loads and
    the checks after it); any other answer (an error, another shape) as json.loads reads it (`parse_json`), for the
    usual checks and their messages."""
    try:
        answer = list_answer().validate_json(content)
    except ValidationError:
        return parse_json(content)
    checked = _CheckedList(answer)
    checked.content = content
    return checked


def _rows(operation: str, data: dict[str, Any]) -> list[ListRow]:
    if isinstance(data, _CheckedList):
        return data[RESULT_KEY]
    result = data.get(RESULT_KEY)
    if not isinstance(result, list) or not all(_is_record(item) for item in result):
        raise VendorUnavailable(VENDOR, operation, "the answer was not a list of integrations.")
    try:
        return list_rows().validate_python(result)
    except ValidationError:  # the first row that fails, named as one read alone would be
        for item in result:
            vendor_record(IntegrationRow, item, VENDOR, operation, hint=SHAPE_HINT)
        raise VendorUnavailable(VENDOR, operation, "the answer was not a list of integrations.") from None


def _record(model: type[R], operation: str, result: Any, hint: str | None = None) -> R:
    """An integration as `model`, or VendorUnavailable: a malformed answer must not reach the tools as data."""
    if not _is_record(result):
        raise VendorUnavailable(VENDOR, operation, "the answer was not an integration.", hint=hint)
    return vendor_record(model, result, VENDOR, operation, hint=hint or SHAPE_HINT)


def _error_text(data: Any) -> tuple[str, str | None]:
    """CxEngage errors: {"error": {"code", "message", "attribute"}}, or error as a string or a list of strings."""
    error = data.get(ERROR_KEY) if isinstance(data, dict) else None
    code_key, message_key, attribute_key = ERROR_KEYS
    if isinstance(error, dict):
        message = str(error.get(message_key) or "")
        attribute = error.get(attribute_key)
        if isinstance(attribute, dict) and attribute:
            details = "; ".join(f"{k}: {_shown(v)}" for k, v in attribute.items())
            message = f"{message} ({details})" if message else details
        code = error.get(code_key)
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
