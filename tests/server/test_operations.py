"""The operator's view from outside, as an operator meets it: `/metrics` scraped over real HTTP after one write (and
behind the bearer auth when auth is on), OTLP export received by a real OTLP/HTTP endpoint, `/readyz` failing when
the state database goes away (an unreachable URL, a SQLite file deleted or replaced, a real PostgreSQL stopped),
JSON logs on request, and a default start that stays quiet and imports none of the OpenTelemetry SDK."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from io import StringIO
from pathlib import Path
from typing import IO, Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations_mcp.guardrails.outputs import remember_configured_secrets
from integrations_mcp.loopback import LoopbackServer
from integrations_mcp.server.app import build_server
from integrations_mcp.server.log_hygiene import CapabilityFilter, JsonFormatter
from integrations_mcp.server.transports import http_app
from tests.harness import SERVE, _wait_until_listening, clean_env, cxengage_settings, free_port, serve_stdio
from tests.state.postgres import _as_postgres, running_postgres

pytestmark = pytest.mark.anyio

STAGES = ("plan", "check", "confirm", "send", "verify")
CREATE = {"name": "Ops desk", "type": "zendesk", "properties": {}}  # a whole write, nothing to confirm
READER, WRITER = "reader-token-0123456789abcdefABCDEF", "writer-token-0123456789abcdefABCDEF"
PASSWORD_CANARY = "canary-db-pw-5f3c1e"


@dataclass
class Served:
    base: str
    output: IO[bytes]
    final: str | None = None  # the whole output, once the server stopped

    def log(self) -> str:
        if self.final is not None:
            return self.final
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


@contextmanager
def serve(*args: str, env: dict[str, str]) -> Iterator[Served]:
    """`serve --transport http *args` as a subprocess, its output kept; stopped (SIGTERM) on exit."""
    port = free_port()
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen([*SERVE, "--transport", "http", "--port", str(port), *args], stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(**env))
        served = Served(f"http://127.0.0.1:{port}", output)
        try:
            _wait_until_listening(proc, port, output)
            yield served
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            served.final = served.log()


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, have, v in found if n == name and all(have.get(k) == w for k, w in labels.items()))


async def get(url: str, **headers: str) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.get(url, headers=headers)


# ------------------------------------------------------------------------------------------------------ /metrics

@pytest.mark.slow
async def test_metrics_after_one_write_carry_per_tool_per_stage_and_per_vendor_figures() -> None:
    with serve("--sandbox", env={"INTEGRATIONS_METRICS": "true"}) as served:
        with anyio.fail_after(60):
            async with Client(f"{served.base}/mcp") as client:
                created = await client.call_tool("CreateCxEngageIntegration", CREATE)
                assert not created.is_error, created.content
            scraped = await get(f"{served.base}/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert scraped.headers["cache-control"] == "no-store"
    found = samples(scraped.text)
    tool = {"tool": "CreateCxEngageIntegration"}
    assert value(found, "integrations_tool_calls_total", **tool, outcome="ok") == 1
    assert value(found, "integrations_tool_duration_seconds_count", **tool, outcome="ok") == 1
    for stage in STAGES:
        assert value(found, "integrations_stage_duration_seconds_count", **tool, stage=stage, outcome="ok") == 1, stage
    assert value(found, "integrations_vendor_duration_seconds_count", vendor="cxengage", method="POST",
                 status="200") == 1
    assert value(found, "integrations_vendor_duration_seconds_count", vendor="cxengage", method="GET") >= 1
    names = {n for n, _, _ in found}
    assert not {"integrations_refusals_total", "integrations_approvals_total"} & names  # none happened
    assert "CxEngage CreateIntegration POST -> 200" in served.log()


@pytest.mark.slow
async def test_metrics_are_behind_the_bearer_auth_when_auth_is_on(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"scraper {READER} integrations:read\nwriter {WRITER} integrations:write\n")
    env = {"INTEGRATIONS_METRICS": "true", "INTEGRATIONS_AUTH_TOKENS_FILE": str(tokens)}
    with serve("--sandbox", env=env) as served:
        with anyio.fail_after(60):
            anonymous = await get(f"{served.base}/metrics")
            wrong = await get(f"{served.base}/metrics", authorization=f"Bearer {READER[:-1]}x")
            writer = await get(f"{served.base}/metrics", authorization=f"Bearer {WRITER}")  # writing includes reading
            scraper = await get(f"{served.base}/metrics", authorization=f"Bearer {READER}")
            probes = [await get(f"{served.base}/{path}") for path in ("healthz", "readyz")]
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert scraper.status_code == 200 and scraper.headers["content-type"].startswith("text/plain")
    assert writer.status_code == 200
    assert [p.status_code for p in probes] == [200, 200]  # the orchestrator's probes carry no token
    assert READER not in served.log() and WRITER not in served.log()


def test_metrics_are_refused_under_stdio_and_without_the_extra_named() -> None:
    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.settings import load_settings

    with pytest.raises(ConfigurationError, match="INTEGRATIONS_TRANSPORT=http"):
        load_settings({"INTEGRATIONS_METRICS": "true"}, sandbox=True)
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_LOG_FORMAT"):
        load_settings({"INTEGRATIONS_LOG_FORMAT": "xml"}, sandbox=True)
    on = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_METRICS_EXPORTER": "none"},
                       sandbox=True)
    assert (on.otlp_traces, on.otlp_metrics) == (True, False)
    off = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"},
                        sandbox=True)
    assert (off.otlp_traces, off.otlp_metrics) == (False, False)


# ------------------------------------------------------------------------------------------------------ OTLP

@contextmanager
def otlp_receiver() -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    """A real OTLP/HTTP endpoint (what a collector's otlp receiver accepts): keeps every protobuf body."""
    received: dict[str, list[bytes]] = {"traces": [], "metrics": []}

    async def accept(request: Request) -> Response:
        received[request.path_params["signal"]].append(await request.body())
        return Response(b"", media_type="application/x-protobuf")

    server = LoopbackServer(Starlette(routes=[Route("/v1/{signal}", accept, methods=["POST"])])).start()
    try:
        yield server.url, received
    finally:
        server.stop()


def exported_spans(bodies: list[bytes]) -> list[Any]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    found = []
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        found += [span for r in request.resource_spans for s in r.scope_spans for span in s.spans]
    return found


def exported_metrics(bodies: list[bytes]) -> dict[str, list[Any]]:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    found: dict[str, list[Any]] = {}
    for body in bodies:
        request = ExportMetricsServiceRequest.FromString(body)
        for metric in (m for r in request.resource_metrics for s in r.scope_metrics for m in s.metrics):
            data = metric.sum if metric.HasField("sum") else metric.histogram
            found.setdefault(metric.name, []).extend(data.data_points)
    return found


def attributes(item: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in item.attributes}


@pytest.mark.slow
async def test_otlp_export_carries_the_stage_spans_and_the_figures_after_one_write() -> None:
    with otlp_receiver() as (endpoint, received):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100",
               "OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_SERVICE_NAME": "ops-test"}
        with anyio.fail_after(90):
            async with serve_stdio("--sandbox", env=env) as box:
                await box.ok("CreateCxEngageIntegration", CREATE)
                while not ({f"stage {s}" for s in STAGES} <= {s.name for s in exported_spans(received["traces"])}
                           and "integrations.stage.duration" in exported_metrics(received["metrics"])):
                    await anyio.sleep(0.2)
    spans = exported_spans(received["traces"])
    (tool_span,) = [s for s in spans if s.name == "tools/call CreateCxEngageIntegration"]
    assert attributes(tool_span)["integrations.outcome"] == "ok"
    for stage in STAGES:
        (span,) = [s for s in spans if s.name == f"stage {stage}"]
        assert span.trace_id == tool_span.trace_id
        assert attributes(span) == {"integrations.stage": stage, "integrations.tool": "CreateCxEngageIntegration",
                                    "integrations.vendor": "cxengage", "integrations.outcome": "ok"}
    posts = [s for s in spans if s.name == "cxengage CreateIntegration"]
    assert [attributes(s)["http.response.status_code"] for s in posts] == [200]
    metrics = exported_metrics(received["metrics"])
    calls = [attributes(p) for p in metrics["integrations.tool.calls"]]
    assert {"tool": "CreateCxEngageIntegration", "outcome": "ok"} in calls
    stages = {attributes(p)["stage"] for p in metrics["integrations.stage.duration"]}
    assert stages == set(STAGES)


# ------------------------------------------------------------------------------------------------------ /readyz

async def test_readyz_fails_with_a_short_reason_when_the_state_database_is_unreachable() -> None:
    url = f"postgresql+asyncpg://ops:{PASSWORD_CANARY}@127.0.0.1:{free_port()}/state"
    settings = replace(cxengage_settings(), transport="http", state_url=url, state_key="k" * 40)
    app = http_app(build_server(settings), settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        ready, health = await http.get("/readyz"), await http.get("/healthz")
        # An orchestrator probes by the pod's address: the probes skip the Host allowlist, nothing else does.
        by_address = [await http.get(path, headers={"host": "10.1.2.3:8000"}) for path in ("/readyz", "/mcp")]
        together = await _at_once(http, 25)
    assert health.status_code == 200
    assert [r.status_code for r in by_address] == [503, 421]
    assert {r.status_code for r in together} == {503} and len({r.text for r in together}) == 1
    assert ready.status_code == 503 and ready.headers["cache-control"] == "no-store"
    assert ready.json()["status"] == "unavailable"
    reason = ready.json()["reason"]
    assert reason.startswith("state database unavailable (") and len(reason) < 80
    assert PASSWORD_CANARY not in ready.text and "127.0.0.1" not in ready.text and "ops" not in reason


async def _at_once(http: httpx2.AsyncClient, count: int) -> list[httpx2.Response]:
    """`count` probes at the same time (those arriving during a check share its answer)."""
    answers: list[httpx2.Response] = []

    async def probe() -> None:
        answers.append(await http.get("/readyz"))

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(probe)
    return answers


async def test_readyz_answers_every_probe_of_a_flood_from_one_check_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"
    settings = replace(cxengage_settings(), transport="http", state_url=url)
    server = build_server(settings)
    await server.state.prepare()  # what `serve` does before listening over HTTP
    app = http_app(server, settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        ready = await _at_once(http, 40)
        (tmp_path / "state.sqlite3").unlink()
        gone = await _at_once(http, 40)
    assert [r.status_code for r in ready] == [200] * 40
    assert [r.status_code for r in gone] == [503] * 40


@pytest.mark.slow
async def test_readyz_follows_a_sqlite_file_that_goes_away_or_is_replaced(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite3"
    with serve("--sandbox", env={"INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{database}"}) as served:
        with anyio.fail_after(60):
            ready = await get(f"{served.base}/readyz")
            for path in tmp_path.iterdir():
                path.unlink()
            gone = await get(f"{served.base}/readyz")
            database.write_bytes(b"not a database " * 100)
            replaced = await get(f"{served.base}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert gone.status_code == 503 and replaced.status_code == 503
    assert gone.json()["reason"] == "state database unavailable (OperationalError)"
    assert replaced.json()["reason"] == "state database unavailable (DatabaseError)"
    assert str(tmp_path) not in gone.text + replaced.text


@pytest.mark.slow
async def test_readyz_fails_when_a_real_postgresql_stops_and_says_nothing_of_its_url() -> None:
    with running_postgres() as server:
        if server is None:
            pytest.skip("PostgreSQL is not installed (Debian's postgresql; scripts/test.sh installs it when root)")
        url = (await server.new_database()).replace("postgres@", f"postgres:{PASSWORD_CANARY}@")
        env = {"INTEGRATIONS_STATE_URL": url, "INTEGRATIONS_STATE_KEY": "k" * 40}
        with serve("--sandbox", env=env) as served:
            with anyio.fail_after(90):
                ready = await get(f"{served.base}/readyz")
                subprocess.run(_as_postgres([str(server.bindir / "pg_ctl"), "-D", str(server.root / "data"), "-m",
                                             "fast", "-w", "stop"]), check=True, capture_output=True, timeout=60)
                stopped = [await get(f"{served.base}/readyz") for _ in range(2)]  # a pooled connection, then a new one
            log = served.log()
    assert ready.status_code == 200
    assert [r.status_code for r in stopped] == [503, 503]
    for answer in stopped:
        assert answer.json()["reason"].startswith("state database unavailable (")
        assert PASSWORD_CANARY not in answer.text and str(server.port) not in answer.text
    assert PASSWORD_CANARY not in log


# ------------------------------------------------------------------------------------------------------ logs

def test_json_lines_are_filtered_like_text_lines_traceback_included() -> None:
    canary = "canary-log-secret-0c9d8e7f6a"
    remember_configured_secrets([], also=[canary])
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CapabilityFilter())
    logger = logging.getLogger("tests.json_lines")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("vendor said %s; retry with approval_id=abcDEF123_-xyz", canary)
        try:
            raise RuntimeError(f"connect failed with {canary}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["level"] for line in lines] == ["WARNING", "ERROR"]
    assert lines[0]["logger"] == "tests.json_lines" and lines[0]["time"].endswith("+00:00")
    assert "RuntimeError" in lines[1]["exception"]
    assert canary not in stream.getvalue() and "abcDEF123_-xyz" not in stream.getvalue()


@pytest.mark.slow
async def test_json_logs_on_request_quiet_by_default_and_one_line_per_vendor_call(tmp_path: Path) -> None:
    state = {"INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"}
    outputs = {}
    for log_format in ("text", "json"):
        with serve("--sandbox", env={**state, "INTEGRATIONS_LOG_FORMAT": log_format}) as served:
            with anyio.fail_after(60):
                async with httpx2.AsyncClient(timeout=30) as http, \
                        Client(streamable_http_client(f"{served.base}/mcp", http_client=http)) as client:
                    listed = await client.call_tool("GetCxEngageIntegrations", {})
                    assert not listed.is_error
                await _garbage(served.base)  # uvicorn's own warning must come through the same handler
        outputs[log_format] = served.log()
    text, lines = outputs["text"], outputs["json"].splitlines()
    assert "alembic" not in text and "HTTP Request" not in text  # the plugin chatter and the HTTP client's own line
    assert text.count("CxEngage GetIntegrations GET -> 200") == 1
    assert [line for line in lines if not line.startswith("{")] == []  # every line is one JSON object
    records = [json.loads(line) for line in lines]
    assert {r["logger"] for r in records} >= {"integrations_mcp.server.transports", "integrations_mcp.vendor_http"}
    assert [r["message"] for r in records if r["logger"] == "integrations_mcp.vendor_http"] == [
        "CxEngage GetIntegrations GET -> 200"]
    assert not [r for r in records if r["logger"].startswith(("alembic", "httpx"))]
    assert [r["message"] for r in records if r["logger"] == "uvicorn.error"] == ["Invalid HTTP request received."]


async def _garbage(base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(b"\x00\x01 not http at all\r\n\r\n")
        with suppress(anyio.EndOfStream):
            await stream.receive()


# ------------------------------------------------------------------------------------------------------ cold start

_PROBE = """
import asyncio, json, os, sys
from integrations_mcp import cli
from integrations_mcp.server.app import build_server
from integrations_mcp.server.sandbox import sandbox
from integrations_mcp.server.settings import load_settings
settings = load_settings(os.environ, sandbox=True)
cli._telemetry(settings)
async def call(server):
    await server.list_tools()
    await server.call_tool("GetCxEngageIntegrations", {})
with sandbox(settings) as (settings, _):
    asyncio.run(call(build_server(settings)))
print(json.dumps(sorted({m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.metrics",
                                                                 "opentelemetry.exporter", "prometheus_client",
                                                                 "google.protobuf"))})))
"""


@pytest.mark.slow
def test_a_start_without_telemetry_settings_imports_only_the_tracing_api_the_sdk_already_uses() -> None:
    def imported(**env: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", _PROBE], env=clean_env(**env), capture_output=True, text=True,
                              timeout=120, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert imported() == []
    configured = imported(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")  # nothing listens: export just fails
    assert "opentelemetry.sdk.trace" in configured and "opentelemetry.metrics" in configured
