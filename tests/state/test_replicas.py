"""Two `integrations-mcp serve --transport http` replicas on one real PostgreSQL, in front of one RevCent emulator
(started here; both replicas reach it by REVCENT_BASE_URL, as they would reach RevCent): what one replica records,
the other sees, and a restart loses nothing."""

from __future__ import annotations

import re
import secrets
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from mcp import Client

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import decide_approval, fill_secure_form
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_KEY as CX_KEY
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_SECRET as CX_SECRET
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID as CX_TENANT
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY
from tests.harness import DESTINATIONS, TOKEN, revcent_emulator, serve_http, text_of
from tests.state.postgres import PostgresServer
from tests.vendors.revcent.helpers import credential_values, revcent_form_id, static_single_select

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def call(url: str, tool: str, **arguments: Any) -> tuple[bool, dict[str, Any] | None, str]:
    """(ok, structured result, text) of one tool call through a fresh client of that replica."""
    async with Client(url) as client:
        result = await client.call_tool(tool, arguments)
    return not result.is_error, result.structured_content, text_of(result)


async def ok(url: str, tool: str, **arguments: Any) -> dict[str, Any]:
    done, structured, text = await call(url, tool, **arguments)
    assert done and structured is not None, text
    return structured


async def refused(url: str, tool: str, needle: str, **arguments: Any) -> str:
    done, _, text = await call(url, tool, **arguments)
    assert not done and needle in text, text
    return text


def option_edit(uid: str, option: str, field: str, value: str, **more: Any) -> dict[str, Any]:
    return {"user_third_party_integration_id": uid, **more,
            "third_party_options": [{"id": option, "fields": [{"id": field, "value": [value]}]}]}


async def test_two_replicas_share_forms_approvals_locks_and_the_journal(postgres_server: PostgresServer) -> None:
    emu = revcent_emulator()
    option, field, values = static_single_select(emu)
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_loopback(emu.app))
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "REVCENT_CREDENTIALS_VIA": "revcent-form",  # RevCent-hosted forms: the spent-form table is shared
               "INTEGRATIONS_STATE_URL": await postgres_server.new_database(),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32), "INTEGRATIONS_CONFIRMATION": "model"}
        a, b = stack.enter_context(serve_http(env=env)), stack.enter_context(serve_http(env=env))
        assert a != b

        # A form created through A is used once through B, and refused on A afterwards.
        form = await ok(a, "CreateSecureForm", site_third_party_integration_id=emu.site_id("tax"))
        form_id = form["secure_form_id"]
        emu.complete_secure_form(revcent_form_id(form), credential_values(emu, "tax"))
        uid = (await ok(b, "CreateUserThirdPartyIntegration", name="Tax", secure_form_id=form_id,
                        site_third_party_integration=emu.site_id("tax")))["user_third_party_integration_id"]
        await refused(a, "CreateUserThirdPartyIntegration", "already used", name="Tax 2", secure_form_id=form_id,
                      site_third_party_integration=emu.site_id("tax"))

        # A confirmation given through A is consumed on B (once: tests/state/test_postgres.py).
        await ok(a, "EditUserThirdPartyIntegration", **option_edit(uid, option, field, values[0]))
        change = option_edit(uid, option, field, values[1], confirm_overwrite=True)
        token = TOKEN.search(await refused(a, "EditUserThirdPartyIntegration", "confirmation_id", **change)).group(1)
        await ok(b, "EditUserThirdPartyIntegration", **change, confirmation_id=token)

        # Parallel edits through A and B are serialised: the second is planned against the first one's write, so
        # it replaces a saved value and needs confirming (unserialised, both would write, one silently lost).
        other = (await ok(a, "CreateUserThirdPartyIntegration", name="Par",
                          site_third_party_integration=emu.site_id("tax")))["user_third_party_integration_id"]
        emu.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{other}", method="POST", delay=1.0,
                          times=2)
        outcomes: list[tuple[bool, str]] = []

        async def edit(url: str, value: str) -> None:
            done, _, text = await call(url, "EditUserThirdPartyIntegration",
                                       **option_edit(other, option, field, value))
            outcomes.append((done, text))

        async with anyio.create_task_group() as tg:
            tg.start_soon(edit, a, values[0])
            tg.start_soon(edit, b, values[1])
        assert sorted(done for done, _ in outcomes) == [False, True], outcomes
        assert "confirm_overwrite" in next(text for done, text in outcomes if not done)

        # The journal shows every change, through either replica, with its principal.
        journal_a = await ok(a, "GetIntegrationChanges", limit=50)
        journal_b = await ok(b, "GetIntegrationChanges", limit=50)
        assert journal_a == journal_b
        rows = journal_a["results"]
        assert [r["outcome"] for r in rows if r["outcome"].startswith("written")] == ["written and verified"] * 5
        assert len({r["principal"] for r in rows}) == 1 and rows[0]["principal"].startswith("session:")

        # A restart loses nothing: the spent form, the journal, a confirmation issued before it.
        back = option_edit(uid, option, field, values[0], confirm_overwrite=True)
        token = TOKEN.search(await refused(b, "EditUserThirdPartyIntegration", "confirmation_id", **back)).group(1)
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_loopback(emu.app))
        env["REVCENT_BASE_URL"] = vendor.url + "/v2"
        restarted = stack.enter_context(serve_http(env=env))
        await refused(restarted, "CreateUserThirdPartyIntegration", "already used", name="Tax 3",
                      secure_form_id=form_id, site_third_party_integration=emu.site_id("tax"))
        assert (await ok(restarted, "GetIntegrationChanges", limit=50))["total"] == journal_a["total"] + 2
        await ok(restarted, "EditUserThirdPartyIntegration", confirmation_id=token, **back)


async def test_the_persons_pages_work_on_any_replica(postgres_server: PostgresServer) -> None:
    """Policy `person`, CxEngage: the server's own secure form made through A is filled on B's page and used once
    through B; an approval asked for through A is approved on B's page and consumed through A."""
    emu = CxEngageEmulator()
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_loopback(emu.app))
        env = {"CXENGAGE_API_KEY": CX_KEY, "CXENGAGE_API_SECRET": CX_SECRET, "CXENGAGE_BASE_URL": vendor.url,
               "CXENGAGE_TENANT_ID": CX_TENANT, "INTEGRATIONS_STATE_URL": await postgres_server.new_database(),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32)}
        a, b = stack.enter_context(serve_http(env=env)), stack.enter_context(serve_http(env=env))

        def on(url: str, link: str) -> str:  # the same page, reached through the other replica
            return url.removesuffix("/mcp") + link[link.index("/", len("http://")):]

        form = await ok(a, "CreateCxEngageSecureForm", type="zendesk", destination=DESTINATIONS["zendesk"])
        await fill_secure_form(on(b, form["form_url"]), {"password": "CANARY-replica-pw"})
        created = await ok(b, "CreateCxEngageIntegration", name="Desk", type="zendesk",
                           properties=DESTINATIONS["zendesk"], secure_form_id=form["secure_form_id"])
        assert emu.writes()[-1].json()["properties"]["password"] == "CANARY-replica-pw"
        await refused(a, "CreateCxEngageIntegration", "already used", name="Desk 2", type="zendesk",
                      properties=DESTINATIONS["zendesk"], secure_form_id=form["secure_form_id"])

        change = {"integration_id": created["integration_id"], "properties": {"username": "other@example.invalid"}}
        asked = await refused(a, "EditCxEngageIntegration", "approval_id", **change)
        approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", asked).group(1)
        link = re.search(r"(http://\S+/approvals/\S+?)\s", asked).group(1)
        await decide_approval(on(b, link), approve=True)
        await ok(a, "EditCxEngageIntegration", **change, approval_id=approval_id)
        saved = emu.integrations[CX_TENANT][created["integration_id"]]
        assert saved.properties["username"] == "other@example.invalid"
