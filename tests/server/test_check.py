"""`integrations-mcp check`: read-only, compares a vendor API with the facts the server relies on, detects each
read-observable [I] switch of the emulators flipped, and never prints a key or a secret."""

from __future__ import annotations

import io
import subprocess
import sys

import httpx2
import pytest
from pydantic import SecretStr

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.server.check import run_check
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_KEY as CX_KEY
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
from integrations_mcp.vendors.cxengage.emulator import Contract as CxContract
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from integrations_mcp.vendors.revcent.emulator import Contract, RevCentEmulator
from integrations_mcp.vendors.revcent.facts import FACTS as REVCENT_FACTS
from integrations_mcp.vendors.revcent.settings import RevCentSettings
from tests.harness import clean_env

pytestmark = pytest.mark.anyio

KEY_CANARY = "canary-check-key-4e8d1b77aa"
SECRET_CANARY = "canary-check-secret-93c1f0"
STORED_CANARY = "canary-stored-zendesk-pw-6b2e"


def revcent(contract: Contract | None = None, integrations: int = 3) -> RevCentEmulator:
    emu = RevCentEmulator(api_key=KEY_CANARY, contract=contract)
    for i in range(integrations):
        emu.add_user_integration(name=f"Tax {i}", site_id=emu.site_id("tax"),
                                 credentials={"account_id": "a", "license_key": STORED_CANARY})
    emu.add_user_integration(name="Calls", site_id=emu.site_id("call_events"), credentials={"api_key": "k"},
                             options_saved=[{"id": "webhook", "fields": [{"id": "signing_secret",
                                                                          "value": [STORED_CANARY]}]}])
    return emu


async def check_revcent(emu: RevCentEmulator, **options: str) -> tuple[int, dict[str, str], str]:
    settings = Settings(vendors={"revcent": RevCentSettings(SecretStr(KEY_CANARY), "http://revcent.test/v2")})
    out = io.StringIO()
    code = await run_check(settings, "revcent", out, transport=httpx2.ASGITransport(app=emu.app), options=options)
    text = out.getvalue()
    assert KEY_CANARY not in text and STORED_CANARY not in text
    assert emu.writes() == []  # read-only
    outcomes = {line.split(":")[0].split()[-1]: line.split()[0] for line in text.splitlines()[1:-1]}
    return code, outcomes, text


async def test_revcent_facts_hold_against_the_default_emulator() -> None:
    emu = revcent()
    form = emu.create_form("third_party_integration", emu.site_id("tax"))
    code, outcomes, text = await check_revcent(emu, secure_form_id=form.id)
    assert code == 0, text
    for fact in ("revcent.auth", "revcent.envelope", "revcent.site_paths", "revcent.user_list_path",
                 "revcent.list_key", "revcent.paging", "revcent.user_integration_paths",
                 "revcent.credentials_not_echoed", "revcent.form_source_id", "revcent.id_charset",
                 "revcent.select_names", "revcent.booleans", "revcent.secret_options", "revcent.list_rows"):
        assert outcomes[fact] == "held", text
    assert outcomes["revcent.secure_form_id"] == "not" and set(outcomes) >= {f.id for f in REVCENT_FACTS}


# Every Contract setting a read can reveal, and what check prints for it. The others (accept_secure_form_id,
# options_edit, form_id_key, secret_options="omitted") only a write, or nothing, reveals: test_the_rest_are_named.
REVEALED = [
    ({"list_key": "user_third_party_integrations"}, "revcent.list_key", "FAILED", "rows are under"),
    ({"form_reports_source": False}, "revcent.form_source_id", "FAILED", "missing form_source_id"),
    ({"page_first": 0}, "revcent.paging", "FAILED", "the first page is page 0"),
    ({"id_alphabet": "urlsafe"}, "revcent.id_charset", "FAILED", "digits: - _"),
    ({"select_names": "remote_asset"}, "revcent.select_names", "held", "spelled is_multiple, remote_asset"),
    ({"booleans": "strings"}, "revcent.booleans", "FAILED", "came as: str"),
    ({"secret_options": "masked"}, "revcent.secret_options", "FAILED", "values read: masked"),
]


@pytest.mark.parametrize("switch, fact, outcome, detail", REVEALED, ids=[next(iter(r[0])) for r in REVEALED])
async def test_revcent_check_detects_each_read_observable_switch(switch: dict, fact: str, outcome: str,
                                                                  detail: str) -> None:
    emu = revcent(Contract(**switch))
    form = emu.create_form("third_party_integration", emu.site_id("tax"))
    code, outcomes, text = await check_revcent(emu, secure_form_id=form.id)
    line = next(line for line in text.splitlines() if f" {fact}:" in line)
    assert outcomes[fact] == outcome and detail in line, text
    assert code == (1 if "FAILED" in text else 0)
    documents = revcent()
    form = documents.create_form("third_party_integration", documents.site_id("tax"))
    code, outcomes, default = await check_revcent(documents, secure_form_id=form.id)
    assert code == 0 and outcomes[fact] == "held" and detail not in default  # the documents' reading: another line


def test_the_rest_are_named() -> None:
    """Each switch is either revealed by a read (REVEALED) or concerns writes (listed by check as such)."""
    from integrations_mcp.vendors.revcent.emulator.contract import INFERRED
    from integrations_mcp.vendors.revcent.facts import SWITCHES
    from integrations_mcp.vendors.revcent.live_check import WRITES_ONLY

    revealed = {next(iter(r[0])) for r in REVEALED}
    by_switch = {switch: fact for fact, switch in SWITCHES.items()}
    for switch in INFERRED:
        assert switch in revealed or by_switch[switch] in WRITES_ONLY or switch == "secret_options", switch


async def test_revcent_check_with_a_wrong_key_fails_without_printing_it() -> None:
    emu = RevCentEmulator(api_key="the-right-key")
    code, outcomes, text = await check_revcent(emu)
    assert code == 1 and "FAILED" in text and "401" in text


async def check_cxengage(emu: CxEngageEmulator, secret: str, *, use_token: bool = False
                         ) -> tuple[int, dict[str, str], str]:
    vendor = CxEngageSettings(SecretStr(CX_KEY), SecretStr(secret), "http://cxengage.test", tenant_id=SANDBOX_TENANT_ID,
                              use_token=use_token)
    out = io.StringIO()
    code = await run_check(Settings(vendors={"cxengage": vendor}), "cxengage", out,
                           transport=httpx2.ASGITransport(app=emu.app))
    text = out.getvalue()
    assert secret not in text and STORED_CANARY not in text
    assert emu.writes() == []
    outcomes = {line.split(":")[0].split()[-1]: line.split()[0] for line in text.splitlines()[1:-1]}
    return code, outcomes, text


@pytest.mark.parametrize("echo_secrets, use_token", [(True, False), (False, True)])
async def test_cxengage_check_reports_whether_secrets_are_echoed(echo_secrets: bool, use_token: bool) -> None:
    emu = CxEngageEmulator(api_secret=SECRET_CANARY,
                           contract=CxContract(secrets_on_read="echo" if echo_secrets else "mask"))
    emu.add_integration(SANDBOX_TENANT_ID, "zendesk", "Desk", {"password": STORED_CANARY})
    code, outcomes, text = await check_cxengage(emu, SECRET_CANARY, use_token=use_token)
    assert outcomes["cxengage.token_auth"] == ("held" if use_token else "not"), text
    for fact in ("cxengage.basic_auth", "cxengage.result_envelope", "cxengage.no_paging", "cxengage.paths",
                 "cxengage.type_names"):
        assert outcomes[fact] == "held", text
    assert outcomes["cxengage.secrets_echoed"] == ("held" if echo_secrets else "FAILED"), text
    assert code == (0 if echo_secrets else 1)


async def test_cxengage_check_with_a_wrong_secret_fails_auth() -> None:
    code, outcomes, text = await check_cxengage(CxEngageEmulator(api_secret="the-right-one"), SECRET_CANARY)
    assert code == 1 and outcomes["cxengage.basic_auth"] == "FAILED", text


def test_the_command_line_prints_facts_and_never_the_key() -> None:
    emu = revcent()
    with serve_loopback(emu.app) as vendor:
        done = subprocess.run([sys.executable, "-m", "integrations_mcp", "check", "--vendor", "revcent"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              env=clean_env(REVCENT_API_KEY=KEY_CANARY, REVCENT_BASE_URL=vendor.url + "/v2"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "revcent.list_key: page keys" in done.stdout and " held, 0 failed" in done.stdout
    assert KEY_CANARY not in done.stdout + done.stderr and STORED_CANARY not in done.stdout + done.stderr
    assert emu.writes() == []
