"""Listing-ready package: server.json valid against the MCP registry's published schema, one registry name and one
version everywhere, pinned image dependencies inside pyproject's ranges, and a container whose HEALTHCHECK and
compose service work when run (without Docker: the same commands, on this machine)."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jsonschema
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from packaging.requirements import Requirement

import integrations_mcp
from tests.harness import STARTUP_SECONDS, _wait_until_listening, clean_env, free_port, serve_http

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SERVER_JSON = json.loads((ROOT / "server.json").read_text())
SCHEMA = json.loads((ROOT / "packaging/server.schema.json").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICE = COMPOSE["services"]["integrations-mcp"]


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(document)]


# The published https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json (packaging/README.md).
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"


def test_server_json_is_valid_against_the_registry_schema() -> None:
    assert hashlib.sha256((ROOT / "packaging/server.schema.json").read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SERVER_JSON["$schema"] == SCHEMA["$id"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/" \
                                                       "server.schema.json"
    assert schema_errors(SERVER_JSON) == []


@pytest.mark.parametrize(("path", "bad"), [
    (("description",), "x" * 101), (("name",), "integrations-mcp"), (("packages", 0, "version"), "latest"),
    (("packages", 1, "transport"), None), (("packages", 0, "transport", "type"), "carrier-pigeon"),
    (("repository", "source"), None), (("title",), ""), (("version",), None),
])
def test_the_schema_check_catches_what_the_registry_would_refuse(path: tuple[Any, ...], bad: str | None) -> None:
    document = copy.deepcopy(SERVER_JSON)
    target = document
    for key in path[:-1]:
        target = target[key]
    if bad is None:
        del target[path[-1]]
    else:
        target[path[-1]] = bad
    assert schema_errors(document)


def registry_name_from_repository() -> str:
    owner, repo = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", PYPROJECT["urls"]["Repository"]).groups()
    return f"io.github.{owner}/{repo}"


def test_one_registry_name_everywhere() -> None:
    name = registry_name_from_repository()
    assert SERVER_JSON["name"] == name
    assert f"<!-- mcp-name: {name} -->" in (ROOT / "README.md").read_text()  # PyPI ownership check
    assert f'io.modelcontextprotocol.server.name="{name}"' in DOCKERFILE  # image ownership check
    assert SERVER_JSON["repository"]["url"] == PYPROJECT["urls"]["Repository"]


def test_one_version_everywhere() -> None:
    version = PYPROJECT["version"]
    pypi, oci = SERVER_JSON["packages"]
    assert integrations_mcp.__version__ == SERVER_JSON["version"] == pypi["version"] == version
    assert pypi["identifier"] == PYPROJECT["name"] and oci["identifier"].endswith(f":{version}")
    assert f"ARG VERSION={version}\n" in DOCKERFILE and SERVICE["image"] == f"integrations-mcp:{version}"


def test_server_json_lists_the_vendor_variables_secret_ones_as_secret() -> None:
    readme = (ROOT / "docs/configuration.md").read_text()
    for package in SERVER_JSON["packages"]:
        for variable in package["environmentVariables"]:
            assert f"`{variable['name']}`" in readme, variable["name"]
            secret = variable["name"].endswith(("_API_KEY", "_API_SECRET"))
            assert variable.get("isSecret", False) == secret, variable["name"]


def test_every_runtime_dependency_has_an_upper_bound_and_an_image_pin_inside_its_range() -> None:
    pins = {}
    for line in (ROOT / "packaging/constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            pins[requirement.name.lower()] = spec.version
    for line in PYPROJECT["dependencies"]:
        requirement = Requirement(line)
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier), line
        pinned = pins.get(requirement.name.lower())
        assert pinned is not None, f"{requirement.name} has no pin: regenerate packaging/constraints.txt"
        assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned} is outside {line}"


def test_the_dockerfile_labels_its_image() -> None:
    for label in ("org.opencontainers.image.source", "org.opencontainers.image.licenses=\"MIT\"",
                  "org.opencontainers.image.version", "org.opencontainers.image.title"):
        assert label in DOCKERFILE, label
    assert "-c packaging/constraints.txt" in DOCKERFILE and "--no-index" in DOCKERFILE


# --- HEALTHCHECK ------------------------------------------------------------------------------------------------

def healthcheck_command() -> list[str]:
    command = re.search(r"^HEALTHCHECK [^\n]*(?:\\\n[^\n]*)*?CMD (\[[^\n]*\])$", DOCKERFILE, re.MULTILINE)
    assert command, "the Dockerfile has a HEALTHCHECK in exec form"
    return json.loads(command.group(1))


def probe(**env: str) -> int:
    command = healthcheck_command()
    assert command[0] == "python"  # the image's python; this test runs the same code with ours
    return subprocess.run([sys.executable, *command[1:]], env=clean_env(**env), capture_output=True,
                          timeout=30).returncode


def test_the_healthcheck_passes_under_stdio_where_there_is_nothing_to_probe() -> None:
    assert probe() == 0 and probe(INTEGRATIONS_TRANSPORT="stdio") == 0


def test_the_healthcheck_fails_under_http_when_nothing_answers() -> None:
    assert probe(INTEGRATIONS_TRANSPORT="http", INTEGRATIONS_PORT=str(free_port())) == 1


@pytest.mark.slow
def test_the_healthcheck_passes_against_a_running_http_server() -> None:
    with serve_http(env={"REVCENT_API_KEY": "k"}) as url:
        port = url.split(":")[2].split("/")[0]
        if httpx2.get(url.replace("/mcp", "/healthz"), timeout=10).status_code == 404:
            pytest.skip("this build has no /healthz yet (the HTTP auth branch adds it)")
        assert probe(INTEGRATIONS_TRANSPORT="http", INTEGRATIONS_PORT=port) == 0


# --- compose.yaml -----------------------------------------------------------------------------------------------

def test_compose_runs_http_with_tokens_and_the_key_from_secret_files() -> None:
    env = SERVICE["environment"]
    assert env["INTEGRATIONS_TRANSPORT"] == "http"
    secrets = {f"/run/secrets/{name}" for name in SERVICE["secrets"]}
    assert env["INTEGRATIONS_AUTH_TOKENS_FILE"] in secrets
    assert "REVCENT_API_KEY" not in env and "INTEGRATIONS_AUTH_TOKEN" not in env  # no secret in `docker inspect`
    assert set(SERVICE["secrets"]) == set(COMPOSE["secrets"])
    assert all(port.startswith("127.0.0.1:") for port in SERVICE["ports"])


def has_http_auth() -> bool:
    """Whether this build has the HTTP transport's authentication (server/auth/, issue 11's auth part)."""
    return importlib.util.find_spec("integrations_mcp.server.auth") is not None


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_compose_service_serves_with_its_token(tmp_path: Path) -> None:
    """The service's entrypoint and environment, run here as in the container, /run/secrets mapped to files."""
    (tmp_path / "mcp_tokens").write_text("# team tokens\nteam s3cret-team-token-0123456789abcdef\n")
    (tmp_path / "revcent_api_key").write_text("rc-key-123")
    port = free_port()
    env = {name: value.replace("/run/secrets", str(tmp_path)) for name, value in SERVICE["environment"].items()}
    env |= {"INTEGRATIONS_PORT": str(port), "INTEGRATIONS_HOST": "127.0.0.1",
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    command = [part.replace("/run/secrets", str(tmp_path)) for part in SERVICE["entrypoint"]]
    command = [part.replace("$$", "$") for part in command]  # compose's escape for a literal $
    with (tmp_path / "output").open("w+b") as output:
        proc = subprocess.Popen(command, env=clean_env(**env), stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            await anyio.to_thread.run_sync(_wait_until_listening, proc, port, output)
            if has_http_auth():
                refused = httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=10)
                assert refused.status_code == 401, "no token, no session"
            headers = {"Authorization": "Bearer s3cret-team-token-0123456789abcdef"}
            async with httpx2.AsyncClient(headers=headers, timeout=STARTUP_SECONDS) as http, \
                    Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
                tools = [tool.name for tool in (await client.list_tools()).tools]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        output.seek(0)
        log = output.read().decode(errors="replace")
    assert "GetSiteThirdPartyIntegrations" in tools, log
    assert "rc-key-123" not in log and "s3cret-team-token" not in log


@pytest.mark.slow
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (scripts/test.sh installs it from Debian when root)")
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    (tmp_path / "secrets").mkdir()
    for name in COMPOSE["secrets"]:
        (tmp_path / "secrets" / name).write_text("x")
    done = subprocess.run([compose, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    broken = (ROOT / "compose.yaml").read_text().replace("    secrets:\n", "    secretz:\n", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    assert subprocess.run([compose, "config", "-q"], cwd=tmp_path, capture_output=True, timeout=60).returncode != 0
