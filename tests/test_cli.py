"""The README's promises: the demo runs end to end, and the built wheel carries what the server needs at run time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.harness import clean_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_every_step_and_exits_zero() -> None:
    done = subprocess.run([sys.executable, "-m", "integrations_mcp", "demo"], capture_output=True, text=True,
                          timeout=180, env=clean_env(), stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for needle in ("GetSiteThirdPartyIntegrations", "secure form", "verified by reading it back",
                   "the person approves", "the person declines", "did not approve", "approval link", "approval_id",
                   "incomplete", "Demo complete"):
        assert needle in out, needle


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, timeout=300, env=clean_env())
    (built,) = out.glob("integrations_mcp-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_guides_schemas_and_entry_point(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    guides = [n for n in names if n.startswith("integrations_mcp/guides/") and n.endswith(".md")]
    sources = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src/integrations_mcp/guides").rglob("*.md")}
    assert sources and sources <= set(guides)
    schemas = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.json")}
    assert schemas and schemas <= set(names)
    migrations = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src/integrations_mcp/state/migrations")
                  .rglob("*.py")}
    assert len(migrations) >= 4 and migrations <= set(names)  # env.py and the versions: run at start from the wheel
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "integrations-mcp = integrations_mcp.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.slow
def test_wheel_metadata_is_listing_ready(wheel: Path) -> None:
    """SPDX licence expression with its file, valid classifiers, project URLs, and an upper bound on every
    dependency (what PyPI and the MCP registry show)."""
    from email.parser import Parser

    from packaging.requirements import Requirement
    from trove_classifiers import classifiers

    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    meta = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    assert tuple(map(int, meta["Metadata-Version"].split("."))) >= (2, 4)
    assert meta["License-Expression"] == "MIT" and meta["License"] is None
    assert meta.get_all("License-File") == ["LICENSE"]
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    assert archive.read(licence).decode().startswith("MIT License")
    listed = meta.get_all("Classifier")
    assert listed and set(listed) <= classifiers and not any(c.startswith("License ::") for c in listed)
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(urls)
    assert "mcp-name: io.github." in meta.get_payload()  # the README is the long description PyPI shows
    for line in meta.get_all("Requires-Dist"):
        requirement = Requirement(line)
        if requirement.marker is None:  # the runtime dependencies, not the test extra
            assert any(s.operator in ("<", "<=", "~=", "==") for s in requirement.specifier), line


@pytest.mark.slow
def test_installed_wheel_serves_guides_and_tools(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel alone into a folder and run the sandbox from it, not from the source tree."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300, env=clean_env())
    probe = (
        "import anyio, integrations_mcp, sys\n"
        "from mcp import Client\n"
        "from integrations_mcp.server.app import build_server\n"
        "from integrations_mcp.server.sandbox import sandbox\n"
        "from integrations_mcp.server.settings import Settings\n"
        "from integrations_mcp.state import StateStore\n"
        "assert integrations_mcp.__file__.startswith(sys.argv[1]), integrations_mcp.__file__\n"
        "async def main():\n"
        "    await StateStore('sqlite+aiosqlite:///' + sys.argv[1] + '/state.sqlite3').migrate()\n"
        "    with sandbox(Settings()) as (settings, _):\n"
        "        async with Client(build_server(settings)) as c:\n"
        "            uris = [str(r.uri) for r in (await c.list_resources()).resources]\n"
        "            assert 'guide://revcent/lifecycle' in uris, uris\n"
        "            r = await c.call_tool('GetSiteThirdPartyIntegrations', {})\n"
        "            assert not r.is_error, r\n"
        "            print(len(uris), r.structured_content['count'])\n"
        "anyio.run(main)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, timeout=120,
                          env=clean_env(PYTHONPATH=str(target)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    resources, sites = map(int, done.stdout.split())
    assert resources >= 10 and sites == 6


def test_demo_exits_non_zero_when_a_step_misbehaves(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from integrations_mcp import demo

    async def misbehaving(steps: object) -> None:
        raise demo.DemoFailure("planted: a refusal did not happen")

    monkeypatch.setattr(demo, "_revcent_flow", misbehaving)
    assert demo.run_demo() == 1
    assert "DEMO FAILED: planted" in capsys.readouterr().err


# --- a command line that explains itself (issue 21) ---------------------------------------------------------------

def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
            **env: str) -> tuple[int, str, str]:
    """`integrations-mcp *args` in process, with exactly `env` (plus a state database in memory unless given)."""
    from integrations_mcp.cli import main

    for name in [n for n in os.environ if n.startswith(("INTEGRATIONS_", "REVCENT_", "CXENGAGE_"))]:
        monkeypatch.delenv(name)
    for name, value in {"INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:", **env}.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from integrations_mcp import __version__

    assert run_cli(monkeypatch, capsys, "--version")[:2] == (0, f"integrations-mcp {__version__}\n")


def test_serve_help_names_every_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from integrations_mcp.server.config_report import setting_names

    code, out, _ = run_cli(monkeypatch, capsys, "serve", "--help")
    flat = " ".join(out.split())
    assert code == 0 and "integrations-mcp config" in flat
    assert len(setting_names()) >= 30
    for name in setting_names():
        assert name in flat, name


def test_config_lists_each_setting_with_source_and_value_secrets_hidden(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    key, token, state_key = "rk-" + "9" * 30, "t" * 40, "s" * 40
    code, out, err = run_cli(monkeypatch, capsys, "config", "--transport", "http", REVCENT_API_KEY=key,
                             INTEGRATIONS_AUTH_TOKEN=token, INTEGRATIONS_STATE_KEY=state_key,
                             INTEGRATIONS_STATE_URL="postgresql://mcp:hunter2-password@db.example/x",
                             INTEGRATIONS_APPROVAL_MINUTES="5", INTEGRATIONS_MAX_OPEN_FORMS="7")
    assert code == 0, err
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines()[1:-1]}
    assert rows["REVCENT_API_KEY"] == ["env", "<set, hidden>"]
    assert rows["INTEGRATIONS_STATE_KEY"] == ["env", "<set, hidden>"]
    assert rows["INTEGRATIONS_AUTH_TOKEN"] == ["env", "default (integrations:read integrations:write)"]
    assert rows["INTEGRATIONS_STATE_URL"] == ["env", "postgresql://mcp:[redacted]@db.example/x"]
    assert rows["INTEGRATIONS_TRANSPORT"] == ["flag", "http"]
    assert rows["INTEGRATIONS_APPROVAL_MINUTES"] == ["env", "5.0"]
    assert rows["INTEGRATIONS_JOURNAL_DAYS"] == ["default", "90.0"]
    assert rows["INTEGRATIONS_MAX_OPEN_FORMS"] == ["env", "7"]  # the limits show their values too
    assert rows["INTEGRATIONS_MAX_IN_FLIGHT"] == ["default", "256"]
    assert rows["REVCENT_BASE_URL"] == ["default", "https://api.revcent.com/v2"]
    assert out.splitlines()[-1].startswith("Valid")
    for secret in (key, token, state_key, "hunter2"):
        assert secret not in out + err
    code, out, _ = run_cli(monkeypatch, capsys, "config", "--sandbox", "--json")
    document = json.loads(out)
    assert code == 0 and document["valid"] is True
    assert {row["name"] for row in document["settings"]} >= {"INTEGRATIONS_HTTP_TIMEOUT", "CXENGAGE_AUTH"}


@pytest.mark.parametrize(("env", "needle"), [
    ({"INTEGRATIONS_STATE_URL": "sqlite:///state.db"}, "sqlite+aiosqlite:///"),
    ({"INTEGRATIONS_STATE_URL": "postgresql+psycopg2://u@h/db"}, "postgresql://"),
    ({"INTEGRATIONS_PORT": "eighty"}, "INTEGRATIONS_PORT"),
    ({}, "No vendor is configured"),
])
def test_config_refuses_what_serve_refuses_at_start(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                    needle: str) -> None:
    code, _, err = run_cli(monkeypatch, capsys, "config", **{"REVCENT_API_KEY": "k" * 20, **env}
                           if env else {})
    assert code == 2 and needle in err and "Traceback" not in err


def test_a_blocking_sqlite_url_is_refused_when_serve_starts() -> None:
    """Not at the first write: serve exits 2 before it serves anything."""
    done = subprocess.run([sys.executable, "-m", "integrations_mcp", "serve"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL,
                          env=clean_env(REVCENT_API_KEY="k" * 20, INTEGRATIONS_STATE_URL="sqlite:///state.db"))
    assert done.returncode == 2 and "sqlite+aiosqlite:///" in done.stderr and done.stdout == ""


@pytest.mark.parametrize("vendor", ["revcent", "cxengage"])
def test_check_runs_against_the_sandbox(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        vendor: str) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "check", "--vendor", vendor, "--sandbox")
    assert code == 0, out + err
    assert out.startswith(f"{vendor} facts against http://127.0.0.1:") and " 0 failed" in out


def test_changes_lists_and_filters_the_journal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    import anyio

    from integrations_mcp.state import StateStore
    from integrations_mcp.state.journal import ChangeRow, JournalTable

    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"

    async def fill() -> None:
        table = JournalTable(StateStore(url))
        for n, (who, at) in enumerate([("alice", 1_800_000_000.0), ("bob", 1_800_086_400.0),
                                       ("alice", 1_800_172_800.0)]):
            await table.add(ChangeRow(principal=who, tool="EditUserThirdPartyIntegration", vendor="revcent",
                                      target=f"Tax {n}", outcome="written and verified", at=at,
                                      changes=[{"field": "description", "saved": "a", "proposed": "b",
                                                "overwrites": True}], approved_by=who, approved_how="in the client"))

    anyio.run(fill)
    code, out, err = run_cli(monkeypatch, capsys, "changes", INTEGRATIONS_STATE_URL=url)
    assert code == 0, err
    assert out.splitlines()[1:] == ["2027-01-17", "#3 T08:00Z alice Tax 2 (description): verified ✓client",
                                    "2027-01-16", "#2 T08:00Z bob Tax 1 (description): verified ✓client",
                                    "2027-01-15", "#1 T08:00Z alice Tax 0 (description): verified ✓client"]
    code, out, _ = run_cli(monkeypatch, capsys, "changes", "--principal", "alice", "--since", "2027-01-16",
                           "--json", INTEGRATIONS_STATE_URL=url)
    page = json.loads(out)
    assert code == 0 and [c["id"] for c in page["results"]] == [3] and page["results"][0]["at"] == \
        "2027-01-17T08:00:00Z"
    code, out, _ = run_cli(monkeypatch, capsys, "changes", "--limit", "1", INTEGRATIONS_STATE_URL=url)
    assert out.splitlines()[-1] == "Older: before=3."
    code, out, _ = run_cli(monkeypatch, capsys, "changes", "--id", "2", INTEGRATIONS_STATE_URL=url)
    assert code == 0 and "Change #2 at 2027-01-16T08:00:00Z by bob" in out and "description: 'a' → 'b'" in out
    code, _, err = run_cli(monkeypatch, capsys, "changes", "--since", "last week", INTEGRATIONS_STATE_URL=url)
    assert code == 2 and "ISO 8601" in err


@pytest.mark.slow
def test_serve_in_a_terminal_says_it_waits_for_a_client() -> None:
    """stdin a terminal (a person typed `serve`): stderr says what it is waiting for and how to connect a client."""
    import pty

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "integrations_mcp", "serve", "--sandbox"], stdin=terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), text=True)
    try:
        deadline, err = time.monotonic() + 60, ""
        while "Ctrl-C" not in err and time.monotonic() < deadline and proc.poll() is None:
            err += os.read(proc.stderr.fileno(), 4096).decode()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.close(controller)
        os.close(terminal)
    assert "waiting for an MCP client" in err and "claude mcp add integrations" in err and "serve --sandbox" in err


@pytest.mark.parametrize("url", ["postgresql://mcp:p@ss-w0rd@db.example/x",
                                 "postgresql://db.example/x?password=p@ss-w0rd&sslmode=require"])
def test_config_hides_a_state_url_password_wherever_it_sits(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "config", REVCENT_API_KEY="k" * 20, INTEGRATIONS_STATE_URL=url,
                             INTEGRATIONS_STATE_KEY="s" * 40)
    assert code == 0, err
    assert "ss-w0rd" not in out and "db.example/x" in out


def test_config_masks_a_secret_looking_value_of_any_setting(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A setting this command does not know (one added later) is shown as given, unless it looks like a secret."""
    from integrations_mcp.server import config_report

    monkeypatch.setattr(config_report, "setting_names", lambda: ["INTEGRATIONS_EXTRA_LABEL"])
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTgwMDAwMDAwMH0.c2lnbmF0dXJlLXZhbHVlLWhlcmU"
    code, out, _ = run_cli(monkeypatch, capsys, "config", REVCENT_API_KEY="k" * 20,
                           INTEGRATIONS_EXTRA_LABEL=f"Bearer {jwt}")
    assert code == 0 and "INTEGRATIONS_EXTRA_LABEL" in out and jwt not in out


def test_changes_without_a_state_file_creates_none(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.sqlite3"
    code, out, _ = run_cli(monkeypatch, capsys, "changes", INTEGRATIONS_STATE_URL=f"sqlite+aiosqlite:///{missing}")
    assert code == 0 and out.startswith("No changes yet") and not missing.exists()
