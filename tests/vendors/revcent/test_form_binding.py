"""Issue 18: RevCent's own forms (REVCENT_CREDENTIALS_VIA=revcent-form) belong to the session that made them, and
their id (the address of RevCent's page) reaches neither the model after the hand-over, nor another session, nor
the change journal. Two real MCP client sessions on one server, against the emulator over ASGI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mcp import Client

from tests.harness import Transcript, make_server, revcent_emulator, revcent_settings
from tests.vendors.revcent.helpers import credential_values, revcent_form_id

pytestmark = pytest.mark.anyio


async def test_a_revcent_form_is_its_sessions_and_never_in_the_journal(tmp_path: Path) -> None:
    emu = revcent_emulator()
    db = tmp_path / "state.sqlite3"
    server = make_server(revcent_settings(state_url=f"sqlite+aiosqlite:///{db}"), revcent=emu)
    tax = emu.site_id("tax")
    try:
        async with Client(server) as first, Client(server) as second:
            mine, theirs = Transcript(client=first), Transcript(client=second)
            form = await mine.ok("CreateSecureForm", site_third_party_integration_id=tax)
            handle, revcent_id = form["secure_form_id"], revcent_form_id(form)
            assert revcent_id not in handle
            # Not completed yet: refused, and journaled as refused.
            await mine.refused("CreateUserThirdPartyIntegration", "not completed", name="Tax",
                               site_third_party_integration=tax, secure_form_id=handle)
            emu.complete_secure_form(revcent_id, credential_values(emu, "tax"))
            # Another session can neither read nor use it (with the handle, or with RevCent's own id).
            await theirs.refused("GetSecureForm", "for this session", secure_form_id=handle)
            for given in (handle, revcent_id):
                await theirs.refused("CreateUserThirdPartyIntegration", "for this session", name="Stolen",
                                     site_third_party_integration=tax, secure_form_id=given)
            journal = await theirs.ok("GetIntegrationChanges", limit=50)
            assert journal["total"] >= 1
            status = await mine.ok("GetSecureForm", secure_form_id=handle)
            assert status["completed"] and status["form_url"] is None
            created = await mine.ok("CreateUserThirdPartyIntegration", name="Tax", site_third_party_integration=tax,
                                    secure_form_id=handle)
            assert created["verified"]["readiness"]["credentials_saved"] is True
            everything = str(await mine.ok("GetIntegrationChanges", limit=50)) + "".join(theirs.seen)
            assert revcent_id not in everything and handle not in str(journal)
    finally:
        assert server.secure_forms is None or server.secure_forms.close() is None
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert revcent_id not in dump and handle not in dump  # the state file holds neither
