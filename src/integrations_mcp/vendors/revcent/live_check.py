"""`integrations-mcp check --vendor revcent`: the read operations against the configured API, compared with the facts
the server relies on (`facts.py`). Reads only; a finding names keys, counts, types and ids, never a value.

It detects every emulator `Contract` setting a read can reveal: the list key, the first page's number, the id
alphabet, the select settings' spelling, booleans as strings, masked secret options, and secure forms that do not say
what they are for. What only a write reveals (secure_form_id taken, what Edit does with unsent option fields, the
CreateSecureForm id key) is listed as such: the server learns the options edit from its first write's read-back."""

from __future__ import annotations

from typing import Any

import httpx2

from integrations_mcp.errors import VendorError
from integrations_mcp.vendors.base import Finding
from integrations_mcp.vendors.revcent.client import RevCentClient, rows_key
from integrations_mcp.vendors.revcent.facts import (
    ASSET_KEYS,
    CODE_KEY,
    CODE_OK,
    ENVELOPE_KEYS,
    FACTS,
    FORM_PATH,
    FORM_SOURCE_KEYS,
    LIST_KEY,
    MULTIPLE_KEYS,
    PAGE_FIRST,
    PAGE_SIZE_MAX,
    SITE_LIST_PATH,
    SITE_PATH,
    USER_LIST_PATH,
    USER_PATH,
    Operation,
)
from integrations_mcp.vendors.revcent.settings import RevCentSettings
from integrations_mcp.vendors.revcent.views import is_secret_option, looks_masked

__all__ = ["check"]

# Facts a read cannot show, and why.
WRITES_ONLY = {
    "revcent.create_edit_bodies": "it concerns writes; check never writes",
    "revcent.edit_partial": "it concerns writes; check never writes",
    "revcent.created_id": "it concerns writes; check never writes",
    "revcent.name_unique": "it concerns writes; check never writes",
    "revcent.form_source": "creating a form is a write",
    "revcent.secure_form_id": "it concerns writes; with REVCENT_CREDENTIALS_VIA=revcent-form a refusal naming "
                              "secure_form_id settles it",
    "revcent.form_id_key": "creating a form is a write; the server reads either key",
    "revcent.options_edit": "it concerns writes; the server learns it from its first options edit's read-back",
    "revcent.option_required": "no read tells what RevCent means by it",
}


def _keys(data: dict[str, Any]) -> str:
    return ", ".join(sorted(set(data) - set(ENVELOPE_KEYS))) or "none"


def _booleans(value: Any, path: str = "") -> dict[str, str]:
    """Every boolean-named field (enabled, required, multiple, ...) found: path -> the JSON type it came as."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("enabled", "required", "completed", *ASSET_KEYS, *MULTIPLE_KEYS) and not isinstance(item, dict):
                found[f"{path}{key}"] = type(item).__name__
            else:
                found |= _booleans(item, f"{path}{key}.")
    elif isinstance(value, list):
        for item in value:
            found |= _booleans(item, path)
    return found


class _Check:
    def __init__(self, api: RevCentClient, secure_form_id: str | None) -> None:
        self.api, self.secure_form_id = api, secure_form_id
        self.found: dict[str, Finding] = {}
        self.ids: list[str] = []
        self.bools: dict[str, str] = {}

    def note(self, fact: str, held: bool, detail: str) -> None:
        self.found.setdefault(fact, Finding(fact, "held" if held else "failed", detail))

    def rows(self, data: dict[str, Any]) -> list[Any] | None:
        key = LIST_KEY if LIST_KEY in data else rows_key(data)
        elsewhere = f"; the rows are under {key!r}" if key not in (LIST_KEY, None) else ""
        self.note("revcent.list_key", key == LIST_KEY, f"page keys: {_keys(data)}{elsewhere}")
        rows = data.get(key) if key else None
        self.bools |= _booleans(rows)
        return rows if isinstance(rows, list) else None

    async def first_page(self, operation: Operation, path: str, what: str) -> dict[str, Any]:
        """The list's first page, found as the client finds it ([I] revcent.paging: 0 or 1)."""
        base = await self.api.page_base(operation, path)
        data = await self.api.read_raw(operation, path, {"limit": PAGE_SIZE_MAX, "page": base})
        if data.get(LIST_KEY, data.get(rows_key(data) or LIST_KEY)):  # rows to tell the pages apart
            self.note("revcent.paging", base == PAGE_FIRST, f"{what}: the first page is page {base}")
        self.note("revcent.page_size", True, f"limit {PAGE_SIZE_MAX} answered")
        return data

    async def sites(self) -> None:
        data = await self.first_page(Operation.GET_SITES, SITE_LIST_PATH, "site integrations")
        self.note("revcent.auth", True, "the key was accepted (x-api-key)")
        self.note("revcent.envelope", data.get(CODE_KEY) == CODE_OK, f"code {data.get(CODE_KEY)!r}")
        self.note("revcent.methods", True, "GET answered")
        self.note("revcent.operations", True, "the read operations answered at their paths")
        rows = self.rows(data) or []
        self.note("revcent.site_paths", True, f"GET /{SITE_LIST_PATH} answered")
        site_ids = [r.get("id") for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)]
        self.ids += site_ids
        self.selects(rows)
        if site_ids:
            site = await self.api.read_raw(Operation.GET_SITE, SITE_PATH.format(id=site_ids[0]))
            self.note("revcent.site_paths", site.get("id") == site_ids[0], f"GET /{SITE_PATH} answered for "
                                                                           f"{site_ids[0]}")

    def selects(self, sites: list[Any]) -> None:
        spellings = set()
        for site in sites:
            for option in (site.get("third_party_options") or []) if isinstance(site, dict) else []:
                for field in option.get("fields") or [] if isinstance(option, dict) else []:
                    settings = field.get("select_settings") if isinstance(field, dict) else None
                    if isinstance(settings, dict):
                        spellings |= {k for k in settings if k in (*ASSET_KEYS, *MULTIPLE_KEYS)}
        if spellings:
            self.note("revcent.select_names", spellings <= {*ASSET_KEYS, *MULTIPLE_KEYS},
                      f"select settings spelled {', '.join(sorted(spellings))} (both spellings are read)")

    async def users(self) -> None:
        first = await self.first_page(Operation.GET_USERS, USER_LIST_PATH, "user integrations")
        self.note("revcent.user_list_path", True, f"GET /{USER_LIST_PATH} answered")
        rows = self.rows(first)
        if rows is None:
            for fact in ("revcent.user_integration_paths", "revcent.credentials_not_echoed", "revcent.list_rows"):
                self.found[fact] = Finding(fact, "not checked", f"the list's rows are not under {LIST_KEY!r}")
            return
        if not rows:
            return
        shaped = all(isinstance(r, dict) and "id" in r and "name" in r for r in rows)
        self.note("revcent.list_rows", shaped, f"row keys: {', '.join(sorted(rows[0])) if shaped else 'not id/name'}")
        user_ids = [r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)]
        self.ids += user_ids
        secrets: list[str] = []
        for uid in user_ids[:5]:  # enough to see how secrets read, without reading the whole account
            record = await self.api.read_raw(Operation.GET_USER, USER_PATH.format(id=uid))
            self.note("revcent.user_integration_paths", record.get("id") == uid,
                      f"GET /{USER_PATH} answered for {uid}")
            self.note("revcent.record_shape", isinstance(record.get("site_third_party_integration"), dict),
                      f"record keys: {_keys(record)}")
            leaked = [k for k in record if "credential" in k and k != "third_party_credentials_saved"]
            self.note("revcent.credentials_not_echoed", not leaked,
                      f"credential keys besides third_party_credentials_saved: {', '.join(leaked) or 'none'}")
            self.bools |= _booleans(record)
            self.selects([record.get("site_third_party_integration")])
            for option in record.get("third_party_options_saved") or []:
                for field in option.get("fields") or []:
                    if is_secret_option(option.get("id", ""), field.get("id", "")) and field.get("value"):
                        masked = all(isinstance(v, str) and looks_masked(v) for v in field["value"])
                        secrets.append("masked" if masked else "shown")
        if secrets:
            self.note("revcent.secret_options", "masked" not in secrets,
                      f"secret option values read: {', '.join(sorted(set(secrets)))} (values never printed)")

    async def form(self) -> None:
        if not self.secure_form_id:
            return
        form = await self.api.read_raw(Operation.GET_FORM, FORM_PATH.format(id=self.secure_form_id))
        self.note("revcent.form_paths", True, f"GET /{FORM_PATH} answered")
        self.bools |= _booleans(form)
        missing = [k for k in (FORM_SOURCE_KEYS[1], "expiration_date_unix") if k not in form]
        self.note("revcent.form_source_id", not missing,
                  f"GetSecureForm keys: {_keys(form)}" + (f"; missing {', '.join(missing)}" if missing else ""))

    def summary(self) -> None:
        if self.ids:
            odd = sorted({c for i in self.ids for c in i if not c.isalnum()})
            lengths = sorted({len(i) for i in self.ids})
            self.note("revcent.id_length", lengths == [20], f"id lengths seen: {lengths}")
            self.note("revcent.id_charset", not odd, f"{len(self.ids)} ids read; characters besides letters and "
                                                     f"digits: {' '.join(odd) or 'none'} (the server takes _ and -)")
        if self.bools:
            kinds = sorted(set(self.bools.values()))
            self.note("revcent.booleans", kinds == ["bool"], f"booleans came as: {', '.join(kinds)}")


async def check(settings: RevCentSettings, transport: httpx2.AsyncBaseTransport | None = None, *,
                secure_form_id: str | None = None, timeout: float = 20.0, **_: Any) -> list[Finding]:
    async with httpx2.AsyncClient(base_url=settings.base_url + "/", timeout=timeout, transport=transport,
                                  headers={"accept": "application/json"}) as http:
        run = _Check(RevCentClient(http, settings), secure_form_id)
        for step in (run.sites, run.users, run.form):
            try:
                await step()
            except VendorError as exc:
                run.found.setdefault(f"error.{step.__name__}", Finding(f"{step.__name__} read", "failed", str(exc)))
        run.summary()
    reasons = {**WRITES_ONLY, "revcent.paging": "no rows to compare pages with",
               "revcent.user_integration_paths": "no integration in the account to read",
               "revcent.credentials_not_echoed": "no integration in the account to read",
               "revcent.record_shape": "no integration in the account to read",
               "revcent.list_rows": "no integration in the account to read",
               "revcent.secret_options": "no secret option value shown (left out by RevCent, or none set)",
               "revcent.form_source_id": "give --secure-form-id of a form to read one",
               "revcent.form_paths": "give --secure-form-id of a form to read one"}
    findings = [run.found.get(f.id) or Finding(f.id, "not checked", reasons.get(f.id, "a read failed before it"))
                for f in FACTS]
    return findings + [v for k, v in run.found.items() if k.startswith("error.")]
