"""Issue 9, the confirm stage: the person decides (elicitation in both protocol eras, or the approval page), or under
policy `model` the token from the refusal that showed the change. Every approval covers exactly one change. Through
real MCP client sessions against the emulators over ASGI; nothing is written upstream on any refusal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestParams, ElicitRequestURLParams, ElicitResult
from pydantic import SecretStr

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, BROWSER_SUBMIT, read_form
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_KEY as CX_KEY,
)
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_API_SECRET as CX_SECRET,
)
from integrations_mcp.vendors.cxengage.emulator import (
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    CxEngageEmulator,
)
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.contract import GUIDE_CONTRACT
from integrations_mcp.vendors.revcent.settings import RevCentSettings
from tests.vendors.revcent.helpers import revcent_form_id

pytestmark = pytest.mark.anyio

EDIT = "EditUserThirdPartyIntegration"


class World:
    """Both emulators, and a server in front of them for a given policy."""

    def __init__(self) -> None:
        self.revcent = RevCentEmulator(api_key=SANDBOX_API_KEY, contract=GUIDE_CONTRACT)
        self.cxengage = CxEngageEmulator()

    def server(self, policy: ConfirmationPolicy):  # noqa: ANN201
        settings = Settings(vendors={
            "revcent": RevCentSettings(SecretStr(SANDBOX_API_KEY), "http://revcent.test/v2", "revcent-form"),
            "cxengage": CxEngageSettings(SecretStr(CX_KEY), SecretStr(CX_SECRET), "http://cxengage.test",
                                         tenant_id=SANDBOX_TENANT_ID)}, confirmation=policy,
                            form_wait_seconds=5)
        return build_server(settings, secure_forms=SecureFormServer(), transports={
            "revcent": httpx2.ASGITransport(app=self.revcent.app),
            "cxengage": httpx2.ASGITransport(app=self.cxengage.app)})

    def edits(self) -> int:
        return len([r for r in self.revcent.writes() if r.path.startswith("/v2/user_third_party_integrations/")])


@asynccontextmanager
async def session(world: World, policy: ConfirmationPolicy, **client: Any) -> AsyncIterator[Client]:
    server = world.server(policy)
    try:
        async with Client(server, **client) as c:
            yield c
    finally:
        assert server.secure_forms is not None
        server.secure_forms.close()


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def ok(c: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await c.call_tool(tool, args)
    assert not result.is_error, text(result)
    return result.structured_content or {}


async def refused(c: Client, tool: str, args: dict[str, Any], *needles: str) -> str:
    result = await c.call_tool(tool, args)
    message = text(result)
    assert result.is_error, f"not refused: {message}"
    for needle in needles:
        assert needle in message, (needle, message)
    return message


async def integration_with_option(c: Client, world: World, name: str = "Tax main") -> tuple[str, Any]:
    """A RevCent tax integration with credentials, and a way to build an edit of an optional static select."""
    emu = world.revcent
    form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": emu.site_id("tax")})
    site = emu.site_integrations[emu.site_id("tax")]
    if not form["completed"]:  # an eliciting client had the person fill it already
        emu.complete_secure_form(revcent_form_id(form), {f["id"]: f"v-{f['id']}"
                                                          for f in site["third_party_credentials"]["fields"]})
    created = await ok(c, "CreateUserThirdPartyIntegration", {
        "name": name, "site_third_party_integration": emu.site_id("tax"), "secure_form_id": form["secure_form_id"]})
    uid = created["user_third_party_integration_id"]
    option, field, values = next(
        (o["id"], f["id"], f["select_settings"]["options"]) for o in site["third_party_options"] for f in o["fields"]
        if f["field_type"] == "select" and not f["select_settings"].get("third_party_asset")
        and not f["select_settings"].get("multiple") and len(f["select_settings"]["options"]) >= 2
        and not o["required"])

    def edit(index: int, **extra: Any) -> dict[str, Any]:
        return {"user_third_party_integration_id": uid, **extra,
                "third_party_options": [{"id": option, "fields": [{"id": field, "value": [values[index]]}]}]}

    return uid, edit


def token_in(message: str, name: str) -> str:
    found = re.search(rf"{name}=([A-Za-z0-9_-]+)", message)
    assert found, message
    return found.group(1)


# --- the schema matches the policy ------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "shown", "absent"), [
    (ConfirmationPolicy.PERSON, {"approval_id"}, {"confirm_overwrite", "confirm_disable", "confirmation_id"}),
    (ConfirmationPolicy.MODEL, {"confirm_overwrite", "confirm_disable", "confirmation_id"}, {"approval_id"}),
])
async def test_the_schema_offers_only_what_the_policy_lets_the_model_send(policy: ConfirmationPolicy, shown: set[str],
                                                                           absent: set[str]) -> None:
    world = World()
    async with session(world, policy) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        for name in (EDIT, "EditCxEngageIntegration"):
            properties = set(tools[name].input_schema["properties"])
            assert {p.replace("confirm_disable", "confirm_deactivate") if name != EDIT else p for p in shown} \
                <= properties, (name, properties)
            assert not properties & absent, name
        uid, edit = await integration_with_option(c, world)
        hidden = next(iter(absent))
        await refused(c, EDIT, edit(0, **{hidden: True if hidden.startswith("confirm_") else "x"}), "unknown argument")


# --- policy `model`: the token from the refusal that showed the change -------------------------------------------

async def test_model_a_flag_preset_on_the_first_call_is_refused_and_only_the_shown_change_goes_through() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.MODEL) as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))  # first fill: nothing to confirm
        before = world.edits()
        message = await refused(c, EDIT, edit(1, confirm_overwrite=True), "Saved → proposed", "confirmation_id=")
        assert "counts only with the confirmation_id" in message and world.edits() == before
        token = token_in(message, "confirmation_id")
        await refused(c, EDIT, edit(1, confirmation_id=token), "confirm_overwrite=true")  # token without the flag
        done = await ok(c, EDIT, edit(1, confirm_overwrite=True, confirmation_id=token))
        assert done["mismatches"] == [] and world.edits() == before + 1
        again = await refused(c, EDIT, edit(0, confirm_overwrite=True, confirmation_id=token), "does not match")
        assert world.edits() == before + 1 and token_in(again, "confirmation_id") != token


async def test_model_a_token_is_void_once_the_saved_state_changed() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.MODEL) as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        token = token_in(await refused(c, EDIT, edit(1)), "confirmation_id")
        await ok(c, EDIT, {"user_third_party_integration_id": uid, "description": "changed meanwhile"})
        before = world.edits()
        await refused(c, EDIT, edit(1, confirm_overwrite=True, confirmation_id=token), "does not match",
                      "Saved → proposed")
        assert world.edits() == before


async def test_model_a_token_belongs_to_the_session_that_saw_the_change() -> None:
    world = World()
    server = world.server(ConfirmationPolicy.MODEL)
    try:
        async with Client(server) as first:
            uid, edit = await integration_with_option(first, world)
            await ok(first, EDIT, edit(0))
            token = token_in(await refused(first, EDIT, edit(1)), "confirmation_id")
        async with Client(server) as second:
            await refused(second, EDIT, edit(1, confirm_overwrite=True, confirmation_id=token), "does not match")
    finally:
        assert server.secure_forms is not None
        server.secure_forms.close()


# --- policy `person`, no elicitation: the approval page ---------------------------------------------------------

async def decide_on_page(url: str, decision: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=10) as http:
        page = await http.get(url, headers=BROWSER_NAVIGATION)
        assert page.status_code == 200 and "What changes" in page.text
        return await http.post(url, data={**read_form(page.text).hidden, "decision": decision},
                               headers={**BROWSER_SUBMIT, **(headers or {})})


async def test_person_without_elicitation_approves_on_the_page_and_the_retry_writes_exactly_that() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON) as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        before = world.edits()
        message = await refused(c, EDIT, edit(1), "needs the user's approval", "never open", "Saved → proposed")
        url = re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", message).group(1)
        approval = token_in(message, "approval_id")
        # The approval_id is not the page: it opens nothing, and the pending refusal does not rebuild the link.
        assert approval not in url
        pending = await refused(c, EDIT, edit(1, approval_id=approval), "not approved this change yet",
                                f"approval_id={approval}")
        assert "http" not in pending and url.rsplit("/", 1)[1] not in pending
        async with httpx2.AsyncClient(timeout=10) as http:
            assert (await http.get(url.rsplit("/", 1)[0] + "/" + approval, headers=BROWSER_NAVIGATION)).status_code \
                == 404
        # Another page cannot approve it, even with the page's own token.
        forged = await decide_on_page(url, "approve", {"origin": "http://localhost:1", "sec-fetch-site": "cross-site"})
        assert forged.status_code == 403
        # Nor can a program that is not a browser (an agent's shell: curl), even with the page's own token.
        async with httpx2.AsyncClient(timeout=10) as curl:
            token = read_form((await curl.get(url)).text).hidden
            scripted = await curl.post(url, data={**token, "decision": "approve"})
        assert scripted.status_code == 403 and "not sent from the approval page" in scripted.text
        await refused(c, EDIT, edit(1, approval_id=approval), "not approved this change yet")
        assert (await decide_on_page(url, "approve")).status_code == 200
        wider = edit(1, approval_id=approval)  # one more option field than the person approved
        wider["third_party_options"][0]["fields"].append({"id": "origin_zip", "value": ["12345"]})
        await refused(c, EDIT, wider, "not the one approved")
        assert world.edits() == before
        done = await ok(c, EDIT, edit(1, approval_id=approval))
        assert done["mismatches"] == [] and world.edits() == before + 1
        await refused(c, EDIT, edit(0, approval_id=approval), "already used")  # single use


async def test_person_rejects_on_the_page_and_nothing_is_written() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON) as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        message = await refused(c, EDIT, edit(1))
        url = re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", message).group(1)
        answer = await decide_on_page(url, "reject")
        assert answer.status_code == 200 and "nothing was changed" in answer.text
        before = world.edits()
        await refused(c, EDIT, edit(1, approval_id=token_in(message, "approval_id")), "rejected")
        assert world.edits() == before


# --- policy `person` with elicitation: asked inside the call, both eras -----------------------------------------

def answering(world: World, action: str, approve: bool = True, seen: list[str] | None = None):  # noqa: ANN201
    """The person at an eliciting client: fills a secure form the client opens for them (URL mode), and answers a
    confirmation (form mode) with `action`/`approve`."""

    async def on_elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            form_id = params.url.rstrip("/").rsplit("/", 1)[1]
            site = world.revcent.form_site(world.revcent.secure_forms[form_id])
            world.revcent.complete_secure_form(form_id, {f["id"]: f"v-{f['id']}"
                                                         for f in site["third_party_credentials"]["fields"]})
            return ElicitResult(action="accept")
        if seen is not None:
            seen.append(params.message)
        return ElicitResult(action=action, content={"approve": approve} if action == "accept" else None)
    return on_elicit


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input-required retry; 2025-11-25 live request
@pytest.mark.parametrize(("action", "approve", "written"), [("accept", True, True), ("accept", False, False),
                                                            ("decline", False, False), ("cancel", False, False)])
async def test_person_is_asked_inside_the_call(mode: str, action: str, approve: bool, written: bool) -> None:
    world = World()
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode=mode,
                       elicitation_callback=answering(world, action, approve, seen)) as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        assert seen == []  # a first fill asks nobody
        before = world.edits()
        result = await c.call_tool(EDIT, edit(1))
        asked = seen[0]
        assert len(seen) == 1 and asked.startswith("Replace saved settings of the RevCent tax integration 'Tax main'?")
        assert uid not in asked and EDIT not in asked and "Tax settings: Commit transactions: “yes” → “no”" in asked
        assert result.is_error is not written and world.edits() == before + written
        if not written:
            assert "Nothing was sent" in text(result)


async def test_cxengage_deactivation_is_put_to_the_person() -> None:
    world = World()
    seen: list[str] = []
    async with session(world, ConfirmationPolicy.PERSON, mode="legacy",
                       elicitation_callback=answering(world, "accept", True, seen)) as c:
        done = await ok(c, "EditCxEngageIntegration", {"integration_id": SANDBOX_INTEGRATION_ID, "active": False})
        assert done["verified"]["integration"]["active"] is False
        assert seen[0].startswith("Turn off the CxEngage") and "Active: true → false" in seen[0]
        assert SANDBOX_INTEGRATION_ID not in seen[0] and "Check with the user" not in seen[0]


# --- one write at a time per target ------------------------------------------------------------------------------

async def test_parallel_first_fills_of_one_option_the_second_needs_confirmation() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.MODEL) as c:
        uid, edit = await integration_with_option(c, world)
        results: list[CallToolResult] = []

        async def fill(index: int) -> None:
            results.append(await c.call_tool(EDIT, edit(index)))

        async with anyio.create_task_group() as group:
            group.start_soon(fill, 0)
            group.start_soon(fill, 1)
        assert sorted(r.is_error for r in results) == [False, True]
        assert "Saved → proposed" in text(next(r for r in results if r.is_error))


async def test_parallel_creates_with_one_name_only_one_is_created() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.MODEL) as c:
        results: list[CallToolResult] = []

        async def create() -> None:
            results.append(await c.call_tool("CreateUserThirdPartyIntegration", {
                "name": "Same name", "site_third_party_integration": world.revcent.site_id("shipping")}))

        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(create)
        assert sorted(r.is_error for r in results) == [False, True, True]
        assert all("already used" in text(r) for r in results if r.is_error)


async def test_parallel_creates_with_one_secure_form_save_its_credentials_once() -> None:
    world = World()
    emu = world.revcent
    async with session(world, ConfirmationPolicy.MODEL) as c:
        form = await ok(c, "CreateSecureForm", {"site_third_party_integration_id": emu.site_id("tax")})
        site = emu.site_integrations[emu.site_id("tax")]
        fields = site["third_party_credentials"]["fields"]
        emu.complete_secure_form(revcent_form_id(form), {f["id"]: "v" for f in fields})
        results: list[CallToolResult] = []

        async def create(name: str) -> None:
            results.append(await c.call_tool("CreateUserThirdPartyIntegration", {
                "name": name, "site_third_party_integration": emu.site_id("tax"),
                "secure_form_id": form["secure_form_id"]}))

        async with anyio.create_task_group() as group:
            for name in ("One", "Two", "Three"):
                group.start_soon(create, name)
        assert sorted(r.is_error for r in results) == [False, True, True]
        assert all("already used" in text(r) for r in results if r.is_error)
        creates = [r for r in emu.writes() if r.path == "/v2/user_third_party_integrations"]
        assert len(creates) == 1
