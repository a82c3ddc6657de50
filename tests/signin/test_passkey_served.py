"""Passkeys end to end, as deployed (issue 18, item 4): the operator's `integrations-mcp approvers enrol` makes the
links, people enrol in Chromium (virtual authenticators), the server runs as a subprocess and the agent talks to it
through a real MCP client. Over streamable HTTP with static tokens: the principal who asked approves with their
passkey and the journal names them; another enrolled person, an agent with a shell (the link, no passkey) and a
header-less POST approve nothing. Under stdio (opt-in): the page listener's links say localhost, the decision
needs the passkey too, and a client that could answer yes itself is handed the page for the person instead (URL
elicitation: the link never reaches the model) while the call waits for the signed-in decision."""

from __future__ import annotations

import getpass
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID
from tests.browser import needs_chromium
from tests.harness import STARTUP_SECONDS, Transcript, clean_env, free_port, serve_process, serve_stdio
from tests.signin.passkey_browser import chromium, enrol_in_browser, person_with_authenticator, press

pytestmark = [pytest.mark.anyio, pytest.mark.slow, needs_chromium]

BOUND = STARTUP_SECONDS + 90
EDIT_CX = "EditCxEngageIntegration"
DEACTIVATE = {"integration_id": SANDBOX_INTEGRATION_ID, "active": False}
DANA, ERIN = "dana-token-0123456789abcdefghij", "erin-token-0123456789abcdefghij"
STATE_KEY = "passkey-test-state-key-0123456789abcdef"
APPROVED = "Approved — return to your assistant"


def enrolment_link(env: dict[str, str], *args: str) -> str:
    """`integrations-mcp approvers enrol --no-serve ...` as the operator runs it; the link it prints."""
    done = subprocess.run([sys.executable, "-m", "integrations_mcp", "approvers", "enrol", "--no-serve", *args],
                          env=clean_env(**env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return re.search(r"(http://\S+/signin/passkey/enrol/\S+)", done.stdout)[1]


@contextmanager
def serving_enrolment(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`integrations-mcp approvers enrol ...` under stdio: the command serves the page itself; (link, process)."""
    proc = subprocess.Popen([sys.executable, "-m", "integrations_mcp", "approvers", "enrol", *args],
                            env=clean_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not (found := re.search(r"(http://\S+/signin/passkey/enrol/\S+)", "".join(lines))):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        yield found[1], proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)


async def active(t: Transcript) -> bool:
    return (await t.ok("GetCxEngageIntegration", integration_id=SANDBOX_INTEGRATION_ID))["integration"]["active"]


def link_and_id(message: str) -> tuple[str, str]:
    return (re.search(r"(https?://\S+/approvals/[A-Za-z0-9_-]+)", message)[1],
            re.search(r"approval_id=([A-Za-z0-9_-]+)", message)[1])


async def shell_agent_cannot_approve(url: str) -> None:
    """What an agent with a shell can do with the link: read the page, post the decision bare or with the
    browser's headers forged; without the person's passkey none counts."""
    async with httpx2.AsyncClient(timeout=10) as shell:
        page = (await shell.get(url)).text
        assert 'data-passkey="get"' in page
        csrf = re.search(r'name="_csrf" value="([^"]*)"', page)[1]
        form = {"_csrf": csrf, "decision": "approve"}
        assert (await shell.post(url, data=form)).status_code == 403  # header-less
        origin = re.match(r"https?://[^/]+", url)[0]
        forged = {"origin": origin, "sec-fetch-site": "same-origin",
                  "content-type": "application/x-www-form-urlencoded"}
        assert (await shell.post(url, content=urlencode(form), headers=forged)).status_code == 401


async def test_http_with_static_tokens_the_requester_approves_with_a_passkey(tmp_path: Path) -> None:
    port = free_port()
    tokens = tmp_path / "tokens"
    tokens.write_text(f"dana {DANA}\nerin {ERIN}\n")
    env = {"INTEGRATIONS_AUTH_TOKENS_FILE": str(tokens), "INTEGRATIONS_SIGNIN": "passkey",
           "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}",
           "INTEGRATIONS_STATE_KEY": STATE_KEY}
    operator = {**env, "INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_PORT": str(port)}
    dana_link = enrolment_link(operator, "--subject", "dana", "--name", "Dana")
    erin_link = enrolment_link(operator, "--subject", "erin", "--name", "Erin")
    assert dana_link.startswith(f"http://localhost:{port}/")
    with anyio.fail_after(BOUND), serve_process("--sandbox", env=env, port=port) as served:
        async with httpx2.AsyncClient(headers={"authorization": f"Bearer {DANA}"}, timeout=30) as http, \
                Client(streamable_http_client(served.url, http_client=http)) as client:
            t = Transcript(client=client)
            message = await t.refused(EDIT_CX, "needs the user's approval", "sign in", **DEACTIVATE)
            url, approval_id = link_and_id(message)
            assert url.startswith(f"http://localhost:{port}/")
            await shell_agent_cannot_approve(url)
            await t.refused(EDIT_CX, "not approved this change yet", **DEACTIVATE, approval_id=approval_id)
            async with chromium() as browser:
                dana, _ = await person_with_authenticator(browser)
                erin, _ = await person_with_authenticator(browser)
                await enrol_in_browser(dana, dana_link)
                await enrol_in_browser(erin, erin_link)
                assert await press(erin, "Approve", url=url) != APPROVED  # neither asked nor holds the role
                assert "may not decide" in await erin.locator("p[role=alert]").first.text_content()
                await t.refused(EDIT_CX, "not approved this change yet", **DEACTIVATE, approval_id=approval_id)
                assert await active(t) is True
                assert await press(dana, "Approve", url=url) == APPROVED
            done = await t.ok(EDIT_CX, DEACTIVATE, approval_id=approval_id)
            assert done["mismatches"] == [] and await active(t) is False
            newest = (await t.ok("GetIntegrationChanges", limit=5))["results"][0]
            assert newest["approved"].startswith("dana on the approval page") and "passkey" in newest["approved"]


async def test_stdio_opt_in_links_say_localhost_and_the_decision_needs_the_passkey(tmp_path: Path) -> None:
    env = {"INTEGRATIONS_SIGNIN": "passkey", "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{tmp_path / 's.db'}"}
    with anyio.fail_after(BOUND):
        async with chromium() as browser:
            person, _ = await person_with_authenticator(browser)
            # stdio: no server is running, so the operator's command serves the enrolment page until it is used.
            with serving_enrolment(env, "--subject", f"os:{getpass.getuser()}", "--name", "Me") as (link, command):
                assert link.startswith("http://localhost:")
                await enrol_in_browser(person, link)
                assert await anyio.to_thread.run_sync(command.wait, 30) == 0
                assert "Passkey saved for Me" in command.stdout.read()
            asked: list[ElicitRequestParams] = []

            async def person_decides(url: str) -> None:
                assert url.startswith("http://localhost:")  # a passkey is made for a domain, never 127.0.0.1
                await shell_agent_cannot_approve(url)
                assert await press(person, "Approve", url=url) == APPROVED

            async def opens_links(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
                # The client declares form and URL elicitation; with passkeys on, it is handed the page for the
                # person (never asked in a form: its own yes would prove no one), and the person decides there.
                asked.append(params)
                if isinstance(params, ElicitRequestURLParams):
                    group.start_soon(person_decides, params.url)
                    return ElicitResult(action="accept")
                return ElicitResult(action="accept", content={"approve": True})

            async with anyio.create_task_group() as group, serve_stdio(
                    "--sandbox", env={**env, "INTEGRATIONS_FORM_WAIT_SECONDS": "60"},
                    elicitation_callback=opens_links) as t:
                done = await t.ok(EDIT_CX, DEACTIVATE)  # waits while the person signs in on the page and approves
                assert await active(t) is False and done["mismatches"] == []
                assert len(asked) == 1 and isinstance(asked[0], ElicitRequestURLParams)
                page_id = asked[0].url.rsplit("/", 1)[1]
                assert all(page_id not in seen and "/approvals/" not in seen for seen in t.seen)  # the model's view
                newest = (await t.ok("GetIntegrationChanges", limit=5))["results"][0]
                assert newest["approved"].startswith(f"os:{getpass.getuser()} on the approval page")
