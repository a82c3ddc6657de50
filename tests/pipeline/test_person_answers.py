"""Issue 18 items 1-2 and issue 19 (b): only an explicit `true` from the person approves, in both protocol eras; no
argument moves the question out of a client that can ask it; a question waiting for the person holds no write lock.
Through real MCP client sessions (in-memory, both eras) against the emulators."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID
from tests.pipeline.test_person_decides import (
    EDIT,
    World,
    answering,
    integration_with_option,
    ok,
    refused,
    session,
    text,
)

pytestmark = pytest.mark.anyio

MISSING = object()
# Every shape an `approve` answer can take that is not the boolean true (the schema's only accepting value).
HOSTILE = ["false", "no", "0", "true", "yes", "1", 1, 1.0, 0, None, MISSING, [], ["true"], "", False]


def answer_with(approve: Any, action: str = "accept"):  # noqa: ANN201
    """A client whose person (or a client bug) answers with `approve` as given, schema or not."""

    async def on_elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert not isinstance(params, ElicitRequestURLParams)
        content = {} if approve is MISSING else {"approve": approve}
        return ElicitResult.model_construct(action=action, content=content)  # no client-side validation
    return on_elicit


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input-required retry; 2025-11-25 live request
@pytest.mark.parametrize("approve", HOSTILE, ids=repr)
async def test_only_boolean_true_approves(mode: str, approve: Any) -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=answering(world, "accept")) \
            as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=answer_with(approve)) as c:
        before = world.edits()
        result = await c.call_tool(EDIT, edit(1))
        assert result.is_error, text(result)
        assert "did not approve" in text(result) and "Nothing was sent" in text(result), text(result)
        assert world.edits() == before


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(("action", "content"), [("accept", None), ("accept", "approve"), ("accept", [True]),
                                                 ("ACCEPT", {"approve": True}), ("approve", {"approve": True}),
                                                 ("accept", {"approve": {"value": True}})], ids=repr)
async def test_malformed_answers_are_declines_not_server_errors(mode: str, action: str, content: Any) -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=answering(world, "accept")) \
            as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))

    async def on_elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult.model_construct(action=action, content=content)

    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=on_elicit) as c:
        before = world.edits()
        try:
            result = await c.call_tool(EDIT, edit(1))
        except Exception as exc:  # noqa: BLE001 - the SDK refusing the shape at the protocol level is a decline too
            assert "Error executing tool" not in str(exc) and "Internal" not in str(exc), exc
        else:
            assert result.is_error and "Nothing was sent" in text(result), text(result)
            assert "Error executing tool" not in text(result)
        assert world.edits() == before


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_true_still_approves(mode: str) -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=answering(world, "accept")) \
            as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        before = world.edits()
        await ok(c, EDIT, edit(1))
        assert world.edits() == before + 1


# --- item 2: the question stays in the client --------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_approval_id_does_not_move_the_question_to_a_page(mode: str) -> None:
    world = World()
    asked: list[str] = []

    async def on_elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=answering(world, "accept")) \
            as c:
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
    async with session(world, ConfirmationPolicy.PERSON, mode=mode, elicitation_callback=on_elicit) as c:
        before = world.edits()
        for made_up in ("x" * 24, "AAAAAAAAAAAAAAAAAAAAAAAA"):
            message = await refused(c, EDIT, edit(1, approval_id=made_up), "did not approve")
            assert "http" not in message and "approvals/" not in message and "saved values" not in message
        assert len(asked) == 2 and world.edits() == before
        # The CxEngage edit too (deactivation).
        message = await refused(c, "EditCxEngageIntegration", {
            "integration_id": SANDBOX_INTEGRATION_ID, "active": False, "approval_id": "y" * 24},
            "did not approve")
        assert "http" not in message and len(asked) == 3


async def test_an_unknown_approval_id_is_no_such_approval() -> None:
    world = World()
    async with session(world, ConfirmationPolicy.PERSON) as c:  # no elicitation: the page path
        uid, edit = await integration_with_option(c, world)
        await ok(c, EDIT, edit(0))
        before = world.edits()
        message = await refused(c, EDIT, edit(1, approval_id="z" * 24), "no such approval")
        assert "saved values" not in message.split("\n")[0] and world.edits() == before


# --- issue 19 (b): a question waiting for the person holds no lock ---------------------------------------------

async def test_a_write_waiting_for_the_person_does_not_hold_the_target() -> None:
    """While the person thinks, another session edits the same integration; their later approval covers a change
    planned against the old state, so the waiting write is refused honestly and writes nothing."""
    world = World()
    asked, release = anyio.Event(), anyio.Event()

    async def slow_person(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.set()
        await release.wait()
        return ElicitResult(action="accept", content={"approve": True})

    server = world.server(ConfirmationPolicy.PERSON)
    try:
        async with Client(server, mode="legacy", elicitation_callback=answering(world, "accept")) as setup:
            uid, edit = await integration_with_option(setup, world)
            await ok(setup, EDIT, edit(0))
        results: list[Any] = []
        async with Client(server, mode="legacy", elicitation_callback=slow_person) as waiting, \
                Client(server) as other:

            async def wait_for_person() -> None:
                results.append(await waiting.call_tool(EDIT, edit(1)))

            async with anyio.create_task_group() as group:
                group.start_soon(wait_for_person)
                with anyio.fail_after(10):
                    await asked.wait()
                    # The same target, while the question is open: not blocked.
                    await ok(other, EDIT, {"user_third_party_integration_id": uid, "description": "meanwhile"})
                before = world.edits()
                release.set()
        assert results[0].is_error and "changed while the user was deciding" in text(results[0])
        assert world.edits() == before
    finally:
        assert server.secure_forms is not None
        server.secure_forms.close()
