"""Issue 9 over real transports: `integrations-mcp serve --sandbox` as a subprocess (tests/harness.py), driven by the
SDK client as agents run it. The person decides through the client (form and URL elicitation, both protocol eras,
over stdio and streamable HTTP) or, for a client that cannot ask, on the approval page; under policy `model` the
confirmation_id of the refusal that showed the change. The in-process versions: tests/pipeline/test_person_decides.py
and tests/secure_forms/test_handoff.py."""

from __future__ import annotations

import re

import anyio
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.secure_forms.scripted_person import decide_approval, fill_secure_form
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID
from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS
from tests.harness import STARTUP_SECONDS, Transcript, serve_http, serve_stdio, text_of, was_refused

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # every test here starts the server as a subprocess

BOUND = STARTUP_SECONDS + 30  # seconds for a whole test: start-up, then a few calls against loopback emulators
EDIT_CX = "EditCxEngageIntegration"
DEACTIVATE = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}  # the sandbox tenant's active integration
MODERN = "2026-07-28"


class Person:
    """The person at an eliciting client: fills each secure form the client opens for them (URL mode) as in a
    browser, and answers each question (form mode) with the next planned decision."""

    def __init__(self, *decisions: bool) -> None:
        self.decisions = list(decisions)
        self.urls: list[str] = []
        self.questions: list[str] = []

    async def __call__(self, ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            self.urls.append(params.url)
            await fill_secure_form(params.url)
            return ElicitResult(action="accept")
        self.questions.append(params.message)
        if self.decisions.pop(0):
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action="decline")


async def active(t: Transcript) -> bool:
    """The sandbox integration's saved `active`, read back with the Get tool."""
    view = await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID)
    return view["integration"]["active"]


async def create_with_credentials(t: Transcript, person: Person) -> None:
    """RevCent: the client opens the secure form for the person (URL elicitation), then the create uses it; the
    form's link never reaches the model."""
    form = await t.ok("CreateSecureForm", site_third_party_integration_id=SITE_IDS["tax"])
    assert form["completed"] is True and form["form_url"] is None and len(person.urls) == 1
    assert person.urls[0] not in str(form)
    created = await t.ok("CreateUserThirdPartyIntegration", name="Tax over a transport",
                         site_third_party_integration=SITE_IDS["tax"], secure_form_id=form["secure_form_id"])
    assert created["verified"]["readiness"]["credentials_saved"] is True


async def deactivation_is_put_to_the_person(t: Transcript, person: Person) -> None:
    """The person (planned: decline, then approve) is asked inside each call; a decline writes nothing."""
    await t.refused(EDIT_CX, "did not approve", "Nothing was sent", **DEACTIVATE)
    assert await active(t) is True
    done = await t.ok(EDIT_CX, DEACTIVATE)
    assert done["verified"]["integration"]["active"] is False and await active(t) is False
    assert len(person.questions) == 2
    assert all(q.startswith("Turn off the CxEngage") and "Active: true → false" in q for q in person.questions)


async def approved_on_the_page_then_retried(t: Transcript, served_at: str) -> None:
    """A client that cannot ask: refused with a one-time link starting with `served_at` (nothing written); the person
    approves there; the retry with approval_id writes exactly that change."""
    message = await t.refused(EDIT_CX, "needs the user's approval", "never open", **DEACTIVATE)
    url = re.search(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", message).group(1)
    approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", message).group(1)
    assert url.startswith(served_at), (url, served_at)
    assert await active(t) is True
    await decide_approval(url, approve=True)
    done = await t.ok(EDIT_CX, DEACTIVATE, approval_id=approval_id)
    assert done["mismatches"] == [] and await active(t) is False


# --- stdio ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["legacy", "auto"])  # a live elicitation/create; the 2026-07-28 input-required retry
async def test_stdio_person_fills_the_form_and_decides_through_the_client(mode: str) -> None:
    person = Person(False, True)
    with anyio.fail_after(BOUND):
        async with serve_stdio("--sandbox", mode=mode, elicitation_callback=person) as stdio:
            assert (stdio.client.protocol_version == MODERN) is (mode == "auto")
            await create_with_credentials(stdio, person)
            await deactivation_is_put_to_the_person(stdio, person)


async def test_stdio_client_without_elicitation_gets_an_approval_link() -> None:
    with anyio.fail_after(BOUND):
        async with serve_stdio("--sandbox") as stdio:
            await approved_on_the_page_then_retried(stdio, "http://127.0.0.1:")


async def test_stdio_policy_model_a_preset_flag_is_refused_then_the_retry_with_its_confirmation_id_writes() -> None:
    with anyio.fail_after(BOUND):
        async with serve_stdio("--sandbox", env={"INTEGRATIONS_CONFIRMATION": "model"}) as stdio:
            tools = {t.name: t for t in (await stdio.client.list_tools()).tools}
            properties = set(tools[EDIT_CX].input_schema["properties"])
            assert {"confirm_deactivate", "confirmation_id"} <= properties and "approval_id" not in properties
            preset = {**DEACTIVATE, "confirm_deactivate": True}
            first = await stdio.client.call_tool(EDIT_CX, preset)  # the raw client: no harness retry
            message = was_refused(EDIT_CX, first, ("counts only with the confirmation_id", "confirmation_id="))
            assert await active(stdio) is True
            token = re.search(r"confirmation_id=([A-Za-z0-9_-]+)", message).group(1)
            done = await stdio.client.call_tool(EDIT_CX, {**preset, "confirmation_id": token})
            assert not done.is_error, text_of(done)
            assert await active(stdio) is False


# --- streamable HTTP -----------------------------------------------------------------------------------------------

async def test_http_approval_page_is_served_on_the_mcp_listener() -> None:
    with anyio.fail_after(BOUND), serve_http("--sandbox") as url:
        async with Client(url) as client:
            await approved_on_the_page_then_retried(Transcript(client=client), url.removesuffix("mcp"))


async def test_http_legacy_session_elicits_the_person() -> None:
    person = Person(True)
    with anyio.fail_after(BOUND), serve_http("--sandbox") as url:
        async with Client(url, mode="legacy", elicitation_callback=person) as client:
            t = Transcript(client=client)
            done = await t.ok(EDIT_CX, DEACTIVATE)
            assert done["verified"]["integration"]["active"] is False and len(person.questions) == 1
