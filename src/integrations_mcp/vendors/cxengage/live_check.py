"""`integrations-mcp check --vendor cxengage`: the read operations against the configured tenant, compared with the
facts the server relies on (`facts.py`). Reads only; a finding names keys, counts and ids, never a value."""

from __future__ import annotations

from typing import Any

import httpx2

from integrations_mcp.errors import VendorError
from integrations_mcp.pipeline.changes import is_set
from integrations_mcp.vendors.base import Finding
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS
from integrations_mcp.vendors.cxengage.client import CxEngageClient
from integrations_mcp.vendors.cxengage.facts import FACTS, MASK_CHARACTERS, RESULT_KEY
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

__all__ = ["check"]

PAGING_KEYS = ("page", "pages", "next", "total", "count", "limit", "offset", "links")
WRITES_ONLY = {
    "cxengage.flat_body": "it concerns writes; check never writes",
    "cxengage.create_inactive_empty": "it concerns writes; check never writes",
    "cxengage.properties_merge": "it concerns writes; every edit's read-back reports a lost property",
    "cxengage.ui_rules": "it concerns writes; a refused inactive create would show it",
}


class _Check:
    def __init__(self, api: CxEngageClient, tenant_id: str, *, uses_token: bool) -> None:
        self.api, self.tenant_id, self.api_uses_token = api, tenant_id, uses_token
        self.found: dict[str, Finding] = {}

    def note(self, fact: str, held: bool, detail: str) -> None:
        self.found.setdefault(fact, Finding(fact, "held" if held else "failed", detail))

    async def integrations(self) -> None:
        data = await self.api.read_raw("ListIntegrations", f"tenants/{self.tenant_id}/integrations")
        self.note("cxengage.basic_auth", True, "the key and secret were accepted")
        if self.api_uses_token:
            self.note("cxengage.token_auth", True, "a token was issued and accepted")
        rows = data.get(RESULT_KEY) if isinstance(data, dict) else None
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        self.note("cxengage.result_envelope", isinstance(rows, list), f"answer keys: {keys}")
        paging = [k for k in (data if isinstance(data, dict) else {}) if k.lower() in PAGING_KEYS]
        self.note("cxengage.no_paging", not paging, f"paging keys beside result: {', '.join(paging) or 'none'}")
        if not isinstance(rows, list) or not rows:
            return
        types = sorted({str(r.get("type")) for r in rows if isinstance(r, dict)})
        self.note("cxengage.type_lowercase", all(t == t.lower() for t in types), f"types: {', '.join(types)}")
        first = rows[0] if isinstance(rows[0], dict) else {}
        one = await self.api.read_raw("GetIntegration", f"tenants/{self.tenant_id}/integrations/{first.get('id')}")
        record = one.get(RESULT_KEY) if isinstance(one, dict) else None
        self.note("cxengage.paths", isinstance(record, dict) and record.get("id") == first.get("id"),
                  f"GET .../integrations/{{id}} answered for {first.get('id')}")
        self._secrets([r for r in rows if isinstance(r, dict)])

    def _secrets(self, rows: list[dict[str, Any]]) -> None:
        held = masked = 0
        for row in rows:
            for key, value in (row.get("properties") or {}).items():
                if SECRET_KEYS(key) and isinstance(value, str) and is_set(value):
                    looks_masked = len(value) >= 3 and set(value) <= MASK_CHARACTERS
                    masked, held = masked + looks_masked, held + (not looks_masked)
        if held or masked:
            self.note("cxengage.secrets_echoed", not masked,
                      f"secret properties set: {held} read back as stored, {masked} masked")


async def check(settings: CxEngageSettings, transport: httpx2.AsyncBaseTransport | None = None, *,
                tenant_id: str | None = None, timeout: float = 20.0, **_: Any) -> list[Finding]:
    tenant = tenant_id or settings.tenant_id
    if not tenant:
        return [Finding(f.id, "not checked", "no tenant: set CXENGAGE_TENANT_ID or give --tenant-id") for f in FACTS]
    async with httpx2.AsyncClient(base_url=settings.base_url + "/v1/", timeout=timeout, transport=transport,
                                  headers={"accept": "application/json"}) as http:
        run = _Check(CxEngageClient(http, settings), tenant, uses_token=settings.use_token)
        try:
            await run.integrations()
        except VendorError as exc:
            if exc.status == 401:
                run.note("cxengage.basic_auth", False, str(exc))
            run.found["error"] = Finding("read", "failed", str(exc))
    reasons = {**WRITES_ONLY, "cxengage.secrets_echoed": "no integration with a secret set to read",
               "cxengage.token_auth": "CXENGAGE_USE_TOKEN is off (Basic auth is used)"}
    findings = [run.found.get(f.id) or Finding(f.id, "not checked", reasons.get(f.id, "no integration to read"))
                for f in FACTS]
    return findings + ([run.found["error"]] if "error" in run.found else [])
