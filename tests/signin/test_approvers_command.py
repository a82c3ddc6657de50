"""`integrations-mcp approvers enrol | list | remove`, the operator's side of passkeys: a one-time link at the pages'
public address (the running HTTP server's, named localhost for a loopback listener), served by the command itself
under stdio until used or expired; the list of passkeys and pending links; removal. Every bad input exits 2 with a
sentence naming the fix. The ceremony through these links: test_passkey_served.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest

from integrations_mcp.cli import main
from integrations_mcp.pages.signin.passkey import PasskeySignIn
from integrations_mcp.state import StateStore

KEY = "approvers-command-state-key-0123456789"


@pytest.fixture
def state_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"
    for name in ("INTEGRATIONS_TRANSPORT", "INTEGRATIONS_PUBLIC_URL", "INTEGRATIONS_PORT", "INTEGRATIONS_HOST",
                 "INTEGRATIONS_FORMS_PORT", "INTEGRATIONS_FORMS_HOST", "INTEGRATIONS_SIGNIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEGRATIONS_STATE_URL", url)
    monkeypatch.setenv("INTEGRATIONS_STATE_KEY", KEY)
    return url


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["approvers", *args])
    out, err = capsys.readouterr()
    return code, out, err


def enrolled(state_url: str, token: str, credential_id: str) -> None:
    """As if the person finished the ceremony on the link (the ceremony itself: test_passkey.py)."""
    async def finish() -> None:
        signin = PasskeySignIn.over(StateStore(state_url), KEY)
        assert await signin.store.enrol(token, credential_id=credential_id, public_key=b"cose", sign_count=0,
                                        rp_id="localhost")
        await signin.store.state.close()

    anyio.run(finish)


def test_over_http_the_link_is_the_running_servers_and_works_once(state_url: str, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INTEGRATIONS_TRANSPORT", "http")
    monkeypatch.setenv("INTEGRATIONS_PORT", "8123")
    code, out, _ = run("enrol", "--subject", "dana", "--name", "Dana Scully", "--approver", capsys=capsys)
    assert code == 0
    link = re.search(r"(\S+/enrol/(\S+))", out)
    assert link[1].startswith("http://localhost:8123/secure-forms/signin/passkey/enrol/")
    assert "valid once for 30 minutes" in out
    assert run("list", capsys=capsys)[1].startswith("dana  'Dana Scully'  enrolment link pending until ")

    enrolled(state_url, link[2], "credential-of-dana-0001")
    listed = json.loads(run("list", "--json", capsys=capsys)[1])
    assert listed["pending_links"] == []
    [passkey] = listed["passkeys"]
    assert passkey["subject"] == "dana" and passkey["roles"] == ["integrations:approve"]
    assert passkey["rp_id"] == "localhost" and passkey["last_used_at"] is None
    code, out, _ = run("remove", "--credential", "credential-of-dana", capsys=capsys)
    assert code == 0 and "Removed 1 passkey(s)" in out
    assert json.loads(run("list", "--json", capsys=capsys)[1])["passkeys"] == []


def test_a_public_url_gives_the_links_address(state_url: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INTEGRATIONS_TRANSPORT", "http")
    monkeypatch.setenv("INTEGRATIONS_PUBLIC_URL", "https://mcp.example.com")
    code, out, _ = run("enrol", "--subject", "erin", capsys=capsys)
    assert code == 0 and "https://mcp.example.com/secure-forms/signin/passkey/enrol/" in out


def test_removing_a_subject_removes_its_pending_links(state_url: str, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INTEGRATIONS_TRANSPORT", "http")
    run("enrol", "--subject", "frank", capsys=capsys)
    code, out, _ = run("remove", "--subject", "frank", capsys=capsys)
    assert code == 0 and "Removed 0 passkey(s) and any pending enrolment link" in out
    assert "No passkeys enrolled" in run("list", capsys=capsys)[1]


def test_under_stdio_the_command_serves_the_link_until_it_expires(state_url: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("enrol", "--subject", "os:dana", "--minutes", "0.02", capsys=capsys)
    assert code == 1
    assert re.search(r"http://localhost:\d+/secure-forms/signin/passkey/enrol/\S+", out)
    assert "expired before anyone enrolled" in out


@pytest.mark.parametrize(("args", "env", "needle"), [
    (["enrol", "--subject", "  "], {}, "--subject must be 1 to 200 visible characters"),
    (["enrol", "--subject", "dana\x1b[31m"], {}, "--subject must be"),
    (["enrol", "--subject", "d" * 201], {}, "--subject must be"),
    (["enrol", "--subject", "dana", "--name", "\n"], {}, "--name must be"),
    (["enrol", "--subject", "dana", "--minutes", "0"], {}, "--minutes must be more than 0"),
    (["enrol", "--subject", "dana", "--minutes", "nan"], {}, "--minutes must be"),
    (["enrol", "--subject", "dana", "--minutes", "99999"], {}, "--minutes must be"),
    (["enrol", "--subject", "dana"], {"INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:"}, "in memory"),
    (["enrol", "--subject", "dana", "--no-serve"],
     {"INTEGRATIONS_TRANSPORT": "http", "INTEGRATIONS_PUBLIC_URL": "http://mcp.example.com"}, "https://"),
    (["remove"], {}, "Give --subject"),
    (["remove", "--credential", " "], {}, "at least its first 8 characters"),
    (["remove", "--subject", "a", "--credential", "b" * 8], {}, "Give --subject"),
])
def test_bad_input_exits_2_saying_what_to_do(state_url: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], args: list[str],
                                             env: dict[str, str], needle: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(*args, capsys=capsys)
    assert code == 2 and needle in err and out == ""


def test_logs_never_show_an_enrolment_links_token() -> None:
    from integrations_mcp.server.log_hygiene import scrub

    token = "5hC6HST4Rt1CCFCLexgk0kwOWYi4fEdOfVSTPWN8Aq0"
    line = scrub(f'"GET /secure-forms/signin/passkey/enrol/{token} HTTP/1.1" 200')
    assert token not in line and "/passkey/enrol/[hidden]" in line


def test_under_stdio_a_taken_fixed_port_is_left_to_the_running_servers_listener(
        state_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("INTEGRATIONS_FORMS_PORT", str(port))
        code, out, _ = run("enrol", "--subject", "os:dana", capsys=capsys)
    assert code == 0 and f"Port {port} is taken" in out
    assert f"http://localhost:{port}/secure-forms/signin/passkey/enrol/" in out
    assert "whose pages use passkeys" in out


def test_enrolling_for_a_server_without_passkeys_says_so(state_url: str, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INTEGRATIONS_TRANSPORT", "http")
    monkeypatch.delenv("INTEGRATIONS_SIGNIN", raising=False)
    assert "INTEGRATIONS_SIGNIN does not include passkey" in run("enrol", "--subject", "dana", capsys=capsys)[2]
    monkeypatch.setenv("INTEGRATIONS_SIGNIN", "passkey")
    assert run("enrol", "--subject", "dana", capsys=capsys)[2] == ""
