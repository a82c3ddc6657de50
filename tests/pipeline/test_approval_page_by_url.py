"""Issue 18, item 3: a client that can show the person a link (URL elicitation) is handed the approval page for
them, on both protocol eras, and the call waits for their decision; nothing the model sees (results, errors,
structured content) holds the page's link or id, and the approval_id it may hold neither opens nor decides the page.
In process over the SDK's in-memory transport; the stdio and sign-in versions: tests/server/test_transports_person.py
and tests/signin/."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client import ClientRequestContext
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitRequestParams, ElicitResult
from pydantic import SecretStr

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, BROWSER_SUBMIT, decide_approval, read_form
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_KEY as CX_KEY
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_SECRET as CX_SECRET
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID, SANDBOX_TENANT_ID
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from tests.browser import needs_chromium
from tests.harness import SERVE, STARTUP_SECONDS, Transcript, clean_env
from tests.pipeline.test_person_decides import World
from tests.pipeline.url_person import PagePerson, UrlOnlyClient, press_in_chromium

pytestmark = pytest.mark.anyio

EDIT_CX = "EditCxEngageIntegration"
DEACTIVATE = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}
MODES = ["legacy", "auto"]  # a live elicitation/create (2025-11-25); the 2026-07-28 input-required retry


class Deployment:
    """The emulators and a server in front of CxEngage, under policy `person`, waiting `wait` seconds for a page."""

    def __init__(self, wait: float) -> None:
        self.world = World()
        settings = Settings(vendors={"cxengage": CxEngageSettings(
            SecretStr(CX_KEY), SecretStr(CX_SECRET), "http://cxengage.test", tenant_id=SANDBOX_TENANT_ID)},
            confirmation=ConfirmationPolicy.PERSON, form_wait_seconds=wait)
        self.server = build_server(settings, secure_forms=SecureFormServer(), transports={
            "cxengage": httpx2.ASGITransport(app=self.world.cxengage.app)})
        self.seen: list[str] = []  # every result the model got, as JSON: text, structured content, error

    def writes(self) -> int:
        return len(self.world.cxengage.writes())

    async def call(self, c: Client, tool: str, args: dict[str, Any]) -> CallToolResult:
        result = await c.call_tool(tool, args)
        self.seen.append(result.model_dump_json())
        return result

    def assert_model_never_saw(self, url: str) -> None:
        page_id = url.rstrip("/").rsplit("/", 1)[1]
        for seen in self.seen:
            assert page_id not in seen and "/approvals/" not in seen, seen
            assert page_id not in json.dumps(json.loads(seen).get("structuredContent"))

    def close(self) -> None:
        assert self.server.secure_forms is not None
        self.server.secure_forms.close()


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def active(d: Deployment, c: Client) -> bool:
    result = await d.call(c, "GetCxEngageIntegration", {"integration_id": SANDBOX_INTEGRATION_ID})
    return result.structured_content["integration"]["active"]


async def opens(url: str) -> int:
    async with httpx2.AsyncClient(timeout=10) as http:
        return (await http.get(url, headers=BROWSER_NAVIGATION)).status_code


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("button", ["Approve", "Reject"])
async def test_the_person_decides_on_the_page_the_client_opened(mode: str, button: str) -> None:
    d = Deployment(wait=60)
    try:
        async with anyio.create_task_group() as group:
            person = PagePerson(group, decide=lambda url: press_in_chromium(url, button))
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=person) as c:
                result = await d.call(c, EDIT_CX, DEACTIVATE)
                assert len(person.urls) == 1 and person.messages[0].startswith("Turn off the CxEngage")
                if button == "Approve":
                    assert not result.is_error, text(result)
                    assert d.writes() == 1 and await active(d, c) is False
                    journal = await d.call(c, "GetIntegrationChanges", {"limit": 5})
                    newest = journal.structured_content["results"][0]
                    assert newest["approved"].endswith("on the approval page"), newest
                    assert newest["outcome"] == "written and verified"
                else:
                    assert result.is_error and "rejected this change on the approval page" in text(result)
                    assert d.writes() == 0 and await active(d, c) is True
                d.assert_model_never_saw(person.urls[0])
                assert await opens(person.urls[0]) == 404  # decided: the page is gone
    finally:
        d.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_declining_to_open_the_page_writes_nothing_and_closes_it(mode: str, action: str) -> None:
    d = Deployment(wait=5)
    try:
        async with anyio.create_task_group() as group:
            person = PagePerson(group, action=action)
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=person) as c:
                result = await d.call(c, EDIT_CX, DEACTIVATE)
                assert result.is_error and "declined to open the approval page" in text(result)
                assert "Nothing was sent" in text(result) and d.writes() == 0
                d.assert_model_never_saw(person.urls[0])
                assert await opens(person.urls[0]) == 404  # withdrawn: a later approval there counts for nothing
    finally:
        d.close()


@pytest.mark.parametrize("mode", MODES)
async def test_undecided_the_model_gets_an_approval_id_that_opens_nothing_and_the_retry_writes_once(mode: str) -> None:
    d = Deployment(wait=0.5)
    try:
        async with anyio.create_task_group() as group:
            person = PagePerson(group)  # opens the page, decides later
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=person) as c:
                result = await d.call(c, EDIT_CX, DEACTIVATE)
                message = text(result)
                assert result.is_error and "has not decided on the approval page yet" in message, message
                approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", message)[1]
                url = person.urls[0]
                d.assert_model_never_saw(url)
                # An agent with a shell tries the page with what it holds: the approval_id is not the page.
                guessed = url.rsplit("/", 1)[0] + "/" + approval_id
                async with httpx2.AsyncClient(timeout=10) as shell:
                    assert (await shell.get(guessed, headers=BROWSER_NAVIGATION)).status_code == 404
                    hidden = read_form((await shell.get(url, headers=BROWSER_NAVIGATION)).text).hidden
                    forged = await shell.post(guessed, data={**hidden, "decision": "approve"}, headers=BROWSER_SUBMIT)
                    assert forged.status_code == 404
                pending = await d.call(c, EDIT_CX, {**DEACTIVATE, "approval_id": approval_id})
                assert pending.is_error and "not approved this change yet" in text(pending) and d.writes() == 0
                assert len(person.urls) == 1  # the retry hands nothing over again
                await decide_approval(url, approve=True)  # the person, on the page they were shown
                done = await d.call(c, EDIT_CX, {**DEACTIVATE, "approval_id": approval_id})
                assert not done.is_error, text(done)
                assert d.writes() == 1 and await active(d, c) is False
                d.assert_model_never_saw(url)
    finally:
        d.close()


@pytest.mark.parametrize("mode", MODES)
async def test_an_invented_or_another_sessions_approval_id_is_no_such_approval(mode: str) -> None:
    d = Deployment(wait=0.5)
    try:
        async with anyio.create_task_group() as group:
            first = PagePerson(group)
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=first) as c:
                message = text(await d.call(c, EDIT_CX, DEACTIVATE))
                theirs = re.search(r"approval_id=([A-Za-z0-9_-]+)", message)[1]
                await decide_approval(first.urls[0], approve=True)
            second = PagePerson(group)
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=second) as c:
                for approval_id in ("made-up-approval-id", theirs, first.urls[0].rsplit("/", 1)[1]):
                    result = await d.call(c, EDIT_CX, {**DEACTIVATE, "approval_id": approval_id})
                    message = text(result)
                    assert result.is_error and "no such approval" in message and "saved values" not in message
                assert second.urls == [] and d.writes() == 0
    finally:
        d.close()


async def test_a_forged_2026_answer_carrying_another_sessions_approval_id_does_nothing() -> None:
    """A client's retry carries `request_state` back: a model-driven client could put another session's approval id
    there. The SDK refuses a state the server did not issue, so neither an accept nor a decline reaches the approval,
    which stays its session's to use."""
    d = Deployment(wait=0.5)
    try:
        async with anyio.create_task_group() as group:
            first = PagePerson(group)
            async with UrlOnlyClient(d.server, mode="auto", elicitation_callback=first) as c1:
                theirs = re.search(r"approval_id=([A-Za-z0-9_-]+)", text(await d.call(c1, EDIT_CX, DEACTIVATE)))[1]
                async with UrlOnlyClient(d.server, mode="auto", elicitation_callback=PagePerson(group)) as c2:
                    for action in ("decline", "accept"):
                        with pytest.raises(MCPError, match="requestState"):
                            await c2.session.call_tool(
                                EDIT_CX, DEACTIVATE, request_state=theirs, allow_input_required=True,
                                input_responses={"open_approval_page": ElicitResult(action=action)})
                        assert d.writes() == 0
                await decide_approval(first.urls[0], approve=True)  # the decline withdrew nothing of theirs
                done = await d.call(c1, EDIT_CX, {**DEACTIVATE, "approval_id": theirs})
                assert not done.is_error, text(done)
                assert d.writes() == 1
    finally:
        d.close()


@pytest.mark.parametrize("mode", MODES)
async def test_the_wait_holds_no_lock_and_a_change_meanwhile_voids_the_approval(mode: str) -> None:
    """While the person looks at the page, another write to the same integration goes through; their approval then
    covers a change that is no longer the one to write, so nothing is written."""
    d = Deployment(wait=20)
    other: list[CallToolResult] = []

    async def meanwhile(url: str) -> None:
        async with Client(d.server) as second:  # another session changes the description, which needs no one
            other.append(await d.call(second, EDIT_CX, {"integration_id": SANDBOX_INTEGRATION_ID,
                                                        "description": "changed meanwhile"}))
        await decide_approval(url, approve=True)

    try:
        async with anyio.create_task_group() as group:
            person = PagePerson(group, decide=meanwhile)
            async with UrlOnlyClient(d.server, mode=mode, elicitation_callback=person) as c:
                with anyio.fail_after(30):
                    result = await d.call(c, EDIT_CX, DEACTIVATE)
                assert not other[0].is_error, text(other[0])
                assert result.is_error and "changed while the user was deciding" in text(result), text(result)
                assert d.writes() == 1 and await active(d, c) is True  # the description only
                d.assert_model_never_saw(person.urls[0])
    finally:
        d.close()


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_with_a_form_is_still_asked_in_the_client(mode: str) -> None:
    """Without sign-in, a client that declared form elicitation (the SDK declares form and URL) is asked there."""
    d = Deployment(wait=5)
    asked: list[ElicitRequestParams] = []

    async def says_yes(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"approve": True})

    try:
        async with Client(d.server, mode=mode, elicitation_callback=says_yes) as c:
            result = await d.call(c, EDIT_CX, DEACTIVATE)
            assert not result.is_error, text(result)
            assert len(asked) == 1 and isinstance(asked[0], ElicitRequestFormParams) and d.writes() == 1
    finally:
        d.close()


# --- over stdio: `integrations-mcp serve --sandbox` as a subprocess ------------------------------------------------

@asynccontextmanager
async def url_only_over_stdio(person: PagePerson, mode: str) -> AsyncIterator[Transcript]:
    params = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], "--sandbox"], env=clean_env())
    with tempfile.TemporaryFile("w+") as errlog:
        async with UrlOnlyClient(stdio_client(params, errlog=errlog), mode=mode,
                                 elicitation_callback=person) as client:
            yield Transcript(client=client)


def model_never_saw(t: Transcript, url: str) -> None:
    page_id = url.rstrip("/").rsplit("/", 1)[1]
    assert all(page_id not in seen and "/approvals/" not in seen for seen in t.seen)


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_stdio_the_person_approves_in_chromium_and_the_write_happens_once(mode: str) -> None:
    with anyio.fail_after(STARTUP_SECONDS + 90):
        async with anyio.create_task_group() as group:
            person = PagePerson(group, decide=lambda url: press_in_chromium(url, "Approve"))
            async with url_only_over_stdio(person, mode) as t:
                done = await t.ok(EDIT_CX, DEACTIVATE)
                assert done["verified"]["integration"]["active"] is False and len(person.urls) == 1
                changes = (await t.ok("GetIntegrationChanges", limit=5))["results"]
                written = [c for c in changes if c["outcome"] == "written and verified"]
                assert len(written) == 1 and written[0]["approved"].endswith("on the approval page")
                model_never_saw(t, person.urls[0])


@pytest.mark.slow
async def test_stdio_declining_to_open_the_page_writes_nothing() -> None:
    with anyio.fail_after(STARTUP_SECONDS + 60):
        async with anyio.create_task_group() as group:
            person = PagePerson(group, action="decline")
            async with url_only_over_stdio(person, "legacy") as t:
                await t.refused(EDIT_CX, "declined to open the approval page", "Nothing was sent", **DEACTIVATE)
                view = await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
                assert view["integration"]["active"] is True
                model_never_saw(t, person.urls[0])
