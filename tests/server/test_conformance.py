"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, Node 22; scripts/test.sh installs
both into .cache/conformance from the npm registry) against `serve --sandbox --transport http`: its server-generic
scenarios (the others need the suite's own test tools), with auth on and off.

The suite cannot send a token, so with auth on it talks to a loopback hop that adds `Authorization` to each request
and passes everything else (the Host header included, for the DNS-rebinding scenario) through unchanged."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from integrations_mcp.loopback import LoopbackServer
from tests.harness import serve_http

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / ".cache" / "conformance" / "node_modules" / ".bin"
SCENARIOS = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection", "server-sse-multiple-streams")
TOKEN = "conformance-" + "t" * 24
HOP_HEADERS = {b"content-length", b"transfer-encoding", b"connection"}


def _suite() -> Path:
    binary = SUITE / "conformance"
    if not binary.exists():
        pytest.skip("the conformance suite is not installed: run scripts/test.sh (needs the npm registry)")
    return binary


@contextmanager
def adding_token(upstream: str, token: str) -> Iterator[str]:
    """A loopback hop in front of `upstream` that adds `Authorization: Bearer token`; yields its MCP URL."""
    client = httpx2.AsyncClient(timeout=30)

    async def forward(request: Request) -> StreamingResponse:
        headers = [(k, v) for k, v in request.headers.raw if k not in HOP_HEADERS and k != b"authorization"]
        sent = client.build_request(request.method, upstream, headers=[*headers, (b"authorization",
                                    f"Bearer {token}".encode())], content=await request.body())
        answer = await client.send(sent, stream=True)
        kept = {k: v for k, v in answer.headers.items() if k.lower().encode() not in HOP_HEADERS}
        return StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, headers=kept,
                                 background=BackgroundTask(answer.aclose))

    hop = LoopbackServer(Starlette(routes=[Route("/mcp", forward, methods=["GET", "POST", "DELETE"])])).start()
    try:
        yield f"http://localhost:{hop.port}/mcp"
    finally:
        hop.stop()


def _run(url: str) -> None:
    binary = _suite()
    env = {**os.environ, "PATH": f"{SUITE}{os.pathsep}{os.environ.get('PATH', '')}"}  # its own node@22
    for scenario in SCENARIOS:
        done = subprocess.run([str(binary), "server", "--url", url, "--scenario", scenario], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and " 0 failed" in done.stdout, f"{scenario}:\n{done.stdout}\n{done.stderr}"


def test_generic_scenarios_pass_without_auth() -> None:
    _suite()
    with serve_http("--sandbox") as url:
        _run(url.replace("127.0.0.1", "localhost"))


def test_generic_scenarios_pass_with_auth_on() -> None:
    _suite()
    with serve_http("--sandbox", env={"INTEGRATIONS_AUTH_TOKEN": TOKEN}) as url:
        with httpx2.Client(timeout=10) as http:
            assert http.post(url, json={}).status_code == 401  # the suite's own requests would be refused
        with adding_token(url, TOKEN) as hop:
            _run(hop)
