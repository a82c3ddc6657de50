"""`integrations-mcp demo`: the whole RevCent and CxEngage set-up on the sandbox, through a real MCP client over stdio.

The demo plays both the agent (tool calls) and the person: who types credentials into the secure form in a browser,
approves or declines risky changes when the client asks them (elicitation), and, for a client that cannot ask,
approves on the one-time approval page. Every step states what it expects; any other behaviour makes it fail.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client import ClientRequestContext
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.secure_forms import scripted_person

__all__ = ["run_demo"]


class DemoFailure(Exception):
    pass


async def fill_secure_form(form_url: str, values: dict[str, str] | None = None) -> str:
    """The person's part: open the page, type the values, press Save (with the headers a browser sends)."""
    try:
        return await scripted_person.fill_secure_form(form_url, values)
    except RuntimeError as exc:
        raise DemoFailure(str(exc)) from None


class _Person:
    """The person at the client: answers what the server asks through the client, as planned by each step."""

    def __init__(self) -> None:
        self._planned: list[bool] = []

    def plan(self, *, approve: bool) -> None:
        self._planned.append(approve)

    async def answer(self, ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            print(f"    the client shows the person a link and opens it with their consent: {params.url}")
            await fill_secure_form(params.url)
            print("    the person typed the values into the page and pressed Save")
            return ElicitResult(action="accept")
        if not self._planned:
            raise DemoFailure(f"the server asked the person something unexpected: {params.message}")
        approve = self._planned.pop(0)
        print("    the client shows the person the server's question:")
        for line in params.message.splitlines():
            print(f"      > {line}")
        print(f"    the person {'approves' if approve else 'declines'}")
        return ElicitResult(action="accept", content={"approve": True}) if approve else ElicitResult(action="decline")


class _Steps:
    def __init__(self, client: Client, person: _Person, number: int = 0) -> None:
        self.client, self.person = client, person
        self.number = number

    def say(self, title: str) -> None:
        self.number += 1
        print(f"\n{self.number:>2}. {title}", flush=True)

    async def ok(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        if result.is_error:
            raise DemoFailure(f"{tool} was refused but should have worked: {_text(result)}")
        return result.structured_content or {}

    async def refused(self, tool: str, args: dict[str, Any], expect: str) -> str:
        result = await self.client.call_tool(tool, args)
        if not result.is_error:
            raise DemoFailure(f"{tool} went through but should have been refused")
        message = _text(result)
        if expect not in message:
            raise DemoFailure(f"{tool} was refused for another reason than {expect!r}: {message}")
        print("    refused, as it should be:")
        for line in message.splitlines():
            print(f"      | {line}")
        return message


def _text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def _pick_overwrite_field(site: dict[str, Any]) -> tuple[str, str, list[str]]:
    """A static single-select field with two or more values, preferring optional options."""
    candidates = []
    for option in site["third_party_options"]:
        for field in option["fields"]:
            settings = field.get("select_settings") or {}
            if field["field_type"] == "select" and not settings.get("third_party_asset") \
                    and not settings.get("multiple") and len(settings.get("options", [])) >= 2:
                candidates.append((option["required"], option["id"], field["id"], settings["options"]))
    if not candidates:
        raise DemoFailure("the sandbox tax integration has no static select to demonstrate overwrites with")
    _, option_id, field_id, values = sorted(candidates, key=lambda c: c[0])[0]
    return option_id, field_id, values


async def _revcent_flow(s: _Steps) -> None:
    print("\n== RevCent: connect a tax provider ==")
    s.say("List the native integrations RevCent offers (GetSiteThirdPartyIntegrations)")
    sites = (await s.ok("GetSiteThirdPartyIntegrations", {}))["results"]
    for site in sites:
        print(f"    - {site['name']} [{site['integration_type']}] {site['id']}")
    tax = next((x for x in sites if x["integration_type"] == "tax"), None)
    if tax is None:
        raise DemoFailure("no tax integration in the sandbox")

    s.say(f"Read the chosen one, {tax['name']} (GetSiteThirdPartyIntegration)")
    site = await s.ok("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": tax["id"]})
    creds = site.get("third_party_credentials") or {}
    print(f"    credential fields: {', '.join(f['id'] for f in creds.get('fields', []))}")
    labels = [o["id"] + (" (required)" if o["required"] else "") for o in site["third_party_options"]]
    print(f"    options: {', '.join(labels)}")

    s.say("Try to pass credentials in chat: refused before anything reaches RevCent")
    await s.refused("CreateUserThirdPartyIntegration", {
        "name": "Demo tax", "site_third_party_integration": tax["id"],
        "third_party_credentials": {"id": creds.get("id", "x"), "fields": [{"id": "api_key", "value": "hunter2"}]},
    }, "CreateSecureForm")

    s.say("Create a secure form: the client opens it for the person, who types the credentials there")
    form = await s.ok("CreateSecureForm", {"site_third_party_integration_id": tax["id"]})
    if form["form_url"] is not None or not form["completed"]:
        raise DemoFailure(f"the form should have been opened by the client and completed: {form}")
    print("    completed; the form's link never reached the agent (form_url is null)")

    s.say("Create the integration with secure_form_id (CreateUserThirdPartyIntegration)")
    created = await s.ok("CreateUserThirdPartyIntegration", {
        "name": "Demo tax (sandbox)", "site_third_party_integration": tax["id"],
        "secure_form_id": form["secure_form_id"], "description": "Created by integrations-mcp demo"})
    integration_id = created["user_third_party_integration_id"]
    if created["mismatches"]:
        raise DemoFailure(f"read-back mismatches after create: {created['mismatches']}")
    print(f"    created {integration_id}; verified by reading it back")
    await _revcent_options(s, site, integration_id)


async def _revcent_options(s: _Steps, site: dict[str, Any], integration_id: str) -> None:
    s.say("Read it back with readiness (GetUserThirdPartyIntegration)")
    view = await s.ok("GetUserThirdPartyIntegration", {"user_third_party_integration_id": integration_id})
    readiness = view["readiness"]
    print(f"    credentials saved: {readiness['credentials_saved']}; can enable: {readiness['can_enable']}")
    for choice in readiness["choices"]:
        print(f"    choices for {choice['option_id']}.{choice['field_id']} ({choice['source']}): "
              f"{', '.join(v['label'] for v in choice['values'])}")

    option_id, field_id, values = _pick_overwrite_field(site)
    s.say(f"First set-up: fill the empty option {option_id}.{field_id} = {values[0]} (no confirmation needed)")
    await s.ok("EditUserThirdPartyIntegration", {"user_third_party_integration_id": integration_id,
               "third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": [values[0]]}]}]})

    change = {"user_third_party_integration_id": integration_id,
              "third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": [values[1]]}]}]}
    s.say(f"Change the saved {option_id}.{field_id} to {values[1]}: the server asks the person, who approves")
    s.person.plan(approve=True)
    edited = await s.ok("EditUserThirdPartyIntegration", change)
    saved = {(o["id"], f["id"]): f["value"] for o in edited["verified"]["integration"]["third_party_options_saved"]
             for f in o["fields"]}
    if edited["mismatches"] or saved.get((option_id, field_id)) != [values[1]]:
        raise DemoFailure(f"the verified state does not show the change: {edited['mismatches']}")
    print(f"    verified: {option_id}.{field_id} = {saved[(option_id, field_id)]}")
    await _revcent_enable(s, integration_id)


async def _revcent_enable(s: _Steps, integration_id: str) -> None:
    s.say("Enable it while required options are still missing")
    enable = {"user_third_party_integration_id": integration_id, "enabled": True}
    await s.refused("EditUserThirdPartyIntegration", enable, "incomplete")

    s.say("The user chooses the required option values from the account's assets")
    view = await s.ok("GetUserThirdPartyIntegration", {"user_third_party_integration_id": integration_id})
    choices = {(c["option_id"], c["field_id"]): c for c in view["readiness"]["choices"]}
    options: list[dict[str, Any]] = []
    for missing in view["readiness"]["missing_options"]:
        fields = []
        for fid in missing["field_ids"]:
            choice = choices.get((missing["option_id"], fid))
            value = choice["values"][0]["value"] if choice and choice["values"] else "demo-value"
            fields.append({"id": fid, "value": [value]})
            print(f"    {missing['option_id']}.{fid} = {value}")
        options.append({"id": missing["option_id"], "fields": fields})
    done = await s.ok("EditUserThirdPartyIntegration", {"user_third_party_integration_id": integration_id,
                                                         "third_party_options": options})
    if not done["verified"]["readiness"]["can_enable"]:
        raise DemoFailure(f"still incomplete: {done['verified']['readiness']['blockers']}")

    s.say("Enable it now that it is complete: it goes live, so the server asks the person, who approves")
    s.person.plan(approve=True)
    enabled = await s.ok("EditUserThirdPartyIntegration", enable)
    if enabled["verified"]["integration"]["enabled"] is not True:
        raise DemoFailure("the read-back does not show it enabled")
    print("    enabled; verified by reading it back")


async def _cxengage_flow(s: _Steps) -> None:
    print("\n== CxEngage: create a Zendesk integration (sandbox tenant pinned) ==")
    s.say("List the tenant's integrations (GetCxEngageIntegrations)")
    listed = await s.ok("GetCxEngageIntegrations", {})
    for item in listed["results"]:
        print(f"    - {item['name']} [{item['type']}] active={item['active']}")

    plain = {"endpointPrefix": "https://demo-desk.zendesk.example/api/v2", "username": "agent@demo.example"}
    s.say("Try to put the Zendesk password in the arguments: refused, nothing sent")
    await s.refused("CreateCxEngageIntegration", {"name": "Demo desk", "type": "Zendesk",
                                                  "properties": {**plain, "password": "hunter2"}},
                    "CreateCxEngageSecureForm")

    s.say("Create the server's own one-time secure form for this API URI and user: the client opens it, the person "
          "sees where the password will be used and types it")
    form = await s.ok("CreateCxEngageSecureForm", {"type": "Zendesk", "destination": plain})
    if form["form_url"] is not None:
        raise DemoFailure("the form should have been opened by the client, its link kept from the agent")
    print(f"    saved (fields: {', '.join(form['fields'])}); the link never reached the agent")

    s.say("Create the integration with secure_form_id (CreateCxEngageIntegration)")
    created = await s.ok("CreateCxEngageIntegration", {"name": "Demo desk (sandbox)", "type": "Zendesk",
                                                       "properties": plain, "secure_form_id": form["secure_form_id"]})
    shown = created["verified"]["integration"]["properties"]
    if created["mismatches"] or shown.get("password") != "[redacted]":
        raise DemoFailure(f"unexpected read-back: {created['mismatches']} {shown}")
    integration_id = created["integration_id"]
    print(f"    created {integration_id}; read back with password {shown['password']}")

    s.say("Reuse the spent secure form for a second integration: refused (a form works once)")
    await s.refused("CreateCxEngageIntegration", {"name": "Demo desk 2", "type": "Zendesk", "properties": plain,
                                                  "secure_form_id": form["secure_form_id"]}, "already used")

    change = {"integration_id": integration_id,
              "properties": {"endpointPrefix": "https://demo-desk-eu.zendesk.example/api/v2"}}
    s.say("Change the saved endpointPrefix: the server asks the person, who approves")
    s.person.plan(approve=True)
    edited = await s.ok("EditCxEngageIntegration", change)
    if edited["mismatches"]:
        raise DemoFailure(f"read-back mismatches: {edited['mismatches']}")
    print(f"    verified: endpointPrefix = {edited['verified']['integration']['properties']['endpointPrefix']}")

    s.say("Activate it (complete: every required property is set)")
    active = await s.ok("EditCxEngageIntegration", {"integration_id": integration_id, "active": True})
    if active["verified"]["integration"]["active"] is not True:
        raise DemoFailure("the read-back does not show it active")
    print("    active; verified by reading it back")

    s.say("Deactivate it: the server asks the person, who declines; nothing is written")
    s.person.plan(approve=False)
    await s.refused("EditCxEngageIntegration", {"integration_id": integration_id, "active": False},
                    "did not approve")


async def _approval_page_flow(s: _Steps) -> None:
    print("\n== A client that cannot ask the person (no elicitation, e.g. Claude Desktop): the approval page ==")
    listed = await s.ok("GetCxEngageIntegrations", {})
    target = next((i for i in listed["results"] if i["active"]), None)
    if target is None:
        raise DemoFailure("the sandbox tenant has no active integration to deactivate")
    s.say(f"Deactivate {target['name']!r}: refused with a one-time approval link for the person")
    message = await s.refused("EditCxEngageIntegration", {"integration_id": target["id"], "active": False},
                              "approval_id=")
    url, approval_id = _approval_link(message)
    s.say("The person opens the link in their browser, sees exactly the change, and approves it")
    await scripted_person.decide_approval(url, approve=True)
    s.say("The agent calls again with approval_id: exactly the approved change is written and verified")
    done = await s.ok("EditCxEngageIntegration", {"integration_id": target["id"], "active": False,
                                                  "approval_id": approval_id})
    if done["mismatches"] or done["verified"]["integration"]["active"] is not False:
        raise DemoFailure(f"the read-back does not show it inactive: {done['mismatches']}")
    print("    inactive; verified by reading it back")


def _approval_link(message: str) -> tuple[str, str]:
    url = re.search(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", message)
    approval = re.search(r"approval_id=([A-Za-z0-9_-]+)", message)
    if not (url and approval):
        raise DemoFailure(f"the refusal has no approval link: {message}")
    return url.group(1), approval.group(1)


async def _run() -> None:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "integrations_mcp", "serve", "--sandbox"],
                                   env=env)
    person = _Person()
    with tempfile.TemporaryFile("w+") as errlog:
        try:
            # A client that asks the person when the server needs them (it declares elicitation).
            async with Client(stdio_client(params, errlog=errlog), elicitation_callback=person.answer) as client:
                print("Connected to `integrations-mcp serve --sandbox` over stdio (a client that can ask the person).")
                steps = _Steps(client, person)
                await _revcent_flow(steps)
                await _cxengage_flow(steps)
            async with Client(stdio_client(params, errlog=errlog)) as client:
                await _approval_page_flow(_Steps(client, person, number=steps.number))
        except BaseException:
            errlog.seek(0)
            tail = errlog.read()[-2000:]
            if tail:
                print("\n--- server stderr (tail) ---\n" + tail, file=sys.stderr)
            raise


def run_demo() -> int:
    failures: list[DemoFailure] = []
    try:
        anyio.run(_run)
    except* DemoFailure as group:  # the MCP client's task groups wrap what the flow raised
        failures += [e for e in _leaves(group) if isinstance(e, DemoFailure)]
    if failures:
        print(f"\nDEMO FAILED: {failures[0]}", file=sys.stderr)
        return 1
    print("\nDemo complete: every step behaved as expected.")
    return 0


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for e in error.exceptions for leaf in _leaves(e)]
    return [error]
