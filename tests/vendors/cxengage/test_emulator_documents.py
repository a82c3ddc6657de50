"""The emulator plays what the documents allow: the Create page's own sample request, and each [I] switch that
changes what a read shows (booleans as strings, secrets masked or left out, paged or capped lists)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest

from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_TENANT_ID,
    Contract,
    CxEngageEmulator,
)
from integrations_mcp.vendors.cxengage.emulator.contract import LIST_PAGE_SIZE, MASK

pytestmark = pytest.mark.anyio

AUTH = {"authorization": "Basic " + base64.b64encode(f"{SANDBOX_API_KEY}:{SANDBOX_API_SECRET}".encode()).decode()}
COLLECTION = f"/v1/tenants/{SANDBOX_TENANT_ID}/integrations"


def http(emu: CxEngageEmulator) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url="http://cx", headers=AUTH)


@pytest.mark.parametrize("active", ["true", "false"])
async def test_the_seeds_own_sample_request_is_accepted(active: str) -> None:
    """seed cxengage-create-integration.txt lines 18-30: POST .../integrations/ (trailing slash), the body wrapped in
    "attribute", the title-case type of its table ("REST API", line 43) and "active" as a string (line 24)."""
    emu = CxEngageEmulator()
    body = json.dumps({"attribute": {"type": "REST API", "name": "Seed sample", "active": active,
                                     "properties": {"endpointPrefix": "https://x.example.invalid/"}}})
    async with http(emu) as client:
        answer = await client.post(COLLECTION + "/", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    record = answer.json()["result"]
    assert record["type"] == "rest" and record["active"] is (active == "true")


async def test_other_strings_are_not_booleans() -> None:
    async with http(CxEngageEmulator()) as client:
        answer = await client.post(COLLECTION, json={"type": "rest", "name": "X", "active": "yes", "properties": {}})
    assert answer.status_code == 400 and "active" in answer.json()["error"]["attribute"]


@pytest.mark.parametrize("kind, required", [
    ("teleopti", {"protocol"}),
    ("verint", {"sftpPort", "sftpHost", "sftpUsername", "sftpPassword", "orgName", "dataSourceName"}),
    ("birst", {"birstBaseUrl", "birstAdminUsername", "birstAdminPassword", "birstDashboardVersion",
               "birstSpaceId", "birstSsoPassword"}),
])
async def test_the_uis_starred_fields_are_required_when_the_api_applies_the_ui_rules(kind: str,
                                                                                      required: set[str]) -> None:
    """config-ui Types/teleopti.js, verint.js, birst.js label these fields with `*` (13 fields)."""
    async with http(CxEngageEmulator(contract=Contract(ui_rules="always"))) as client:
        answer = await client.post(COLLECTION, json={"type": kind, "name": "X", "properties": {}})
    assert answer.status_code == 400
    assert {k.removeprefix("properties.") for k in answer.json()["error"]["attribute"]} == required


async def test_reads_as_each_switch_says() -> None:
    def emu(**switch: Any) -> CxEngageEmulator:
        made = CxEngageEmulator(contract=Contract(**switch))
        made.add_integration(SANDBOX_TENANT_ID, "zendesk", "Desk", {"password": "pw", "workItems": True,
                                                                    "interactionFieldId": "7"}, active=True)
        return made

    async def desk(made: CxEngageEmulator) -> dict[str, Any]:
        async with http(made) as client:
            rows = (await client.get(COLLECTION)).json()["result"]
        return next(r for r in rows if r["name"] == "Desk")

    assert (await desk(emu()))["properties"]["password"] == "pw"
    assert (await desk(emu(secrets_on_read="mask")))["properties"]["password"] == MASK
    assert "password" not in (await desk(emu(secrets_on_read="omit")))["properties"]
    strings = await desk(emu(booleans_on_read="string"))
    assert strings["active"] == "true" and strings["properties"]["workItems"] == "true"


@pytest.mark.parametrize("paging", ["paged", "capped"])
async def test_long_lists_are_paged_or_capped(paging: str) -> None:
    made = CxEngageEmulator(contract=Contract(list_paging=paging))  # type: ignore[arg-type]
    for n in range(LIST_PAGE_SIZE + 5):
        made.add_integration(SANDBOX_TENANT_ID, "rest", f"R{n}")
    async with http(made) as client:
        first = (await client.get(COLLECTION)).json()
        second = (await client.get(COLLECTION, params={"page": "2"})).json()
    assert len(first["result"]) == LIST_PAGE_SIZE and first["total"] == LIST_PAGE_SIZE + 6
    if paging == "paged":
        assert len(second["result"]) == 6 and second["page"] == 2
    else:
        assert second["result"] == first["result"]
