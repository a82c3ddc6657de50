"""How many tool calls an agent needs when the person must take part (issue 9), with and without elicitation:

- "change a saved option": RevCent, replace the value an option already holds (a risky change the person approves).
- "create with credentials": RevCent, the person types the credentials into the secure form, then the create.

Each task is played against an in-process server on the sandbox (the emulators on loopback ports, as
`serve --sandbox` runs them), by the same agent logic for every client: call the tool and follow what the result
says (give the approval link or the form_url to the person, or, under policy `model`, show the change and send the
confirmation_id back). The person approves everything, through the client when it asks them (elicitation), on the
approval page, or in chat. Only the agent's tool calls are counted (on 2026-07-28 the client's SDK also resends a
call once per question it answered; the agent does not see that). Figures, not assertions:
`python benchmarks/confirmations.py`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms import scripted_person
from integrations_mcp.server.app import build_server
from integrations_mcp.server.sandbox import sandbox
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS

EDIT = "EditUserThirdPartyIntegration"
TAX = SITE_IDS["tax"]
OPTION, FIELD, BEFORE, AFTER = "tax_settings", "commit_transactions", "yes", "no"  # an optional static select


MODERN, LEGACY = "2026-07-28", "2025-11-25"


@dataclass(frozen=True)
class Setup:
    label: str
    policy: ConfirmationPolicy
    protocol: str  # the protocol version the client negotiates (legacy: the initialize handshake)
    elicits: bool = False  # the client declares elicitation (form and URL) and lets the person answer


SETUPS = [
    Setup(f"elicitation, {LEGACY} session", ConfirmationPolicy.PERSON, LEGACY, elicits=True),
    Setup(f"elicitation, {MODERN}", ConfirmationPolicy.PERSON, MODERN, elicits=True),
    Setup("no elicitation", ConfirmationPolicy.PERSON, MODERN),
    Setup("no elicitation, policy model", ConfirmationPolicy.MODEL, MODERN),
]


@dataclass
class Person:
    """Approves every change and fills every form, wherever they are asked; `did` lists how, in order."""

    did: list[str] = field(default_factory=list)

    async def answer(self, ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            await scripted_person.fill_secure_form(params.url)
            self.did.append("fills the form the client opened")
            return ElicitResult(action="accept")
        self.did.append("approves in the client")
        return ElicitResult(action="accept", content={"approve": True})

    async def fill(self, form_url: str) -> None:
        await scripted_person.fill_secure_form(form_url)
        self.did.append("fills form_url from chat")

    async def approve_on_page(self, url: str) -> None:
        await scripted_person.decide_approval(url, approve=True)
        self.did.append("approves on the page")

    def agree_in_chat(self) -> None:
        self.did.append("agrees in chat")


@dataclass
class Agent:
    """Calls tools and does what their results say; `calls` counts its tool calls."""

    client: Client
    person: Person
    calls: int = 0

    async def call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        self.calls += 1
        return await self.client.call_tool(tool, args)

    async def ok(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.call(tool, args)
        assert not result.is_error and result.structured_content is not None, _text(result)
        return result.structured_content

    async def write(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """A write that may need the person: follow the refusal's instructions once, then it must succeed."""
        result = await self.call(tool, args)
        if result.is_error:
            message = _text(result)
            if approval := _found(r"approval_id=([A-Za-z0-9_-]+)", message):
                await self.person.approve_on_page(_found(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", message))
                result = await self.call(tool, {**args, "approval_id": approval})
            elif confirmation := _found(r"confirmation_id=([A-Za-z0-9_-]+)", message):
                self.person.agree_in_chat()
                flags = dict.fromkeys(re.findall(r"(confirm_\w+)=true", message), True)
                result = await self.call(tool, {**args, **flags, "confirmation_id": confirmation})
        assert not result.is_error and result.structured_content is not None, _text(result)
        return result.structured_content


async def create_with_credentials(agent: Agent) -> str:
    form = await agent.ok("CreateSecureForm", {"site_third_party_integration_id": TAX})
    if not form["completed"]:  # the client could not open it: the agent gives form_url to the person
        await agent.person.fill(form["form_url"])
        form = await agent.ok("GetSecureForm", {"secure_form_id": form["secure_form_id"]})
        assert form["completed"], form
    created = await agent.ok("CreateUserThirdPartyIntegration", {
        "name": "Benchmark tax", "site_third_party_integration": TAX, "secure_form_id": form["secure_form_id"]})
    return created["user_third_party_integration_id"]


def set_option(integration_id: str, value: str) -> dict[str, Any]:
    return {"user_third_party_integration_id": integration_id,
            "third_party_options": [{"id": OPTION, "fields": [{"id": FIELD, "value": [value]}]}]}


async def play(setup: Setup) -> dict[str, tuple[int, list[str]]]:
    """Both tasks for one client set-up: task -> (tool calls, what the person did)."""
    counted: dict[str, tuple[int, list[str]]] = {}
    with sandbox(Settings(confirmation=setup.policy, form_wait_seconds=10)) as (settings, _):
        server = build_server(settings)
        person = Person()
        extra = {"elicitation_callback": person.answer} if setup.elicits else {}
        try:
            async with Client(server, mode="legacy" if setup.protocol == LEGACY else "auto", **extra) as client:
                assert client.protocol_version == setup.protocol, client.protocol_version
                agent = Agent(client, person)
                integration_id = await create_with_credentials(agent)
                counted["create with credentials"] = (agent.calls, person.did)
                await agent.write(EDIT, set_option(integration_id, BEFORE))  # first fill: nothing to confirm
                agent.calls, person.did = 0, []
                await agent.write(EDIT, set_option(integration_id, AFTER))
                counted["change a saved option"] = (agent.calls, person.did)
        finally:
            if server.secure_forms is not None:
                server.secure_forms.close()
    return counted


async def main() -> None:
    logging.disable(logging.INFO)  # the server's and the HTTP client's per-request lines; warnings still show
    results = {setup.label: await play(setup) for setup in SETUPS}
    print(f"{'task':<24}{'client':<34}{'tool calls':>10}  the person")
    for task in ("change a saved option", "create with credentials"):
        for label, counted in results.items():
            calls, did = counted[task]
            print(f"{task:<24}{label:<34}{calls:>10}  {', then '.join(did)}")


def _text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def _found(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


if __name__ == "__main__":
    anyio.run(main)
