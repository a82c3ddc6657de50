"""The change journal through real MCP sessions on the emulators: every write (written, refused, failed, of unknown
outcome) is recorded with its principal, images and changes, never a secret's value; GetIntegrationChanges pages
and filters; RevertIntegrationChange restores a before-image through the edit pipeline, or refuses."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.app import form_store
from integrations_mcp.state import StateStore
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from tests.harness import FORMS_URL, Session, both_settings, connect, revcent_emulator
from tests.vendors.cxengage.helpers import ZENDESK
from tests.vendors.revcent.helpers import completed_form, static_single_select

pytestmark = pytest.mark.anyio

RC_CANARY = "CANARY-rc-credential-5d1f"
CX_CANARY = "CANARY-cx-password-9e2b"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


@pytest.fixture
async def s(db: Path) -> Session:
    async with connect(both_settings(state_url=f"sqlite+aiosqlite:///{db}"),
                       revcent=revcent_emulator(), cxengage=CxEngageEmulator()) as session:
        yield session


def database_text(db: Path) -> str:
    """Every row of every table, as text."""
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("select name from sqlite_master where type='table'")]
        return "\n".join(repr(row) for table in tables for row in conn.execute(f"select * from {table}"))


async def changes(s: Session, **filters: object) -> list[dict]:
    return (await s.ok("GetIntegrationChanges", limit=50, **filters))["results"]


async def rc_integration(s: Session, name: str = "Tax main") -> str:
    form_id = await completed_form(s.client, s.revcent, "tax", secret=RC_CANARY)
    created = await s.ok("CreateUserThirdPartyIntegration", name=name,
                         site_third_party_integration=s.revcent.site_id("tax"), secure_form_id=form_id)
    return created["user_third_party_integration_id"]


async def test_every_write_is_journaled_with_principal_images_and_outcome(s: Session, db: Path) -> None:
    uid = await rc_integration(s)
    option, field, values = static_single_select(s.revcent)
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
               third_party_options=[{"id": option, "fields": [{"id": field, "value": [values[0]]}]}])
    await s.refused("CreateUserThirdPartyIntegration", "already used", name="Tax main",
                    site_third_party_integration=s.revcent.site_id("tax"))
    refused, edit, create = await changes(s)
    assert create["outcome"] == edit["outcome"] == "written and verified"
    assert refused["outcome"] == "refused" and "already used" in refused["detail"]
    assert create["principal"] == f"os:{getpass.getuser()}" == edit["principal"]  # in memory, as under stdio
    assert create["secrets"] == ["credentials"] and create["integration"] == uid and create["vendor"] == "revcent"
    assert edit["what"] == field and edit["changes"] is None  # a page is a summary; the diff is one call away
    full = (await changes(s, change_id=edit["id"]))[0]
    assert full["changes"] == [{"field": f"third_party_options.{option}.{field}", "saved": None,
                                "proposed": [values[0]], "overwrites": False}]
    assert full["before"]["name"] == "Tax main" and full["before"]["credentials"] == "saved"
    assert full["after"][f"third_party_options.{option}.{field}"] == [values[0]]
    assert [c["id"] for c in await changes(s, integration_id=uid)] == [edit["id"], create["id"]]
    assert RC_CANARY not in database_text(db)


async def test_dry_runs_are_not_writes(s: Session) -> None:
    await s.ok("CreateUserThirdPartyIntegration", name="Dry", site_third_party_integration=s.revcent.site_id("tax"),
               dry_run=True)
    assert await changes(s) == []


async def test_a_vendor_refusal_fails_and_a_lost_answer_may_have_happened(s: Session) -> None:
    uid = await rc_integration(s)
    path = f"/v2/user_third_party_integrations/{uid}"
    s.revcent.faults.inject(path_prefix=path, method="POST", status=400,
                            body=b'{"code":0,"error_code":"bad","message":"no","api_call_id":"' + b"C" * 20 + b'"}')
    await s.refused("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="x")
    s.revcent.faults.inject(path_prefix=path, method="POST", status=504, after=True)
    await s.refused("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="y")
    unknown, failed = (await changes(s))[:2]
    assert failed["outcome"] == "failed"
    assert unknown["outcome"] == "may have happened"


async def test_revert_restores_the_before_image_with_confirmation_and_read_back(s: Session) -> None:
    uid = await rc_integration(s)
    option, field, values = static_single_select(s.revcent)
    change = {"user_third_party_integration_id": uid}
    await s.ok("EditUserThirdPartyIntegration", change,
               third_party_options=[{"id": option, "fields": [{"id": field, "value": [values[0]]}]}])
    await s.ok("EditUserThirdPartyIntegration", change, confirm_overwrite=True,
               third_party_options=[{"id": option, "fields": [{"id": field, "value": [values[1]]}]}])
    latest = (await changes(s))[0]
    shown = await s.refused("RevertIntegrationChange", "confirm_revert", change_id=latest["id"])
    assert values[1] in shown and values[0] in shown  # the diff the person confirms
    reverted = await s.ok("RevertIntegrationChange", change_id=latest["id"], confirm_revert=True)
    assert reverted["result"]["mismatches"] == [] and reverted["not_restored"] == []
    record = (await s.ok("GetUserThirdPartyIntegration", user_third_party_integration_id=uid))["integration"]
    assert record["name"] == "Tax main"
    saved = {(o["id"], f["id"]): f["value"] for o in record["third_party_options_saved"] for f in o["fields"]}
    assert saved[(option, field)] == [values[0]]
    newest = (await changes(s))[0]
    assert newest["tool"] == "RevertIntegrationChange" and newest["reverts"] == latest["id"]
    assert newest["outcome"] == "written and verified"


async def test_revert_refuses_when_the_record_changed_since(s: Session) -> None:
    uid = await rc_integration(s)
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="first")
    first = (await changes(s))[0]["id"]
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="second",
               confirm_overwrite=True)
    writes = len(s.revcent.writes())
    await s.refused("RevertIntegrationChange", "changed since", "description", "'first'", "'second'",
                    "Nothing was sent", change_id=first, confirm_revert=True)
    assert len(s.revcent.writes()) == writes


async def test_creates_refusals_and_secrets_cannot_be_reverted(s: Session) -> None:
    uid = await rc_integration(s)
    await s.refused("CreateUserThirdPartyIntegration", name="Tax main",
                    site_third_party_integration=s.revcent.site_id("tax"))
    refusal, create = await changes(s)
    await s.refused("RevertIntegrationChange", "no earlier state", "Disable", change_id=create["id"])
    await s.refused("RevertIntegrationChange", "wrote nothing", change_id=refusal["id"])
    await s.refused("RevertIntegrationChange", "no change 999", change_id=999)
    form_id = await completed_form(s.client, s.revcent, "tax", secret=RC_CANARY + "-2")
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, secure_form_id=form_id,
               confirm_overwrite=True)
    only_secret = (await changes(s))[0]
    await s.refused("RevertIntegrationChange", "only set secrets", "credentials", "secure form",
                    change_id=only_secret["id"])


async def test_revert_refusals_before_the_pipeline_are_journaled(s: Session, db: Path) -> None:
    """An unknown change, a create, a secrets-only change: refused before any vendor read, and journaled as refused
    with who tried and which change (a dry run is not a write, as in the pipeline)."""
    uid = await rc_integration(s)
    create = (await changes(s))[0]
    await s.refused("RevertIntegrationChange", "no change 999", change_id=999)
    await s.refused("RevertIntegrationChange", "no earlier state", change_id=create["id"])
    await s.refused("RevertIntegrationChange", "no earlier state", change_id=create["id"], dry_run=True)
    form_id = await completed_form(s.client, s.revcent, "tax", secret=RC_CANARY + "-3")
    await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, secure_form_id=form_id,
               confirm_overwrite=True)
    secret_edit = (await changes(s))[0]
    await s.refused("RevertIntegrationChange", "only set secrets", change_id=secret_edit["id"])
    reverts = [row for row in await changes(s, principal=create["principal"])
               if row["tool"] == "RevertIntegrationChange"]
    assert [(r["reverts"], r["outcome"], r["vendor"], r["integration"]) for r in reverts] == [
        (secret_edit["id"], "refused", "revcent", uid), (create["id"], "refused", "revcent", uid),
        (999, "refused", "unknown", None)]
    assert "only set secrets" in reverts[0]["detail"] and "no change 999" in reverts[2]["detail"]
    assert reverts[2]["target"] == "change 999" and reverts[2]["what"] == ""
    assert RC_CANARY not in database_text(db)


async def test_cxengage_revert_and_no_secret_in_the_database(s: Session, db: Path) -> None:
    form_id = await s.form("zendesk", {"password": CX_CANARY})
    created = await s.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                         secure_form_id=form_id)
    iid = created["integration_id"]
    await s.ok("EditCxEngageIntegration", integration_id=iid, description="Tickets", name="Help desk",
               confirm_overwrite=True)
    edit = (await changes(s, vendor="cxengage"))[0]
    assert set(edit["what"].split(", ")) == {"name", "description"}
    await s.ok("RevertIntegrationChange", change_id=edit["id"], confirm_revert=True)
    record = (await s.ok("GetCxEngageIntegration", integration_id=iid))["integration"]
    assert record["name"] == "Desk" and record["description"] in (None, "")
    create = (await changes(s, vendor="cxengage"))[-1]
    assert create["secrets"] == ["properties.password"]
    assert CX_CANARY not in database_text(db)


async def test_paging_and_filters(s: Session) -> None:
    uid = await rc_integration(s)
    for n in range(3):
        await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description=f"d{n}",
                   confirm_overwrite=True)
    first = await s.ok("GetIntegrationChanges", limit=2)
    assert first["total"] == 4 and first["has_more"] is True and first["next_before"] == first["results"][-1]["id"]
    page = await s.ok("GetIntegrationChanges", limit=2, before=first["next_before"])
    assert page["total"] == 4 and page["count"] == 2 and page["has_more"] is False and page["next_before"] is None
    assert [c["tool"] for c in page["results"]] == ["EditUserThirdPartyIntegration", "CreateUserThirdPartyIntegration"]
    assert (await s.ok("GetIntegrationChanges", days=1))["total"] == 4
    assert (await s.ok("GetIntegrationChanges", vendor="cxengage"))["total"] == 0
    assert (await s.ok("GetIntegrationChanges", principal="someone-else"))["total"] == 0
    assert (await s.ok("GetIntegrationChanges", since=2**40))["total"] == 0


async def test_with_a_key_cxengage_forms_are_sealed_in_the_database_and_single_use(db: Path) -> None:
    settings = both_settings(state_url=f"sqlite+aiosqlite:///{db}", state_key="k" * 40)
    async with connect(settings, forms=form_server(settings, db)) as s:
        form_id = await s.form("zendesk", {"password": CX_CANARY})
        with sqlite3.connect(db) as conn:
            sealed = conn.execute("select sealed from secure_forms").fetchone()[0]
        assert sealed and CX_CANARY.encode() not in sealed and CX_CANARY not in database_text(db)
        await s.ok("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                   secure_form_id=form_id)
        assert s.cxengage.writes()[-1].json()["properties"]["password"] == CX_CANARY  # the vendor got it
        await s.refused("CreateCxEngageIntegration", "already used", name="Desk 2", type="zendesk",
                        properties=dict(ZENDESK), secure_form_id=form_id)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select sealed, used from secure_forms").fetchall() == [(None, 1)]
    assert CX_CANARY not in database_text(db)


def form_server(settings: Any, db: Path) -> SecureFormServer:
    """The secure form page over the store the server would build for these settings (the database one)."""
    return SecureFormServer(form_store(settings, StateStore(settings.state_url)), base_url=FORMS_URL)


async def test_the_principal_is_the_authenticated_client_when_there_is_one() -> None:
    """What the SDK's auth middleware sets for an authenticated HTTP request (H11a's bearer and OAuth auth)."""
    token = auth_context_var.set(AuthenticatedUser(AccessToken(token="t", client_id="alice",
                                                               scopes=["integrations:read", "integrations:write"])))
    try:
        async with connect(both_settings()) as s:
            await s.ok("CreateUserThirdPartyIntegration", name="Alice's",
                       site_third_party_integration=s.revcent.site_id("tax"))
            assert [c["principal"] for c in await changes(s)] == ["alice"]
            assert (await s.ok("GetIntegrationChanges", principal="alice"))["total"] == 1
    finally:
        auth_context_var.reset(token)
