"""The operator's view in process: after tool calls through a real MCP client session, the SDK's in-memory exporter
and reader hold a span per pipeline stage and per vendor call, with their attributes, and the per-tool, per-stage,
per-vendor-status, refusal and approval figures; no secret reaches a span or a metric (canaries planted as the
vendor's key, as a secret the vendor stores and echoes, and as a raw credential typed into a tool call).

OpenTelemetry's providers are global and set once a process: `telemetry_on` sets them once for this module, with
the in-memory exporter and reader beside the Prometheus reader /metrics serves."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from integrations_mcp import telemetry
from integrations_mcp.guardrails.outputs import remember_configured_secrets
from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.server import telemetry as setup
from integrations_mcp.vendor_http import READ_ATTEMPTS
from integrations_mcp.vendors.cxengage.emulator import Contract, CxEngageEmulator
from tests.harness import TOKEN, connect, cxengage_settings, make_server, text_of
from tests.vendors.cxengage.helpers import ZENDESK, T

pytestmark = pytest.mark.anyio

KEY_CANARY = "canary-otel-api-secret-5d1f0a9c"
STORED_CANARY = "canary-otel-stored-pw-77b2e4"
TYPED_CANARY = "canary-otel-typed-Zx81kQ"
STAGES = ["plan", "check", "confirm", "send", "verify"]

SPANS = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def telemetry_on() -> Iterator[setup.Telemetry]:
    configured = setup.configure(prometheus=True, span_exporters=[SPANS], metric_readers=[READER])
    assert configured.registry is not None, "telemetry was configured earlier in this process without these"
    yield configured
    # The providers stay (global, once a process): the tests after these keep neither spans nor figures.
    SPANS.shutdown()
    telemetry.use_meter(None)


@pytest.fixture(autouse=True)
def no_spans_yet() -> None:
    SPANS.clear()


def spans() -> list[ReadableSpan]:
    return list(SPANS.get_finished_spans())


def points(name: str) -> list[Any]:
    """The data points of metric `name` (cumulative since the module started)."""
    found = []
    data = READER.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            found += [p for m in scope.metrics if m.name == name for p in m.data.data_points]
    return found


def total(name: str, **attributes: str) -> float:
    """The sum of counter `name`, or the count of histogram `name`, over the points with these attributes."""
    return sum(getattr(p, "count", None) or getattr(p, "value", 0) for p in points(name)
               if all(p.attributes.get(k) == v for k, v in attributes.items()))


def everything_recorded() -> str:
    data = READER.get_metrics_data()
    return "\n".join([s.to_json() for s in spans()] + [data.to_json() if data else ""])


async def test_a_write_has_a_span_per_stage_and_vendor_call_under_the_sdks_tool_span() -> None:
    emu = CxEngageEmulator(api_secret=KEY_CANARY, contract=Contract(secrets_on_read="echo"))
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": STORED_CANARY})
    before = {stage: total("integrations.stage.duration", tool="EditCxEngageIntegration", stage=stage)
              for stage in STAGES}
    calls = total("integrations.tool.calls", tool="EditCxEngageIntegration", outcome="ok")
    async with connect(cxengage_settings(secret=KEY_CANARY), cxengage=emu) as cx:
        await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"workItems": True})

    recorded = spans()
    (tool_span,) = [s for s in recorded if s.name == "tools/call EditCxEngageIntegration"]  # the SDK's own
    assert tool_span.attributes["integrations.outcome"] == "ok"
    assert tool_span.attributes["gen_ai.tool.name"] == "EditCxEngageIntegration"
    by_name = {s.name: s for s in recorded}
    for stage in STAGES:
        span = by_name[f"stage {stage}"]
        assert span.parent is not None and span.context.trace_id == tool_span.context.trace_id
        assert dict(span.attributes) == {"integrations.stage": stage, "integrations.tool": "EditCxEngageIntegration",
                                         "integrations.vendor": "cxengage", "integrations.outcome": "ok"}
    vendor = [s for s in recorded if s.kind == SpanKind.CLIENT and s.name.startswith("cxengage ")]
    assert {s.attributes["http.request.method"] for s in vendor} >= {"GET", "PUT"}
    assert all(s.attributes["http.response.status_code"] == 200 for s in vendor)
    assert all(s.context.trace_id == tool_span.context.trace_id for s in vendor)
    (send,) = [s for s in vendor if s.attributes["http.request.method"] == "PUT"]
    assert send.parent.span_id == by_name["stage send"].context.span_id  # the write is inside the send stage

    assert total("integrations.tool.calls", tool="EditCxEngageIntegration", outcome="ok") == calls + 1
    for stage in STAGES:
        assert total("integrations.stage.duration", tool="EditCxEngageIntegration", stage=stage) == \
            before[stage] + 1
    assert total("integrations.vendor.duration", vendor="cxengage", method="PUT", status="200") >= 1
    assert total("integrations.tool.duration", tool="EditCxEngageIntegration") >= 1
    recorded_text = everything_recorded()
    assert KEY_CANARY not in recorded_text and STORED_CANARY not in recorded_text
    assert "desk.example.invalid" not in recorded_text  # values the agent sent or read are not recorded either


async def test_refusals_are_counted_by_kind_and_rule_and_unknown_tools_stay_unknown() -> None:
    async with connect(cxengage_settings()) as cx:
        desk = await cx.ok("CreateCxEngageIntegration", name="Incomplete", type="zendesk", properties={})
        before = total("integrations.refusals", kind="refused", rule="require_complete_if_active")
        await cx.refused("EditCxEngageIntegration", "cannot activate", integration_id=desk["integration_id"],
                         active=True)
        await cx.call("EditCxEngageIntegration", integration_id=desk["integration_id"],
                      properties={"password": TYPED_CANARY})  # a raw credential: refused before anything is read
        await cx.call("GetCxEngageIntegration", integration_id=12)  # not a string
        bogus = f"Bogus-{TYPED_CANARY}"
        await cx.call(bogus, {})
        with pytest.raises(Exception):  # noqa: B017 (whichever error the SDK raises for an unknown prompt)
            await cx.client.get_prompt(bogus, {})

    rules = {p.attributes["rule"] for p in points("integrations.refusals") if p.attributes["kind"] == "refused"}
    assert total("integrations.refusals", kind="refused", rule="require_complete_if_active") == before + 1, rules
    assert "refuse_secret_arguments" in rules
    assert total("integrations.refusals", kind="invalid_argument", tool="GetCxEngageIntegration",
                 rule="arguments") >= 1
    assert total("integrations.tool.calls", tool="unknown", outcome="unknown_tool") >= 1
    assert total("integrations.refusals", kind="unknown_tool", tool="unknown", rule="tool_name") >= 1
    assert not [p for p in points("integrations.tool.calls") if p.attributes["tool"] == bogus]
    refused = [s for s in spans() if s.attributes.get("integrations.refusal.kind") == "refused"]
    assert {s.attributes["integrations.refusal.rule"] for s in refused} >= {"require_complete_if_active",
                                                                             "refuse_secret_arguments"}
    assert all(s.status.status_code != StatusCode.UNSET or s.name.startswith("tools/call") for s in refused)
    assert TYPED_CANARY not in everything_recorded()
    assert {"tools/call unknown", "prompts/get unknown"} <= {s.name for s in spans()}


async def test_approvals_are_counted_by_outcome() -> None:
    emu = CxEngageEmulator()
    desk = emu.add_integration(T, "zendesk", "Live desk", {**ZENDESK, "password": "pw"}, active=True)
    asked = total("integrations.approvals", tool="EditCxEngageIntegration", policy="model", outcome="asked")
    granted = total("integrations.approvals", tool="EditCxEngageIntegration", policy="model", outcome="granted")
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        refusal = await cx.call("EditCxEngageIntegration", integration_id=desk, active=False)
        token = TOKEN.search(text_of(refusal))
        assert refusal.is_error and token, text_of(refusal)
        await cx.ok("EditCxEngageIntegration", integration_id=desk, active=False, confirm_deactivate=True,
                    confirmation_id=token[1])
    assert total("integrations.approvals", tool="EditCxEngageIntegration", policy="model",
                 outcome="asked") == asked + 1
    assert total("integrations.approvals", tool="EditCxEngageIntegration", policy="model",
                 outcome="granted") == granted + 1
    confirms = [s for s in spans() if s.name == "stage confirm"]
    assert [s.attributes["integrations.approval.outcome"] for s in confirms] == ["asked", "granted"]
    assert [s.attributes["integrations.outcome"] for s in confirms] == ["refused", "ok"]
    assert token[1] not in everything_recorded()  # a capability: only the session that asked holds it


@pytest.mark.parametrize(("mode", "action", "outcomes"), [
    ("auto", "decline", ["asked", "rejected"]),  # 2026-07-28: an input request, then the retry with the answer
    ("legacy", "accept", ["asked", "granted"]),  # 2025-11-25: asked live, outside the write lock, then granted
])
async def test_the_persons_decisions_are_counted_by_outcome(mode: str, action: str, outcomes: list[str]) -> None:
    emu = CxEngageEmulator()
    desk = emu.add_integration(T, "zendesk", "Live desk", {**ZENDESK, "password": "pw"}, active=True)

    async def person(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action=action, content={"approve": True} if action == "accept" else None)

    before = {o: total("integrations.approvals", policy="person", outcome=o) for o in outcomes}
    server = make_server(cxengage_settings(confirmation=ConfirmationPolicy.PERSON), cxengage=emu)
    async with Client(server, mode=mode, elicitation_callback=person) as client:
        result = await client.call_tool("EditCxEngageIntegration", {"integration_id": desk, "active": False,
                                                                    "tenant_id": T})
    assert result.is_error is (action != "accept")
    decided = [s.attributes["integrations.approval.outcome"] for s in spans() if s.name == "stage confirm"]
    assert decided == outcomes
    for outcome in outcomes:
        assert total("integrations.approvals", policy="person", outcome=outcome) == before[outcome] + 1


async def test_a_vendor_failure_is_recorded_by_status_without_its_text() -> None:
    emu = CxEngageEmulator()
    emu.faults.inject(path_prefix=f"/v1/tenants/{T}/integrations", method="GET", status=400,
                      body=json.dumps({"error": {"message": f"bad {TYPED_CANARY}"}}).encode())
    emu.faults.inject(path_prefix=f"/v1/tenants/{T}/integrations", method="GET", refuse=True,
                      times=READ_ATTEMPTS)  # a refused connection is retried (inside the one vendor call)
    before = total("integrations.tool.calls", tool="GetCxEngageIntegrations", outcome="vendor_unavailable")
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        assert (await cx.call("GetCxEngageIntegrations", {})).is_error
        assert (await cx.call("GetCxEngageIntegrations", {})).is_error
    vendor = [s for s in spans() if s.kind == SpanKind.CLIENT]
    assert [s.attributes.get("error.type") for s in vendor[-2:]] == ["400", "unreachable"]
    assert vendor[-2].attributes["http.response.status_code"] == 400
    assert all(s.status.status_code == StatusCode.ERROR and not s.status.description for s in vendor[-2:])
    assert total("integrations.vendor.duration", vendor="cxengage", status="400") >= 1
    assert total("integrations.vendor.duration", vendor="cxengage", status="unreachable") >= 1
    assert total("integrations.tool.calls", tool="GetCxEngageIntegrations", outcome="vendor_unavailable") == \
        before + 1
    assert TYPED_CANARY not in everything_recorded()


def test_every_exported_span_passes_the_output_filter() -> None:
    """A library's span may carry an exception's text (the SDK sets it as the status of a failed request)."""
    remember_configured_secrets([], also=[KEY_CANARY])
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(setup.Scrubbed(exporter)))
    with provider.get_tracer("a-library").start_as_current_span("boom") as span:
        span.set_status(StatusCode.ERROR, f"connect failed for key {KEY_CANARY}")
        span.set_attribute("url.full", f"https://user:{KEY_CANARY}@example.invalid/")
        span.add_event("exception", {"exception.message": f"with approval_id=abcDEF123_-xyz {KEY_CANARY}"})
    (exported,) = exporter.get_finished_spans()
    text = exported.to_json()
    assert KEY_CANARY not in text and "abcDEF123_-xyz" not in text
    assert exported.name == "boom" and exported.status.status_code == StatusCode.ERROR


def test_outcome_words_are_a_closed_set() -> None:
    assert telemetry.outcome_of(None) == "ok"
    assert telemetry.outcome_of(ValueError("Refused: but not ours")) == "server_error"
    assert set(telemetry.KINDS.values()) >= {"refused", "invalid_argument", "unknown_tool"}
    assert json.dumps(sorted(telemetry.BUCKETS))  # seconds, up to an approval's wait


def test_the_collectors_credentials_are_masked_wherever_they_would_appear() -> None:
    from integrations_mcp.guardrails.outputs import clean_text

    token = "otlp-canary-token-9f8e7d6c"
    setup.remember_otlp_headers({"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{token},x-tenant=7",
                                 "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "api-key=trace-canary-key-1234"})
    line = clean_text(f"export failed: sent Bearer {token} and trace-canary-key-1234 for tenant 7")
    assert token not in line and "trace-canary-key-1234" not in line and "tenant 7" in line


TRACING_SCENARIOS = {
    "none set": "",
    "variable set later (the SDK's provider, loaded on the question)":
        "os.environ['OTEL_PYTHON_TRACER_PROVIDER'] = 'sdk_tracer_provider'",
    "variable naming the API's no-op provider": "os.environ['OTEL_PYTHON_TRACER_PROVIDER'] = 'default_tracer_provider'",
    "variable set, then removed":
        "os.environ['OTEL_PYTHON_TRACER_PROVIDER'] = 'x'; del os.environ['OTEL_PYTHON_TRACER_PROVIDER']",
    "provider set": "from opentelemetry.sdk.trace import TracerProvider; trace.set_tracer_provider(TracerProvider())",
    "a proxy set as the provider": "trace.set_tracer_provider(trace.ProxyTracerProvider())",
    "os.environ replaced": "os.environ = dict(os.environ, OTEL_PYTHON_TRACER_PROVIDER='sdk_tracer_provider')",
}


@pytest.mark.parametrize("change", TRACING_SCENARIOS.values(), ids=TRACING_SCENARIOS.keys())
def test_tracing_is_answered_as_get_tracer_provider_answers(change: str) -> None:
    """`telemetry._tracing` (asked per vendor call and span) reads the API's global and os.environ's own dict: the
    same answer as `get_tracer_provider()` not being a proxy, before and after each change, in a process of its own
    (a provider is set once a process)."""
    import subprocess
    import sys

    code = "\n".join([
        "import os", "from opentelemetry import trace", "from integrations_mcp import telemetry",
        "def expected():",
        "    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)",
        "before = telemetry._tracing()",
        "assert before is False and expected() is False, before",
        change,
        "got = telemetry._tracing()",  # asked first: what it loads, get_tracer_provider would load the same
        "assert got is expected(), (got, expected())",
        "print(got)",
    ])
    env = {k: v for k, v in os.environ.items() if k != "OTEL_PYTHON_TRACER_PROVIDER"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_calls_outcome_is_set_on_a_recording_span_with_no_provider_set() -> None:
    """`tool_calls` hands back call_tool's own coroutine only when nothing would be recorded: no meter and a current
    span that is not recording. A recording span of a provider that is not the global one (an application embedding
    the server) still gets the outcome; the result and a failure pass through either way. In a process of its own."""
    import subprocess
    import sys

    code = """
import asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from integrations_mcp import telemetry

class Server:
    tool_specs = {"T": None}

@telemetry.tool_calls
async def call_tool(server, name, arguments, context=None):
    await asyncio.sleep(0)
    if arguments.get("fail"):
        raise ValueError("no")
    return "done"

async def main():
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    with TracerProvider().get_tracer("embedding").start_as_current_span("outer") as span:
        assert await call_tool(Server(), "T", {}) == "done"
    assert span.attributes["integrations.tool"] == "T" and span.attributes["integrations.outcome"] == "ok"
    with TracerProvider().get_tracer("embedding").start_as_current_span("outer") as span:
        try:
            await call_tool(Server(), "T", {"fail": True})
        except ValueError:
            pass
    assert span.attributes["integrations.outcome"] == "server_error", span.attributes
    assert await call_tool(Server(), "T", {}) == "done"
    try:
        await call_tool(Server(), "T", {"fail": True})
    except ValueError:
        print("ok")

asyncio.run(main())
"""
    env = {k: v for k, v in os.environ.items() if k != "OTEL_PYTHON_TRACER_PROVIDER"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
