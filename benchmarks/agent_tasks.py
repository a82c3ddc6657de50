"""A scripted agent replaying the canonical tasks on `integrations-mcp serve --sandbox` through a real MCP client over
stdio, printing per task the tool calls made and what the model read (characters and Anthropic-tokenizer tokens).

The agent takes the shortest honest path a good agent would: it reads the ids it needs from the server's answers
(never hard-coded), lets the person type secrets into the secure form (the client opens it: URL elicitation, filled
by `secure_forms/scripted_person.py`) and answers the server's approval questions as the person. The person's
choices for options are the first value offered. Tasks:
  a. tax set-up with credentials and options, enabled and configured (goal <= 5 calls)
  b. change one saved option
  c. create a Zendesk integration with a secret
  d. deactivate it
  e. "what changed this week, and who did it?" (the journal)

Each task is counted as its own conversation: the server's instructions (read first, once per conversation) plus
the text of every answer. Figures, not assertions: `python benchmarks/agent_tasks.py [-v]` (-v prints every
answer's text)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client import ClientRequestContext
from mcp.client.stdio import stdio_client
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tokenizer import count_tokens  # noqa: E402

from integrations_mcp.secure_forms import scripted_person  # noqa: E402

GOALS = {"a": 5}
VERBOSE = "-v" in sys.argv


@dataclass
class Call:
    tool: str
    text: str
    structured: str
    is_error: bool


@dataclass
class Task:
    key: str
    title: str
    calls: list[Call] = field(default_factory=list)
    asked: int = 0  # questions the person answered through the client
    note: str = ""


class Agent:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.task: Task | None = None

    async def call(self, tool: str, arguments: dict[str, Any], *, expect_error: bool = False) -> dict[str, Any]:
        assert self.task is not None
        result = await self.client.call_tool(tool, arguments)
        text = "\n".join(getattr(block, "text", "") for block in result.content)
        self.task.calls.append(Call(tool, text, json.dumps(result.structured_content or {}), result.is_error))
        if VERBOSE:
            print(f"--- {tool} {json.dumps(arguments)[:160]}\n{text}\n")
        if result.is_error != expect_error:
            raise RuntimeError(f"{tool}: {'refused' if result.is_error else 'went through'}: {text[:600]}")
        return result.structured_content or {}


class Person:
    """Types the secrets into the secure form the client opens, approves what the server asks about."""

    def __init__(self) -> None:
        self.agent: Agent | None = None

    async def answer(self, ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if self.agent and self.agent.task:
            self.agent.task.asked += 1
        if isinstance(params, ElicitRequestURLParams):
            await scripted_person.fill_secure_form(params.url)
            return ElicitResult(action="accept")
        return ElicitResult(action="accept", content={"approve": True})


def find(data: Any, key: str) -> Any:
    """The first value of `key` anywhere in an answer (answers may nest it)."""
    if isinstance(data, dict):
        if key in data:
            return data[key]
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            found = find(item, key)
            if found is not None:
                return found
    return None


def value_of(choice: Any) -> str:
    return choice["value"] if isinstance(choice, dict) else choice


def first_choice(readiness: dict[str, Any], option_id: str, field_id: str) -> str | None:
    for choice in readiness.get("choices") or []:
        if choice.get("option_id") == option_id and choice.get("field_id") == field_id and choice.get("values"):
            return value_of(choice["values"][0])
    return None


async def tax_setup(agent: Agent) -> tuple[str, dict[str, Any]]:
    sites = await agent.call("GetSiteThirdPartyIntegrations", {})
    tax = next(s for s in sites["results"] if s.get("integration_type") == "tax")
    form = await agent.call("CreateSecureForm", {"site_third_party_integration_id": tax["id"]})
    created = await agent.call("CreateUserThirdPartyIntegration", {
        "name": "Benchmark tax", "site_third_party_integration": tax["id"], "secure_form_id": form["secure_form_id"]})
    integration_id = find(created, "user_third_party_integration_id")
    readiness = find(created, "readiness")
    if not readiness or not readiness.get("choices"):  # the create answer did not say what is still needed
        view = await agent.call("GetUserThirdPartyIntegration", {"user_third_party_integration_id": integration_id})
        readiness = view["readiness"]
    options = []
    for missing in readiness["missing_options"]:
        fields = [{"id": fid, "value": [first_choice(readiness, missing["option_id"], fid) or "benchmark"]}
                  for fid in missing["field_ids"]]
        options.append({"id": missing["option_id"], "fields": fields})
    # RevCent's guide keeps risky changes apart: the options, then enabling (which the person approves) on its own.
    await agent.call("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": integration_id, "third_party_options": options})
    done = await agent.call("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": integration_id, "enabled": True})
    if find(done, "enabled") is not True:
        raise RuntimeError(f"not enabled after the set-up: {done}")
    return integration_id, readiness


async def change_option(agent: Agent, integration_id: str, readiness: dict[str, Any]) -> None:
    """The person asks to change a select they set during the set-up to its next value."""
    choice = next(c for c in readiness["choices"] if len(c.get("values") or []) >= 2)
    await agent.call("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": integration_id,
        "third_party_options": [{"id": choice["option_id"],
                                 "fields": [{"id": choice["field_id"], "value": [value_of(choice["values"][1])]}]}]})


async def zendesk(agent: Agent) -> str:
    guide = await agent.call("GetIntegrationGuide", {"guide": "cxengage/types", "section": "zendesk"})
    if "endpointPrefix" not in guide.get("text", ""):
        raise RuntimeError("the Zendesk section does not name its properties")
    plain = {"endpointPrefix": "https://bench.zendesk.example/api/v2/", "username": "agent@bench.example"}
    form = await agent.call("CreateCxEngageSecureForm", {"type": "zendesk", "destination": plain})
    created = await agent.call("CreateCxEngageIntegration", {
        "name": "Benchmark desk", "type": "zendesk", "properties": plain, "secure_form_id": form["secure_form_id"],
        "active": True})
    return str(find(created, "integration_id"))


async def deactivate(agent: Agent, integration_id: str) -> None:
    done = await agent.call("EditCxEngageIntegration", {"integration_id": integration_id, "active": False})
    if find(done, "active") is not False:
        raise RuntimeError(f"still active: {done}")


async def this_week(agent: Agent) -> None:
    page = await agent.call("GetIntegrationChanges", {"days": 7})
    if not page.get("results"):
        raise RuntimeError(f"the journal shows nothing: {page}")


async def run() -> tuple[list[Task], str]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH")}
    # A state file of its own (created and migrated by the first write, as a new user's would be), never the user's.
    state = Path(tempfile.mkdtemp(prefix="agent-tasks-")) / "state.sqlite3"
    params = StdioServerParameters(command=sys.executable, args=["-m", "integrations_mcp", "serve", "--sandbox"],
                                   env={**env, "INTEGRATIONS_LOG_LEVEL": "WARNING",
                                        "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{state}"})
    person = Person()
    tasks = [Task("a", "tax set-up: credentials, options, enabled"), Task("b", "change one saved option"),
             Task("c", "create a Zendesk integration with a secret"), Task("d", "deactivate it"),
             Task("e", "what changed this week, and who did it?")]
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), elicitation_callback=person.answer) as client:
            agent = person.agent = Agent(client)
            agent.task = tasks[0]
            integration_id, readiness = await tax_setup(agent)
            agent.task = tasks[1]
            await change_option(agent, integration_id, readiness)
            agent.task = tasks[2]
            cx_id = await zendesk(agent)
            agent.task = tasks[3]
            await deactivate(agent, cx_id)
            agent.task = tasks[4]
            await this_week(agent)
            instructions = client.instructions or ""
    return tasks, instructions


def report(tasks: list[Task], instructions: str) -> None:
    print(f"instructions (read first in every conversation): {len(instructions)} characters\n")
    calls = [c for t in tasks for c in t.calls]
    counts = count_tokens([c.text for c in calls] + [c.structured for c in calls])
    text_tokens = dict(zip(map(id, calls), counts[:len(calls)], strict=True))
    structured_tokens = dict(zip(map(id, calls), counts[len(calls):], strict=True))
    print(f"{'task':<48}{'calls':>6}{'goal':>6}{'asked':>6}{'text chars':>11}{'tokens':>7}{'structured':>11}"
          f"{'tokens':>7}{'read':>7}")
    for t in tasks:
        goal = GOALS.get(t.key)
        print(f"{t.key + '. ' + t.title:<48}{len(t.calls):>6}{('≤' + str(goal)) if goal else '—':>6}{t.asked:>6}"
              f"{sum(len(c.text) for c in t.calls):>11}{sum(text_tokens[id(c)] for c in t.calls):>7}"
              f"{sum(len(c.structured) for c in t.calls):>11}{sum(structured_tokens[id(c)] for c in t.calls):>7}"
              f"{len(instructions) + sum(len(c.text) for c in t.calls):>7}")
    print(f"\n{'call':<48}{'text chars':>11}{'tokens':>7}{'structured':>11}{'tokens':>7}")
    for t in tasks:
        for c in t.calls:
            print(f"{t.key}. {c.tool:<45}{len(c.text):>11}{text_tokens[id(c)]:>7}{len(c.structured):>11}"
                  f"{structured_tokens[id(c)]:>7}")
    print("\n'read': the instructions plus every answer's text, characters (the goal: at most 3,000 a task).")
    print("'text' is the answer's text content (what most clients show the model); 'structured' its "
          "structuredContent. 'asked': questions the person answered through the client (form, approvals).")


def main() -> None:
    report(*anyio.run(run))


if __name__ == "__main__":
    main()
