"""Auth × state × the output filter, over real HTTP: `integrations-mcp serve --transport http` as a subprocess with
bearer tokens, a state file, a state key and the RevCent emulator on loopback (credentials through the server's own
form, the default). Two writers and a reader go through a full flow; the principal is the token's name in the
journal; one principal cannot use another's secure form or approval, nor a reader revert; and no configured key,
state key, bearer token or typed credential appears in any answer, page, the log at DEBUG, the state file or
`integrations-mcp check`'s output."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from integrations_mcp.loopback import LoopbackServer
from integrations_mcp.secure_forms.scripted_person import BROWSER_NAVIGATION, decide_approval, fill_secure_form
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import Transcript, clean_env
from tests.server.test_http_auth import ISSUER, IdP, post, serve, session
from tests.server.test_http_auth import idp as idp  # noqa: F401 (the fixture)
from tests.vendors.revcent.helpers import credential_values

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server subprocess

REVCENT_KEY = "canary-revcent-api-key-5a1f0e9d77"
STATE_KEY = "canary-state-key-0f3e8a6c1b9d27e4f5a3c8d1"
ALICE, BOB, READER = "a" * 16 + "-canary-alice-token", "b" * 16 + "-canary-bob-token", "r" * 16 + "-canary-reader"
SINGLE = "s" * 16 + "-canary-single-token"
TYPED = "canary-typed-credential-7c2d"
CANARIES = (REVCENT_KEY, STATE_KEY, ALICE, BOB, READER, SINGLE, TYPED)
SITE_KIND = "offline_payment"  # no options: enabling needs credentials only


@pytest.fixture(scope="module")
def revcent() -> Iterator[tuple[RevCentEmulator, str]]:
    emu = RevCentEmulator(api_key=REVCENT_KEY)
    server = LoopbackServer(emu.app).start()
    try:
        yield emu, f"{server.url}/v2"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def env(revcent: tuple[RevCentEmulator, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("http-seams")
    (folder / "tokens").write_text(f"alice {ALICE}\nbob {BOB} integrations:write\nreader {READER} integrations:read\n")
    return {"REVCENT_API_KEY": REVCENT_KEY, "REVCENT_BASE_URL": revcent[1],
            "INTEGRATIONS_AUTH_TOKENS_FILE": str(folder / "tokens"), "INTEGRATIONS_AUTH_TOKEN": SINGLE,
            "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}",
            "INTEGRATIONS_STATE_KEY": STATE_KEY, "INTEGRATIONS_LOG_LEVEL": "DEBUG"}


def link(text: str, kind: str) -> str:
    return re.search(rf"(http://\S+/{kind}/[A-Za-z0-9_-]+)", text).group(1)


async def changes(t: Transcript, **filters: object) -> list[dict]:
    return (await t.ok("GetIntegrationChanges", limit=50, **filters))["results"]


async def test_principals_forms_approvals_journal_and_no_secret_anywhere(
        revcent: tuple[RevCentEmulator, str], env: dict[str, str]) -> None:
    emu, _ = revcent
    site = emu.site_id(SITE_KIND)
    pages: list[str] = []
    with serve(env=env, sandbox=False) as served:
        async with session(served.url, ALICE) as alice:
            form = await alice.ok("CreateSecureForm", site_third_party_integration_id=site)
            pages.append(await fill_secure_form(form["form_url"], credential_values(emu, SITE_KIND, TYPED)))
            create = {"name": "Pay later", "site_third_party_integration": site,
                      "secure_form_id": form["secure_form_id"]}
        async with session(served.url, BOB) as bob:  # another principal cannot spend alice's server form
            await bob.refused("CreateUserThirdPartyIntegration", "secure form", **create)
        async with session(served.url, READER) as reader:
            await reader.refused("CreateUserThirdPartyIntegration", "integrations:read", **create)
        async with session(served.url, ALICE) as alice:
            uid = (await alice.ok("CreateUserThirdPartyIntegration", **create))["user_third_party_integration_id"]
            emu.user_integrations[uid].enabled = True  # enabled in RevCent (enabling here asks the person too)
            refusal = await alice.refused("EditUserThirdPartyIntegration", "approval",
                                          user_third_party_integration_id=uid, enabled=False)
        approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", refusal).group(1)
        async with httpx2.AsyncClient(timeout=10) as http:
            pages.append((await http.get(link(refusal, "approvals"), headers=BROWSER_NAVIGATION)).text)
        pages.append(await decide_approval(link(refusal, "approvals"), approve=True))
        disable = {"user_third_party_integration_id": uid, "enabled": False, "approval_id": approval_id}
        async with session(served.url, BOB) as bob:  # nor use alice's approval
            await bob.refused("EditUserThirdPartyIntegration", "approval", **disable)
        assert emu.user_integrations[uid].enabled is True
        async with session(served.url, ALICE) as alice:
            await alice.ok("EditUserThirdPartyIntegration", **disable)
        assert emu.user_integrations[uid].enabled is False
        async with session(served.url, READER) as reader:  # the team's audit: every principal's changes
            listed = await changes(reader)
            written = [c for c in listed if c["outcome"] == "written and verified"]
            refused = {(c["principal"], c["tool"]) for c in listed if c["outcome"] == "refused"}
            assert {("bob", "CreateUserThirdPartyIntegration"), ("bob", "EditUserThirdPartyIntegration"),
                    ("alice", "EditUserThirdPartyIntegration")} == refused  # alice's: the approval asked for
            assert [c["principal"] for c in written] == ["alice"] * 2 and written[-1]["secrets"] == ["credentials"]
            listed = written
            full = await changes(reader, change_id=listed[0]["id"])
            tools = {tool.name for tool in (await reader.client.list_tools()).tools}
            assert "GetIntegrationChanges" in tools and "RevertIntegrationChange" not in tools
            await reader.refused("RevertIntegrationChange", "integrations:read", change_id=listed[0]["id"],
                                 confirm_revert=True)
            assert emu.user_integrations[uid].enabled is False
        async with session(served.url, BOB) as bob:  # a writer's revert is an edit the person approves
            revert = await bob.refused("RevertIntegrationChange", "approval", change_id=listed[0]["id"])
            await bob.refused("RevertIntegrationChange", "approval", change_id=listed[0]["id"],
                              approval_id=approval_id)
            assert emu.user_integrations[uid].enabled is False
        async with session(served.url, SINGLE) as default:
            assert (await default.ok("GetIntegrationChanges"))["total"] >= 3
        async with httpx2.AsyncClient(timeout=10) as http:
            pages.append((await http.get(f"{served.base}/healthz")).text)
            pages.append((await http.get(form["form_url"], headers=BROWSER_NAVIGATION)).text)
        seen = [*alice.seen, *bob.seen, *reader.seen, *default.seen, revert, repr(full)]
        log = served.log()
    assert " DEBUG " in log and "approval_id=" in log  # the log was captured, at DEBUG, with the tool errors
    database = database_text(Path(env["INTEGRATIONS_STATE_URL"].split("///", 1)[1]))
    check = subprocess.run([sys.executable, "-m", "integrations_mcp", "check", "--vendor", "revcent"],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=clean_env(**env))
    assert "held" in check.stdout, check.stdout + check.stderr
    channels = {"answers": seen, "pages": pages, "log": [log], "state file": [database],
                "check": [check.stdout + check.stderr]}
    for channel, texts in channels.items():
        for canary in CANARIES:
            assert not [t for t in texts if canary in t], f"{canary} in {channel}"
    assert emu.stored_credentials(uid) == credential_values(emu, SITE_KIND, TYPED)  # the vendor got them


def database_text(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("select name from sqlite_master where type='table'")]
        return "\n".join(repr(row) for table in tables for row in conn.execute(f"select * from {table}"))




async def test_another_principal_cannot_replay_or_use_a_session(tmp_path: Path) -> None:
    """A stateful session is alice's: bob, with his own valid token and alice's Mcp-Session-Id (and an event id),
    gets none of her events and cannot call tools in it."""
    from tests.server.test_http_auth import MCP_HEADERS, _call_and_drop, _open_session, _resume

    (tmp_path / "tokens").write_text(f"alice {ALICE}\nbob {BOB}\n")
    with serve(env={"INTEGRATIONS_AUTH_TOKENS_FILE": str(tmp_path / "tokens")}) as server:
        async with httpx2.AsyncClient(timeout=10) as http:
            alice = await _open_session(http, server.url, {**MCP_HEADERS, "authorization": f"Bearer {ALICE}"})
            event_id = await _call_and_drop(http, server.url, alice, limit=1)
            await anyio.sleep(0.5)
            bob = {**alice, "authorization": f"Bearer {BOB}"}
            assert await _resume(http, server.url, bob, event_id) == []
            call = {"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                    "params": {"name": "GetSiteThirdPartyIntegrations", "arguments": {"limit": 1}}}
            answer = await http.post(server.url, headers=bob, json=call)
            assert answer.status_code in (401, 403, 404), answer.text
            assert len(await _resume(http, server.url, alice, event_id)) == 1  # alice still gets hers


async def test_a_jwt_named_like_a_static_token_never_gets_its_forms_or_approvals(idp: IdP,  # noqa: F811
                                                                              tmp_path: Path) -> None:
    """The journal, forms and approvals know a principal by name: an OAuth subject named like a static token (say an
    IdP whose subjects are user names) is refused outright, so it never holds the static token's capabilities."""
    (tmp_path / "tokens").write_text(f"carol {ALICE}\n")
    env = {"INTEGRATIONS_AUTH_TOKENS_FILE": str(tmp_path / "tokens"), "INTEGRATIONS_OAUTH_ISSUER": ISSUER,
           "INTEGRATIONS_OAUTH_JWKS_URL": idp.jwks_url}
    with serve(env=env) as server:
        async with session(server.url, ALICE) as static:
            await static.ok("CreateCxEngageSecureForm", type="salesforce")
        assert (await post(server.url, idp.token(server.url, sub="carol"))).status_code == 401
        assert (await post(server.url, idp.token(server.url, sub="dave"))).status_code == 200
        assert "principal is the name of a static token" in server.log()
