"""The README's promises: the demo runs end to end, and the built wheel carries what the server needs at run time."""

from __future__ import annotations

import subprocess
import sys
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
