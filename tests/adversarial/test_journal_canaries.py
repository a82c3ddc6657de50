"""The change journal as an output channel: every planting of the canary matrix, and plantings through writes (the
RevCent server-form credentials, CxEngage typed secrets the vendor echoes back, secrets a vendor record holds in
its before- and after-images), searched for in the state database file (every row of every table), in
GetIntegrationChanges (the list and each change in full) and in a revert's answer. 0 leaks."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult

from integrations_mcp.guardrails.secret_values import looks_random, mask_secret_values
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from integrations_mcp.vendors.cxengage.facts import SECRETS_ON_READ
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.adversarial.test_canary_matrix import PLANTED, SHAPES, N, Planted, core, leaks
from tests.harness import (
    POLICY,
    Session,
    connect,
    cxengage_settings,
    make_server,
    revcent_emulator,
    revcent_settings,
    text_of,
)
from tests.vendors.cxengage.helpers import ZENDESK, T
from tests.vendors.revcent.helpers import credential_values

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journal") / "state.sqlite3"


@pytest.fixture(scope="module")
def world(db: Path) -> Iterator[tuple[IntegrationsServer, RevCentEmulator, CxEngageEmulator]]:
    """The canary matrix's world, on a state file, RevCent credentials through the server's own form (the
    default), and a secret-named option field RevCent redacts on read."""
    revcent, cxengage = revcent_emulator(), CxEngageEmulator()
    tax = revcent.site_integrations[revcent.site_id("tax")]
    settings = next(o for o in tax["third_party_options"] if o["id"] == "tax_settings")
    settings["fields"].append({"id": "webhook_secret", "name": "Webhook secret", "field_type": "input",
                               "required": False})
    vendors = {**revcent_settings(credentials_via="server-form").vendors, **cxengage_settings().vendors}
    config = Settings(vendors=vendors, confirmation=POLICY, state_url=f"sqlite+aiosqlite:///{db}")
    yield make_server(config, revcent=revcent, cxengage=cxengage), revcent, cxengage


async def rc_server_form(s: Session, canary: str) -> CallToolResult:
    """Credentials typed on the server's own form: created with them, then replaced by a second form."""
    site = s.revcent.site_id("offline_payment")
    form = await s.ok("CreateSecureForm", site_third_party_integration_id=site)
    s.fill(form["secure_form_id"], credential_values(s.revcent, "offline_payment", canary))
    created = await s.ok("CreateUserThirdPartyIntegration", name=f"Pay {next(N)}",
                         secure_form_id=form["secure_form_id"],
                         site_third_party_integration=site)
    form = await s.ok("CreateSecureForm", site_third_party_integration_id=site)
    s.fill(form["secure_form_id"], credential_values(s.revcent, "offline_payment", canary + "2"))
    return await s.call("EditUserThirdPartyIntegration", secure_form_id=form["secure_form_id"], confirm_overwrite=True,
                        user_third_party_integration_id=created["user_third_party_integration_id"])


async def cx_typed_secret(s: Session, canary: str) -> CallToolResult:
    """A CxEngage secret typed on a form; the vendor echoes it on read-back (the after-image), then an edit."""
    form_id = await s.form("zendesk", {"password": canary})
    created = await s.ok("CreateCxEngageIntegration", name=f"Desk {next(N)}", type="zendesk",
                         properties=dict(ZENDESK), secure_form_id=form_id)
    if SECRETS_ON_READ == "echo":  # then the read-back (the after-image) carried it
        assert s.cxengage.integrations[T][created["integration_id"]].properties["password"] == canary
    return await s.call("EditCxEngageIntegration", integration_id=created["integration_id"], description="tickets")


async def cx_stored_then_edited(s: Session, canary: str) -> CallToolResult:
    """Secrets in a record's before-image: under a secret name at depth, under a plain name, in the description;
    then an edit of the plain property that holds one (its saved value is in the change itself)."""
    iid = s.cxengage.add_integration(T, "rest", f"Stored {next(N)}", {"endpointPrefix": canary},
                                     description=f"notes {canary}")
    s.cxengage.integrations[T][iid].properties.update({"apiPass": canary, "extra": {"token": canary, "x": canary}})
    return await s.call("EditCxEngageIntegration", integration_id=iid, name=f"Edited {next(N)}",
                        properties={"endpointPrefix": "https://x.invalid/"}, confirm_overwrite=True)


async def rc_stored_then_edited(s: Session, canary: str) -> CallToolResult:
    """A secret-named option field (RevCent shows it redacted), the description and a plain option field holding the
    canary (the plain field only when it is a secret by a known format: outputs show random-looking plain values,
    which are mostly the providers' ids); then an edit of the plain field, confirmed as the model would."""
    plain = canary if mask_secret_values(canary, entropy=False) != canary else "98765"
    uid = s.revcent.add_user_integration(
        name=f"Tax {next(N)}", site_id=s.revcent.site_id("tax"), description=f"notes {canary}",
        options_saved=[{"id": "tax_settings", "fields": [{"id": "webhook_secret", "value": [canary]},
                                                         {"id": "origin_zip", "value": [plain]}]}])
    return await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, confirm_overwrite=True,
                        third_party_options=[{"id": "tax_settings", "fields": [{"id": "origin_zip",
                                                                                 "value": ["12345"]}]}])


async def rc_write_vendor_error(s: Session, canary: str) -> CallToolResult:
    """RevCent refuses an edit quoting the canary, in its message, error code and call id (journaled: call_ids)."""
    uid = s.revcent.add_user_integration(name=f"Tax {next(N)}", site_id=s.revcent.site_id("tax"))
    call_id = "CCCCCCCCCCCCCCCCCCCC" if canary.isalnum() else canary  # as the canary matrix: ids are random
    s.revcent.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="POST", status=400,
                            body=json.dumps({"code": 0, "error_code": canary, "message": f"rejected {canary}",
                                             "api_call_id": call_id, "result": "error"}).encode())
    return await s.call("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, description="x")


WRITES: dict[str, Planted] = {
    "rc write vendor error echo": Planted("failed write", rc_write_vendor_error),
    "rc server-form credentials": Planted("write", rc_server_form),
    "cx typed secret, echoed": Planted("write", cx_typed_secret),
    "cx stored secrets, then edited": Planted("write", cx_stored_then_edited),
    "rc stored secrets, then edited": Planted("write", rc_stored_then_edited),
}
ALL = {**PLANTED, **WRITES}
CASES = [(p, shape) for p in ALL for shape in SHAPES]


def recognisable_core() -> str:
    """A canary core the entropy rule recognises as random: about 4% of random 28-character tokens are not (an
    ordinary-looking run of letters, repeats), and such a token is, by design, not a secret to the server anywhere
    (the journal holds what the vendor would get)."""
    while not looks_random(candidate := core(20000 + next(N))):
        pass
    return candidate


def database_rows(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("select name from sqlite_master where type='table'")]
        return [repr(row) for table in tables for row in conn.execute(f"select * from {table}")]


async def journal_channels(s: Session, since: int) -> tuple[dict[str, list[str]], list[int]]:
    """GetIntegrationChanges' list and each new change in full, and a revert of each new change."""
    listed = await s.ok("GetIntegrationChanges", limit=50)
    new = [c["id"] for c in listed["results"] if c["id"] > since]
    full = [await s.call("GetIntegrationChanges", change_id=i) for i in new]
    reverts = [await s.call("RevertIntegrationChange", change_id=i, confirm_revert=True) for i in new]
    return {"GetIntegrationChanges": [json.dumps(listed)],
            "GetIntegrationChanges change_id": [text_of(r) + json.dumps(r.structured_content) for r in full],
            "RevertIntegrationChange": [text_of(r) + json.dumps(r.structured_content) for r in reverts]}, new


@pytest.mark.parametrize(("point", "shape"), CASES, ids=[f"{p} x {s}" for p, s in CASES])
async def test_a_planted_canary_never_reaches_the_journal(world: tuple, db: Path, point: str, shape: str,
                                                          counts: Counter) -> None:
    server, revcent, cxengage = world
    canary = SHAPES[shape](recognisable_core())
    async with connect(server=server, revcent=revcent, cxengage=cxengage) as s:
        s.cxengage_rest = cxengage.add_integration(T, "rest", f"Rest {next(N)}",  # type: ignore[attr-defined]
                                                   {"endpointPrefix": "https://x.invalid/"})
        since = max([0, *(c["id"] for c in (await s.ok("GetIntegrationChanges", limit=1))["results"])])
        try:
            result: Any = await ALL[point].plant(s, canary)
        finally:
            revcent.faults.clear()
            cxengage.faults.clear()
        channels, new = await journal_channels(s, since)
        channels["result"] = [text_of(result) + json.dumps(result.structured_content)]
        channels["database"] = database_rows(db)
    if ALL[point].kind.endswith("write"):
        assert new, f"{point}: nothing was journaled"
        assert result.is_error is (ALL[point].kind == "failed write"), text_of(result)
    for channel, texts in channels.items():
        assert not leaks(canary, texts), f"{point} x {shape} leaked to {channel}: {leaks(canary, texts)}"
        counts["journal channel checks"] += 1
    counts["journal plantings"] += 1

