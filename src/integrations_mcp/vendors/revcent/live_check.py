"""`integrations-mcp check --vendor revcent`: the read operations against the configured API, compared with the facts
the server relies on (`facts.py`). Reads only; a finding names keys, counts and ids, never a value."""

from __future__ import annotations

from typing import Any

import httpx2

from integrations_mcp.errors import VendorError
from integrations_mcp.vendors.base import Finding
from integrations_mcp.vendors.revcent.client import RevCentClient
from integrations_mcp.vendors.revcent.facts import (
    FACTS,
    LIST_KEY,
    PAGE_FIRST,
    SITE_LIST_PATH,
    SITE_PATH,
    USER_LIST_PATH,
)
from integrations_mcp.vendors.revcent.settings import RevCentSettings

__all__ = ["check"]

ENVELOPE = {"api_call_id", "api_call_unix", "code"}
# Facts a read cannot show, and why.
WRITES_ONLY = {
    "revcent.create_edit_bodies": "it concerns writes; check never writes",
    "revcent.edit_partial": "it concerns writes; check never writes",
    "revcent.secure_form_id": "it concerns writes; with REVCENT_CREDENTIALS_VIA=revcent-form a refusal naming "
                              "secure_form_id settles it",
    "revcent.form_id_key": "creating a form is a write; the server reads either key",
    "revcent.options_edit": "it concerns writes; every edit's read-back reports a lost option",
    "revcent.option_required": "no read tells what RevCent means by it",
}


def _keys(data: dict[str, Any]) -> str:
    return ", ".join(sorted(set(data) - ENVELOPE)) or "none"


class _Check:
    def __init__(self, api: RevCentClient, secure_form_id: str | None) -> None:
        self.api, self.secure_form_id = api, secure_form_id
        self.found: dict[str, Finding] = {}

    def note(self, fact: str, held: bool, detail: str) -> None:
        self.found.setdefault(fact, Finding(fact, "held" if held else "failed", detail))

    async def page(self, operation: str, path: str, page: int, limit: int = 25) -> dict[str, Any]:
        return await self.api.read_raw(operation, path, {"limit": limit, "page": page - 1 + PAGE_FIRST})

    async def sites(self) -> None:
        data = await self.page("GetSiteThirdPartyIntegrations", SITE_LIST_PATH, 1)
        self.note("revcent.auth", True, "the key was accepted (x-api-key)")
        self.note("revcent.envelope", data.get("code") == 1, f"code {data.get('code')!r}")
        rows = data.get(LIST_KEY)
        self.note("revcent.list_key", isinstance(rows, list), f"page keys: {_keys(data)}")
        self.note("revcent.site_paths", True, f"GET /{SITE_LIST_PATH} answered")
        if isinstance(rows, list) and rows and isinstance(rows[0], dict) and rows[0].get("id"):
            site = await self.api.read_raw("GetSiteThirdPartyIntegration", SITE_PATH.format(id=rows[0]["id"]))
            self.note("revcent.site_paths", site.get("id") == rows[0]["id"],
                      f"GET /{SITE_PATH} answered for {rows[0]['id']}")

    async def users(self) -> None:
        first = await self.page("GetUserThirdPartyIntegrations", USER_LIST_PATH, 1, limit=1)
        self.note("revcent.user_list_path", True, f"GET /{USER_LIST_PATH} answered")
        rows = first.get(LIST_KEY)
        self.note("revcent.list_key", isinstance(rows, list), f"page keys: {_keys(first)}")
        if not isinstance(rows, list):
            for fact in ("revcent.paging", "revcent.user_integration_paths", "revcent.credentials_not_echoed"):
                self.found[fact] = Finding(fact, "not checked", f"the list's rows are not under {LIST_KEY!r}")
            return
        if not rows:
            return
        # The first page is the same whatever the limit: with limit 1 and limit 2 it starts with one integration.
        # Were pages numbered from another base, page PAGE_FIRST would skip 1 and 2 integrations respectively.
        wider = (await self.page("GetUserThirdPartyIntegrations", USER_LIST_PATH, 1, limit=2)).get(LIST_KEY) or []
        second = (await self.page("GetUserThirdPartyIntegrations", USER_LIST_PATH, 2, limit=1)).get(LIST_KEY) or []
        if wider and second:
            same_start = wider[0].get("id") == rows[0].get("id")
            self.note("revcent.paging", same_start and second[0].get("id") != rows[0].get("id"),
                      f"page {PAGE_FIRST} starts with the same integration at limit 1 and 2: {same_start}; "
                      f"page {PAGE_FIRST + 1} holds another one: {second[0].get('id') != rows[0].get('id')}")
        record = await self.api.read_raw("GetUserThirdPartyIntegration", f"user_third_party_integrations/"
                                                                         f"{rows[0].get('id')}")
        self.note("revcent.user_integration_paths", record.get("id") == rows[0].get("id"),
                  f"GET /user_third_party_integrations/{{id}} answered for {rows[0].get('id')}")
        leaked = [k for k in record if "credential" in k and k != "third_party_credentials_saved"]
        self.note("revcent.credentials_not_echoed", not leaked,
                  f"credential keys besides third_party_credentials_saved: {', '.join(leaked) or 'none'}")

    async def form(self) -> None:
        if not self.secure_form_id:
            return
        form = await self.api.read_raw("GetSecureForm", f"secure_forms/{self.secure_form_id}")
        missing = [k for k in ("form_source_id", "expiration_date_unix") if k not in form]
        self.note("revcent.form_source_id", not missing,
                  f"GetSecureForm keys: {_keys(form)}" + (f"; missing {', '.join(missing)}" if missing else ""))


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
    reasons = {**WRITES_ONLY, "revcent.paging": "fewer than two integrations to compare pages with",
               "revcent.user_integration_paths": "no integration in the account to read",
               "revcent.credentials_not_echoed": "no integration in the account to read",
               "revcent.form_source_id": "give --secure-form-id of a form to read one"}
    findings = [run.found.get(f.id) or Finding(f.id, "not checked", reasons.get(f.id, "a read failed before it"))
                for f in FACTS]
    return findings + [v for k, v in run.found.items() if k.startswith("error.")]
