"""The client snippets of the README and docs/clients.md work as printed: each is read from its file, the server is
started exactly as the snippet says (command, args, env, placeholders left in) and a real MCP client completes
initialize + tools/list. The only substitutions are the ones the docs name: `/path/to/.venv` (this virtual
environment), `/path/to/integrations-mcp` (this checkout) and, for HTTP, the port. Where the client has a CLI (Claude
Code, from npm) the CLI itself adds the server and health-checks it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.harness import STARTUP_SECONDS, _wait_until_listening, clean_env, free_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent  # where `pip install -e .[test]` put integrations-mcp and uvx
SNIPPET = re.compile(r"<!-- snippet: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.DOTALL)
REVCENT_TOOL, CXENGAGE_TOOL = "GetSiteThirdPartyIntegrations", "GetCxEngageIntegrations"
GUIDE_TOOL = "GetIntegrationGuide"
# Claude Code installed from npm by scripts/test.sh (or CLAUDE_CLI): `claude mcp add/list/get` are tested for real.
CLAUDE = Path(os.environ.get("CLAUDE_CLI") or ROOT / ".cache/npm/node_modules/.bin/claude")


SNIPPET_FILES = ("README.md", "docs/clients.md")


def snippets() -> dict[str, str]:
    """Every snippet by name; one printed in both files (the README's Claude Code) must read the same in both."""
    found: dict[str, str] = {}
    for name in SNIPPET_FILES:
        for m in SNIPPET.finditer((ROOT / name).read_text()):
            assert found.setdefault(m["name"], m["body"]) == m["body"], f"{m['name']} differs in {name}"
    return found


def localised(text: str) -> str:
    return text.replace("/path/to/.venv", str(VENV_BIN.parent)).replace("/path/to/integrations-mcp", str(ROOT))


def stdio_entry(name: str) -> dict[str, Any]:
    """The server entry of a JSON snippet (Claude Desktop, Cursor: `mcpServers`; VS Code: `servers`)."""
    doc = json.loads(localised(snippets()[name]))
    return (doc.get("mcpServers") or doc["servers"])["integrations"]


def client_env(**extra: str) -> dict[str, str]:
    """What a desktop client gives a server it starts: a minimal environment (the venv first on PATH, as for a
    user who has uv installed; the machine's TLS and proxy settings, which uv needs to reach the package index)
    plus the snippet's `env`; nothing of the developer's vendor settings."""
    network = {k: v for k, v in os.environ.items() if k in NETWORK or k.startswith("UV_INDEX")}
    return clean_env(PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", UV_CACHE_DIR=str(UV_CACHE),
                     **network, **extra)


NETWORK = ("SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
           "no_proxy", "UV_DEFAULT_INDEX", "UV_NATIVE_TLS", "UV_SYSTEM_CERTS")


UV_CACHE = Path(tempfile.gettempdir()) / "integrations-mcp-test-uv-cache"


async def tools_of(entry: dict[str, Any], env: dict[str, str] | None = None) -> tuple[list[str], str, str]:
    """Start the server as `entry` says; (tool names, server instructions, server stderr)."""
    env = entry.get("env", {}) if env is None else env
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=client_env(**env))
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=300) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            instructions = client.instructions or ""
        errlog.seek(0)
        return names, instructions, errlog.read()


def test_the_docs_have_every_client_snippet() -> None:
    assert set(snippets()) >= {"claude-desktop", "claude-desktop-both", "claude-code", "cursor", "vscode", "uvx",
                               "http-server", "claude-code-http", "http-client", "vscode-http", "cursor-http"}
    assert '"servers"' in snippets()["vscode"] and '"type": "stdio"' in snippets()["vscode"]
    assert '"servers"' in snippets()["vscode-http"] and '"type": "http"' in snippets()["vscode-http"]
    readme = {m["name"] for m in SNIPPET.finditer((ROOT / "README.md").read_text())}
    assert readme == {"claude-code"}, "the README connects one client; the others are in docs/clients.md"


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("name", ["claude-desktop", "claude-desktop-both", "cursor", "vscode", "uvx"])
async def test_a_snippet_as_printed_starts_and_says_what_to_fill_in(name: str) -> None:
    entry = stdio_entry(name)
    tools, instructions, stderr = await tools_of(entry)
    assert tools == [GUIDE_TOOL]
    assert instructions.startswith("Not configured yet") and "REVCENT_API_KEY" in instructions
    assert "REVCENT_API_KEY" in stderr and "placeholder" in stderr and "Traceback" not in stderr


def filled(name: str, key: str) -> dict[str, str]:
    """The env the client passes once the person did what the snippet asks: typed the key over the placeholder
    (Claude Desktop), exported it (Cursor's ${env:...}) or answered the prompt (VS Code's ${input:...})."""
    env = dict(stdio_entry(name)["env"])
    env["REVCENT_API_KEY"] = key
    return env


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("name", ["claude-desktop", "claude-desktop-both", "cursor", "vscode"])
async def test_a_revcent_only_snippet_serves_the_revcent_tools(name: str) -> None:
    """claude-desktop-both is the issue's case: the RevCent key filled in, the CxEngage lines left as printed."""
    tools, instructions, stderr = await tools_of(stdio_entry(name), filled(name, "rc-key-123"))
    assert REVCENT_TOOL in tools and CXENGAGE_TOOL not in tools
    assert not instructions.startswith("Not configured")
    assert ("CXENGAGE_TENANT_ID" in stderr) == (name == "claude-desktop-both")
    assert "rc-key-123" not in stderr


# --- Claude Code, the real CLI --------------------------------------------------------------------------------------

def claude(*args: str, home: Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    if not CLAUDE.exists():
        pytest.skip(f"Claude Code's CLI is not installed at {CLAUDE}: scripts/test.sh installs it from npm")
    done = subprocess.run([str(CLAUDE), *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL, env=claude_env(home, **(env or {})))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def claude_env(home: Path, **extra: str) -> dict[str, str]:
    return client_env(HOME=str(home), DISABLE_TELEMETRY="1", DISABLE_AUTOUPDATER="1",
                      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", **extra)


def run_lines(snippet: str, *, home: Path, cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    """Each line of a bash snippet, run with the Claude Code CLI on PATH (comments are bash's)."""
    outputs = []
    for line in localised(snippet).splitlines():
        if not CLAUDE.exists():
            pytest.skip(f"Claude Code's CLI is not installed at {CLAUDE}: scripts/test.sh installs it from npm")
        path = f"{CLAUDE.parent}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        done = subprocess.run(["bash", "-c", line], cwd=cwd, capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL, env={**claude_env(home, **(env or {})), "PATH": path})
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout)
    return outputs


def claude_config(home: Path, cwd: Path) -> dict[str, Any]:
    """The server entries the CLI saved for this project (local scope, the default of `claude mcp add`)."""
    saved = json.loads((home / ".claude.json").read_text())
    return saved["projects"][str(cwd)]["mcpServers"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_claude_code_adds_the_server_and_connects_to_it(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    added, listed = run_lines(snippets()["claude-code"], home=home, cwd=project)
    assert re.search(r"^integrations: .*integrations-mcp serve - . Connected$", listed, re.MULTILINE), listed
    shown = claude("mcp", "get", "integrations", home=home, cwd=project)
    assert "REVCENT_API_KEY=your-revcent-api-key" in shown and "Args: serve" in shown
    # What the CLI saved, started the way Claude Code starts it: the placeholder key is reported, not fatal.
    entry = claude_config(home, project)["integrations"]
    tools, instructions, _ = await tools_of(entry)
    assert tools == [GUIDE_TOOL] and "REVCENT_API_KEY" in instructions
    tools, _, _ = await tools_of(entry, {"REVCENT_API_KEY": "rc-key-123"})
    assert REVCENT_TOOL in tools and CXENGAGE_TOOL not in tools


@pytest.mark.slow
def test_claude_code_health_check_fails_for_a_server_that_does_not_start(tmp_path: Path) -> None:
    """The check above can fail: a server that exits at once is reported as failed, not connected."""
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    claude("mcp", "add", "broken", "--", str(VENV_BIN / "integrations-mcp"), "serve", home=home, cwd=project)
    listed = claude("mcp", "list", home=home, cwd=project)
    assert "broken:" in listed and "Connected" not in listed, listed


# --- over HTTP with a bearer token ----------------------------------------------------------------------------------

@contextmanager
def http_server_as_printed(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """The http-server snippet, run by bash as printed on a free port (INTEGRATIONS_PORT); yields the port and the
    token the snippet generated."""
    port, token_file = free_port(), tmp_path / "token"
    *setup, serve = snippets()["http-server"].splitlines()
    script = "\n".join([*setup, f'printf %s "$INTEGRATIONS_AUTH_TOKEN" > {token_file}', f"exec {serve}"])
    env = client_env(INTEGRATIONS_PORT=str(port))
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(["bash", "-c", script], stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
        try:
            _wait_until_listening(proc, port, output)
            token = token_file.read_text()
            assert len(token) >= 40, "the snippet generates a long random token"
            yield port, token
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def expanded(name: str, token: str) -> tuple[dict[str, Any], dict[str, str]]:
    """An HTTP snippet's server entry and its headers as its client expands them: `${VAR}` (Claude Code's
    .mcp.json) and `${env:VAR}` (Cursor) from the environment the token was exported in, `${input:id}` (VS Code)
    with what the person typed at the prompt of that declared input. Anything left unexpanded fails."""
    doc = json.loads(snippets()[name])
    entry = (doc.get("mcpServers") or doc["servers"])["integrations"]
    environment = {"INTEGRATIONS_AUTH_TOKEN": token}
    prompts = {i["id"]: token for i in doc.get("inputs", []) if i["type"] == "promptString" and i.get("password")}

    def expand(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            kind, _, key = match[1].rpartition(":")
            found = (prompts if kind == "input" else environment if kind in ("", "env") else {}).get(key)
            assert found is not None, f"{name}: ${{{match[1]}}} is not something its client expands"
            return found
        return re.sub(r"\$\{([^}]+)\}", one, value)

    return entry, {k: expand(v) for k, v in entry["headers"].items()}


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("name", ["http-client", "vscode-http", "cursor-http"])
async def test_an_http_client_with_the_bearer_token_lists_the_tools(tmp_path: Path, name: str) -> None:
    with http_server_as_printed(tmp_path) as (port, token):
        entry, headers = expanded(name, token)
        url = entry["url"].replace(":8000/", f":{port}/")
        assert entry.get("type", "http") == "http" and headers["Authorization"] == f"Bearer {token}"
        async with httpx2.AsyncClient(headers=headers, timeout=STARTUP_SECONDS) as http, \
                Client(streamable_http_client(url, http_client=http)) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
        assert tools == [GUIDE_TOOL]  # the snippet's REVCENT_API_KEY is still the placeholder


@pytest.mark.slow
def test_claude_code_connects_over_http_with_the_bearer_token(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    with http_server_as_printed(tmp_path) as (port, token):
        line = snippets()["claude-code-http"].replace(":8000/", f":{port}/")
        run_lines(line, home=home, cwd=project, env={"INTEGRATIONS_AUTH_TOKEN": token})
        saved = claude_config(home, project)["integrations"]
        assert saved["headers"] == {"Authorization": f"Bearer {token}"}, "the shell expanded the token"
        listed = claude("mcp", "list", home=home, cwd=project)
        assert re.search(rf"^integrations: http://localhost:{port}/mcp \(HTTP\) - . Connected$", listed,
                         re.MULTILINE), listed


# --- uvx -------------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.anyio
async def test_uvx_from_a_checkout_serves_the_revcent_tools() -> None:
    """uv resolves the dependencies from the package index (PyPI) into its cache, then runs the entry point."""
    assert shutil.which("uvx", path=str(VENV_BIN)), "the test extra installs uv"
    entry = stdio_entry("uvx")
    assert entry["command"] == "uvx"
    tools, _, stderr = await tools_of(entry, {"REVCENT_API_KEY": "rc-key-123"})
    assert REVCENT_TOOL in tools and CXENGAGE_TOOL not in tools, stderr[-2000:]
