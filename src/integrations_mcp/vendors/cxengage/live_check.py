"""`integrations-mcp check --vendor cxengage`: the read operations against the configured tenant, compared with the
facts the server relies on (`facts.py`). Reads only; a finding names keys, counts and ids, never a value.

Every emulator switch a read can reveal is detected here: booleans as strings, secrets masked or left out, a paged
or capped list. What only a write shows (PUT replacing `properties`, the API enforcing the UI's rules) is said to be
learned by the first write's read-back instead."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx2

from integrations_mcp.errors import VendorError
from integrations_mcp.pipeline.changes import is_set
from integrations_mcp.vendors.base import Finding
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS, TYPES, UI_INITIAL_PROPERTIES, normalise_type
from integrations_mcp.vendors.cxengage.client import CxEngageClient
from integrations_mcp.vendors.cxengage.facts import (
    ACTIVE_KEY,
    ERROR_KEY,
    ERROR_KEYS,
    FACTS,
    ID_KEY,
    ID_RE,
    INTEGRATION_PATH,
    INTEGRATIONS_PATH,
    LIST_PAGE_KEYS,
    LIST_PAGE_PARAM,
    LIST_TOTAL_KEY,
    PROPERTIES_KEY,
    RESULT_KEY,
    TENANT_KEY,
    TYPE_KEY,
)
from integrations_mcp.vendors.cxengage.learned import looks_masked
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

__all__ = ["check"]

WRITES_ONLY = {
    "cxengage.flat_body": "it concerns writes; check never writes",
    "cxengage.create_inactive_empty": "it concerns writes; check never writes",
    "cxengage.properties_merge": "only a write shows it: the first edit's read-back detects a replacing PUT, and "
                                 "the server then sends the whole set for the rest of the process",
    "cxengage.ui_rules": "only a write shows it: a refused inactive create names the fields CxEngage requires",
    "cxengage.error_body": "no error was answered",
    "cxengage.create_status": "only a write (a create) shows it, and the server takes 200 or 201",
}
ABSENT_ID = "00000000-0000-4000-8000-000000000000"  # a well-formed integration id no tenant holds


class _Check:
    def __init__(self, api: CxEngageClient, basic: CxEngageClient, tenant_id: str, *, uses_token: bool) -> None:
        self.api, self.basic, self.tenant_id, self.api_uses_token = api, basic, tenant_id, uses_token
        self.found: dict[str, Finding] = {}

    def note(self, fact: str, held: bool, detail: str) -> None:
        self.found.setdefault(fact, Finding(fact, "held" if held else "failed", detail))

    async def integrations(self) -> None:
        path = INTEGRATIONS_PATH.format(tenant=self.tenant_id)
        data = await self.api.read_raw("ListIntegrations", path)
        if self.api_uses_token:
            self.note("cxengage.token_auth", True, "a token was issued and accepted")
            await self._basic(path)
        else:
            self.note("cxengage.basic_auth", True, "the key and secret were accepted as Basic auth")
        await self._error_shape()
        rows = data.get(RESULT_KEY) if isinstance(data, dict) else None
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        self.note("cxengage.result_envelope", isinstance(rows, list), f"answer keys: {keys}")
        if not isinstance(rows, list):
            return
        rows = [r for r in rows if isinstance(r, dict)]
        await self._paging(data, rows, path)
        if not rows:
            return
        self._rows(rows)
        first = rows[0]
        one = await self.api.read_raw("GetIntegration", INTEGRATION_PATH.format(tenant=self.tenant_id,
                                                                                 integration=first.get(ID_KEY)))
        record = one.get(RESULT_KEY) if isinstance(one, dict) else None
        self.note("cxengage.paths", isinstance(record, dict) and record.get(ID_KEY) == first.get(ID_KEY),
                  f"GET .../integrations/{{id}} answered for {first.get(ID_KEY)}")
        if isinstance(record, dict):
            missing = [k for k in (ID_KEY, TENANT_KEY, TYPE_KEY, ACTIVE_KEY, PROPERTIES_KEY) if k not in record]
            self.note("cxengage.record", not missing, f"keys missing from a record: {', '.join(missing) or 'none'}")
        self._secrets(rows)

    async def _basic(self, path: str) -> None:
        """With CXENGAGE_AUTH=token, whether the account would take Basic auth too (Contract.auth_schemes)."""
        try:
            await self.basic.read_raw("ListIntegrations", path)
        except VendorError as exc:
            if exc.status == 401:
                self.note("cxengage.basic_auth", False, "Basic auth was refused (401) where a token works: keep "
                                                        "CXENGAGE_AUTH=token")
                return
            raise
        self.note("cxengage.basic_auth", True, "Basic auth works too")

    async def _error_shape(self) -> None:
        """How CxEngage answers an error (Contract.error_shape): a read of an integration id that no tenant has."""
        status, data = await self.api.probe("GetIntegration", INTEGRATION_PATH.format(tenant=self.tenant_id,
                                                                                       integration=ABSENT_ID))
        error = data.get(ERROR_KEY) if isinstance(data, dict) else None
        shape = ("object" if isinstance(error, dict) and set(error) & set(ERROR_KEYS) else "string"
                 if isinstance(error, str) else "list of strings" if isinstance(error, list) else "unknown")
        if status < 400:
            return
        self.note("cxengage.error_body", shape == "object",
                  f"an unknown id answered {status} with error as {shape} (the server reads every form)")

    async def _paging(self, data: dict[str, Any], rows: list[dict[str, Any]], path: str) -> None:
        """Contract.list_paging: none, paged (?page=2 answers other rows) or capped (a total, and no way on)."""
        paging = sorted(k for k in data if k.lower() in LIST_PAGE_KEYS)
        if not paging:
            self.note("cxengage.no_paging", True, f"one array of {len(rows)} rows, no paging keys beside result")
            return
        total = data.get(LIST_TOTAL_KEY)
        second = await self.api.read_raw("ListIntegrations", path + f"?{LIST_PAGE_PARAM}=2")
        more = second.get(RESULT_KEY) if isinstance(second, dict) else None
        ids = {r.get(ID_KEY) for r in rows}
        new = [r for r in more or [] if isinstance(r, dict) and r.get(ID_KEY) not in ids]
        how = ("paged: ?page=2 answers further rows, which the server reads" if new else
               "capped: ?page=2 answers no further rows; the server says the list may be incomplete"
               if isinstance(total, int) and total > len(rows) else "paging keys, one page")
        self.note("cxengage.no_paging", False, f"paging keys beside result: {', '.join(paging)}; total {total!r}, "
                                               f"{len(rows)} rows; {how}")

    def _rows(self, rows: list[dict[str, Any]]) -> None:
        types = sorted({str(r.get(TYPE_KEY)) for r in rows})
        self.note("cxengage.type_names", all(t == t.lower() or t in TYPES for t in types), f"types: {', '.join(types)}")
        bad_ids = sum(not (isinstance(r.get(ID_KEY), str) and ID_RE.fullmatch(r[ID_KEY])) for r in rows)
        self.note("cxengage.ids", not bad_ids, f"{bad_ids} of {len(rows)} ids are not UUIDs")
        kinds = {type(r.get(ACTIVE_KEY)).__name__ for r in rows}
        strings = sum(isinstance(r.get(ACTIVE_KEY), str) for r in rows)
        self.note("cxengage.booleans", kinds == {"bool"},
                  f"active read as: {', '.join(sorted(kinds))}" + (
                      f" ({strings} rows answer a string: the server reads \"true\"/\"false\" and refuses anything "
                      "else)" if strings else ""))

    def _secrets(self, rows: list[dict[str, Any]]) -> None:
        held = masked = left_out = 0
        for row in rows:
            properties = row.get(PROPERTIES_KEY) if isinstance(row.get(PROPERTIES_KEY), dict) else {}
            for key, value in properties.items():
                if SECRET_KEYS(key) and isinstance(value, str) and is_set(value):
                    masked, held = masked + looks_masked(value), held + (not looks_masked(value))
            # A type the UI creates with every key (initialProperties) read without one of its secret keys.
            initial = UI_INITIAL_PROPERTIES.get(normalise_type(str(row.get(TYPE_KEY, ""))) or "", ())
            left_out += any(SECRET_KEYS(k) and k not in properties for k in initial)
        parts = [f"{held} secrets read back as stored" if held else "",
                 f"{masked} masked (compared by presence, never sent back)" if masked else "",
                 f"secret keys left out of {left_out} integrations (the server counts only secrets it set)"
                 if left_out else ""]
        if held or masked or left_out:
            self.note("cxengage.secrets_echoed", not (masked or left_out), "; ".join(p for p in parts if p))


async def check(settings: CxEngageSettings, transport: httpx2.AsyncBaseTransport | None = None, *,
                tenant_id: str | None = None, timeout: float = 20.0, **_: Any) -> list[Finding]:
    tenant = tenant_id or settings.tenant_id
    if not tenant:
        return [Finding(f.id, "not checked", "no tenant: set CXENGAGE_TENANT_ID or give --tenant-id") for f in FACTS]
    async with httpx2.AsyncClient(base_url=settings.base_url + "/v1/", timeout=timeout, transport=transport,
                                  headers={"accept": "application/json"}) as http:
        basic = CxEngageClient(http, dataclasses.replace(settings, use_token=False))
        run = _Check(CxEngageClient(http, settings), basic, tenant, uses_token=settings.use_token)
        try:
            await run.integrations()
        except VendorError as exc:
            if exc.status == 401 and not settings.use_token:
                run.note("cxengage.basic_auth", False, str(exc))
            run.found["error"] = Finding("read", "failed", str(exc))
    reasons = {**WRITES_ONLY, "cxengage.secrets_echoed": "no integration with a secret set to read",
               "cxengage.token_auth": "CXENGAGE_AUTH is basic (token auth is off)"}
    findings = [run.found.get(f.id) or Finding(f.id, "not checked", reasons.get(f.id, "no integration to read"))
                for f in FACTS]
    return findings + ([run.found["error"]] if "error" in run.found else [])
