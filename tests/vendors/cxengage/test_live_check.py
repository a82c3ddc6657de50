"""`integrations-mcp check --vendor cxengage` detects every emulator switch a read can reveal (each flipped in turn),
and says of the others that only a write shows them; it never writes and never prints a stored secret."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from integrations_mcp.server.check import run_check
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage.emulator import (
    INFERRED,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SANDBOX_TENANT_ID,
    Contract,
    CxEngageEmulator,
)
from integrations_mcp.vendors.cxengage.emulator.contract import LIST_PAGE_SIZE
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

pytestmark = pytest.mark.anyio

STORED = "canary-stored-desk-pw-71c9"
# The fact whose outcome each read-revealed switch turns to FAILED (the server copes with each: see
# test_contract_switches.py), and the words the finding uses.
REVEALED = {
    ("secrets_on_read", "mask"): ("cxengage.secrets_echoed", "2 masked"),
    ("secrets_on_read", "omit"): ("cxengage.secrets_echoed", "left out of 2"),
    ("booleans_on_read", "string"): ("cxengage.booleans", "answer a string"),
    ("list_paging", "paged"): ("cxengage.no_paging", "paged"),
    ("list_paging", "capped"): ("cxengage.no_paging", "capped"),
    ("error_shape", "string"): ("cxengage.error_body", "error as string"),
    ("error_shape", "list"): ("cxengage.error_body", "error as list of strings"),
    ("auth_schemes", "token"): ("cxengage.basic_auth", "Basic auth was refused"),  # with CXENGAGE_AUTH=token
}
WRITE_ONLY = {"ui_rules": "cxengage.ui_rules", "properties_edit": "cxengage.properties_merge",
              "create_status": "cxengage.create_status"}


async def check(emu: CxEngageEmulator, *, use_token: bool = False) -> tuple[int, dict[str, str], str]:
    vendor = CxEngageSettings(SecretStr(SANDBOX_API_KEY), SecretStr(SANDBOX_API_SECRET), "http://cx.test",
                              tenant_id=SANDBOX_TENANT_ID, use_token=use_token)
    out = io.StringIO()
    code = await run_check(Settings(vendors={"cxengage": vendor}), "cxengage", out,
                           transport=httpx2.ASGITransport(app=emu.app))
    text = out.getvalue()
    assert STORED not in text and emu.writes() == []
    lines = {line.split(":")[0].split()[-1]: line.strip() for line in text.splitlines()[1:-1]}
    return code, lines, text


def emulator(**switch: Any) -> CxEngageEmulator:
    emu = CxEngageEmulator(contract=Contract(**switch))
    emu.add_integration(SANDBOX_TENANT_ID, "zendesk", "Desk", {"password": STORED}, active=True)
    for n in range(LIST_PAGE_SIZE):
        emu.add_integration(SANDBOX_TENANT_ID, "rest", f"Row {n}")
    return emu


@pytest.mark.parametrize("use_token", [False, True])
async def test_every_fact_a_read_can_settle_holds_against_the_default_emulator(use_token: bool) -> None:
    code, lines, text = await check(emulator(), use_token=use_token)
    assert code == 0, text
    for fact in ("cxengage.basic_auth", "cxengage.result_envelope", "cxengage.paths", "cxengage.record",
                 "cxengage.ids", "cxengage.booleans", "cxengage.type_names", "cxengage.no_paging",
                 "cxengage.secrets_echoed", "cxengage.error_body", *(["cxengage.token_auth"] if use_token else [])):
        assert lines[fact].startswith("held"), text
    for fact in WRITE_ONLY.values():
        assert lines[fact].startswith("not checked") and "write" in lines[fact], text


async def test_a_token_only_account_fails_basic_auth_with_the_setting_to_change() -> None:
    code, lines, text = await check(emulator(auth_schemes="token"))
    assert code == 1 and lines["cxengage.basic_auth"].startswith("FAILED") and "CXENGAGE_AUTH=token" in text


def test_every_switch_setting_is_either_revealed_by_check_or_said_to_need_a_write() -> None:
    settings = {(name, value) for name, values in INFERRED.items() for value in values}
    assert settings == set(REVEALED) | {(n, v) for n, v in settings if n in WRITE_ONLY}
    assert {f.name for f in dataclasses.fields(Contract)} == {n for n, _ in settings}


@pytest.mark.parametrize("switch", sorted(REVEALED), ids=lambda s: f"{s[0]}={s[1]}")
async def test_check_detects_each_read_revealed_switch(switch: tuple[str, str]) -> None:
    fact, words = REVEALED[switch]
    code, lines, text = await check(emulator(**{switch[0]: switch[1]}), use_token=switch[0] == "auth_schemes")
    assert code == 1 and lines[fact].startswith("FAILED") and words in lines[fact], text


def test_check_and_the_facts_name_the_auth_setting_the_server_reads() -> None:
    """The server reads CXENGAGE_AUTH=token; nothing may tell an operator to set another variable."""
    from pathlib import Path

    import integrations_mcp.vendors.cxengage as package
    from integrations_mcp.vendors.cxengage.facts import FACTS
    from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

    assert CxEngageSettings.from_env({"CXENGAGE_API_KEY": "k", "CXENGAGE_API_SECRET": "s",
                                      "CXENGAGE_AUTH": "token"}).use_token  # type: ignore[union-attr]
    root = Path(package.__file__).parents[4]
    texts = [p.read_text(encoding="utf-8") for p in (*Path(package.__file__).parent.rglob("*.py"),
                                                      root / "docs" / "vendor-facts.md")]
    assert not any("CXENGAGE_USE_TOKEN" in text for text in texts)
    assert "CXENGAGE_AUTH=token" in next(f.statement for f in FACTS if f.id == "cxengage.token_auth")
    assert "CXENGAGE_AUTH" in (Path(package.__file__).parent / "live_check.py").read_text(encoding="utf-8")
