"""The operator's view: our OpenTelemetry spans and metrics, beside the MCP SDK's own `tools/call` spans.

Hooks, each one line where it is used: `tool_calls` (IntegrationsServer.call_tool: calls per tool and outcome, and
refusals by kind and rule), `stage` (run_write: a span and a duration per pipeline stage), `vendor_calls`
(vendor_http.send: a client span and a duration per vendor call, by status) and `approval` (the confirm stage's
outcome).

Spans use the OpenTelemetry API, which the SDK imports anyway: without a configured provider they cost next to
nothing, and a provider set by `opentelemetry-instrument` receives them too. Metrics exist only once
`server.telemetry.configure` ran (OTLP or /metrics configured): the metrics API and the SDK are imported then, not
on a plain stdio start.

Never recorded: argument values, results, error texts, URLs or paths (a path may hold a secure form id), headers.
Every attribute is a name from this code (tool, stage, vendor operation, rule function) or a fixed word (outcome,
status); a tool name a client made up is recorded as `unknown`, so a caller cannot grow the metrics."""

from __future__ import annotations

import functools
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from opentelemetry import trace
from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER
from opentelemetry.trace import SpanKind, StatusCode

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

__all__ = ["KINDS", "approval", "known_name", "outcome_of", "refusal_rule", "serving", "stage", "tool_calls",
           "use_meter", "vendor_calls"]

T = TypeVar("T")
SCOPE = "integrations-mcp"
_tracer = trace.get_tracer(SCOPE)

# The first words of every failed call's text (toolkit/refusals.py), as metric values.
KINDS = {"Refused": "refused", "Invalid argument": "invalid_argument", "Vendor error": "vendor_error",
         "Vendor unavailable": "vendor_unavailable", "Write outcome unknown": "write_outcome_unknown",
         "Unknown tool": "unknown_tool", "Server error": "server_error"}
REFUSALS = frozenset({"refused", "invalid_argument", "unknown_tool"})  # the server said no; nothing was sent
# Seconds: a read takes milliseconds, a confirm stage may wait for the person up to an approval's lifetime.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class _Instruments:
    def __init__(self, meter: Meter) -> None:
        def histogram(name: str, description: str) -> Any:
            return meter.create_histogram(name, unit="s", description=description,
                                          explicit_bucket_boundaries_advisory=list(BUCKETS))

        self.tool_calls = meter.create_counter("integrations.tool.calls", unit="{call}",
                                               description="Tool calls, by tool and outcome.")
        self.tool_duration = histogram("integrations.tool.duration", "Tool call duration, by tool and outcome.")
        self.stage_duration = histogram("integrations.stage.duration",
                                        "Write pipeline stage duration, by tool, stage and outcome.")
        self.vendor_duration = histogram("integrations.vendor.duration",
                                         "Vendor API call duration, by vendor, operation, method and status.")
        self.refusals = meter.create_counter("integrations.refusals", unit="{refusal}",
                                             description="Calls the server refused, by tool, kind and rule.")
        self.approvals = meter.create_counter("integrations.approvals", unit="{decision}",
                                              description="Confirm stage decisions, by tool, policy and outcome.")


_instruments: _Instruments | None = None
_servers: weakref.WeakSet[Any] = weakref.WeakSet()  # whose tool and prompt names a span may carry


def serving(server: Any) -> None:
    """`server`'s tool and prompt names are names this code chose (`known_name`). Called by IntegrationsServer."""
    _servers.add(server)


def known_name(name: Any) -> bool:
    """A tool or prompt of a server of this process: the MCP SDK's spans name whatever a client asked for, which
    may be anything (a pasted secret), so exported spans keep only known names (server.telemetry.Scrubbed)."""
    return isinstance(name, str) and any(name in getattr(server, "tool_specs", {}) or _has_prompt(server, name)
                                         for server in list(_servers))


def _has_prompt(server: Any, name: str) -> bool:
    prompts = getattr(server, "_prompt_manager", None)  # MCPServer's; no public lookup by name
    return prompts is not None and prompts.get_prompt(name) is not None


def _span(name: str, **options: Any) -> AbstractContextManager[trace.Span]:
    """A span made current, or nothing while no tracer provider is set (`server.telemetry.configure`,
    `opentelemetry-instrument`): every span is then a no-op that still costs a context switch, and the current span
    stays the one around it, whose ids a no-op child would have carried anyway."""
    if not _tracing():
        return nullcontext(trace.INVALID_SPAN)
    return _tracer.start_as_current_span(name, record_exception=False, set_status_on_exception=False, **options)


_UNREAD = object()
try:  # how `os.environ` keeps its variables (os._Environ: a dict of encoded names), to look one up without its cost
    _ENVIRON, _PROVIDER_VARIABLE = type(os.environ), os.environ.encodekey(OTEL_PYTHON_TRACER_PROVIDER)
    os.environ._data  # noqa: B018
except AttributeError:  # another Python: every question goes to get_tracer_provider
    _ENVIRON, _PROVIDER_VARIABLE = None, None


def _tracing() -> bool:
    """Whether a tracer provider is set, as `not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)`
    answers it, asked per vendor call, so a provider set later is seen. Its usual answer read without its cost (~12 K
    instructions: while none is set it asks `OTEL_PYTHON_TRACER_PROVIDER in os.environ`, a KeyError raised and caught
    twice): the API's global, and the variable looked up in os.environ's own dict. When the variable is set, or either
    cannot be read so, get_tracer_provider answers (and loads the provider the variable names, as it does)."""
    provider = getattr(trace, "_TRACER_PROVIDER", _UNREAD)
    if provider is None:
        environ = os.environ
        if type(environ) is _ENVIRON and _PROVIDER_VARIABLE not in environ._data:  # type: ignore[attr-defined]
            return False
    elif provider is not _UNREAD:
        return not isinstance(provider, trace.ProxyTracerProvider)
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def use_meter(meter: Meter | None) -> None:
    """Record metrics with `meter` from now on (None: stop). Called by `server.telemetry.configure`."""
    global _instruments
    _instruments = None if meter is None else _Instruments(meter)


# ---------------------------------------------------------------------------------------------------- outcomes

def outcome_of(failure: BaseException | None, result: Any = None) -> str:
    """`ok`, `input_required`, or the kind of failure as one word (KINDS' values, `cancelled`, `server_error`)."""
    if failure is None:
        if type(result).__name__ == "InputRequiredResult":
            return "input_required"
        return "error" if getattr(result, "is_error", False) else "ok"
    if not isinstance(failure, Exception):
        return "cancelled"
    kind = getattr(failure, "kind", None)  # an IntegrationsError
    if not isinstance(kind, str) and isinstance(failure, ToolError):  # framed: its text starts with the kind
        kind = str(failure).partition(":")[0]
    return KINDS.get(kind, "server_error") if isinstance(kind, str) else "server_error"


def refusal_rule(failure: BaseException) -> str:
    """The function of this package that raised the refusal (e.g. `require_complete_to_enable`), found in the
    traceback of the IntegrationsError behind `failure`; `arguments` for a schema violation or an unknown argument,
    `tool_name` for an unknown tool."""
    seen: BaseException | None = failure
    for _ in range(4):
        if seen is None:
            break
        if type(seen).__name__ == "ValidationError":
            return "arguments"
        if hasattr(seen, "frame_lines"):  # an IntegrationsError
            name = _raiser(seen)
            if name:
                return name
        seen = seen.__cause__ or seen.__context__
    return {"invalid_argument": "arguments", "unknown_tool": "tool_name"}.get(outcome_of(failure), "other")


def _raiser(exc: BaseException) -> str:
    name, tb = "", exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("integrations_mcp.") and not module.startswith(__name__):
            name = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return name


def _failed(span: trace.Span, failure: BaseException, outcome: str) -> None:
    """Error status with the kind only: an exception's text may quote what the vendor or the caller sent."""
    span.set_attribute("error.type", outcome if outcome != "server_error" else type(failure).__name__)
    span.set_status(StatusCode.ERROR)


# ---------------------------------------------------------------------------------------------------- hooks

def tool_calls(call_tool: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorates IntegrationsServer.call_tool: per call, its tool, outcome and duration, and each refusal's kind and
    rule; set on the SDK's `tools/call` span as well."""

    @functools.wraps(call_tool)
    def counted(server: Any, name: str, arguments: dict[str, Any], context: Any = None) -> Awaitable[T]:
        if _instruments is None and not trace.get_current_span().is_recording():
            # Nothing to count, and no span to name the outcome on (a span that is not recording now never will
            # be): the call is call_tool's own coroutine, not one awaiting it (every frame between a request and
            # its caller is resumed at each wait for the network).
            return call_tool(server, name, arguments, context)
        return recorded(server, name, arguments, context)

    async def recorded(server: Any, name: str, arguments: dict[str, Any], context: Any = None) -> T:
        tool = name if name in server.tool_specs else "unknown"
        started = time.perf_counter()
        try:
            result = await call_tool(server, name, arguments, context)
        except BaseException as exc:
            _tool_done(tool, started, exc, None)
            raise
        _tool_done(tool, started, None, result)
        return result

    return counted


def _tool_done(tool: str, started: float, failure: BaseException | None, result: Any) -> None:
    outcome = outcome_of(failure, result)
    attributes = {"integrations.tool": tool, "integrations.outcome": outcome}
    refusal = {}
    if failure is not None and outcome in REFUSALS:
        refusal = {"integrations.refusal.kind": outcome, "integrations.refusal.rule": refusal_rule(failure)}
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({**attributes, **refusal})
    if _instruments is not None:
        labels = {"tool": tool, "outcome": outcome}
        _instruments.tool_calls.add(1, labels)
        _instruments.tool_duration.record(time.perf_counter() - started, labels)
        if refusal:
            _instruments.refusals.add(1, {"tool": tool, "kind": outcome,
                                          "rule": refusal["integrations.refusal.rule"]})


async def stage(name: str, call: Any, work: Awaitable[T]) -> T:
    """`await stage("plan", call, stages.plan())`: the awaited work inside a span `stage <name>`, timed."""
    attributes = {"integrations.stage": name, "integrations.tool": call.tool,
                  "integrations.vendor": call.vendor.lower()}
    started = time.perf_counter()
    with _span(f"stage {name}", attributes=attributes) as span:
        failure: BaseException | None = None
        result: Any = None
        try:
            result = await work
            return result
        except BaseException as exc:
            failure = exc
            raise
        finally:
            outcome = outcome_of(failure, result)
            span.set_attribute("integrations.outcome", outcome)
            if failure is not None:
                _failed(span, failure, outcome)
            if _instruments is not None:
                _instruments.stage_duration.record(time.perf_counter() - started, {
                    "tool": call.tool, "stage": name, "outcome": outcome})


def approval(tool: str, policy: str, outcome: str) -> None:
    """The confirm stage decided: granted, asked (the person or the model was asked), rejected, pending, stale,
    timeout."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({"integrations.approval.policy": policy, "integrations.approval.outcome": outcome})
    if _instruments is not None:
        _instruments.approvals.add(1, {"tool": tool, "policy": policy, "outcome": outcome})


def vendor_calls(send: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorates vendor_http.send: a client span `<vendor> <operation>` with the method and status, and the call's
    duration by status (the HTTP status, or timeout / unreachable / transport_error)."""

    @functools.wraps(send)
    def traced(http: Any, vendor: str, operation: str, method: str, path: str, **request: Any) -> Awaitable[T]:
        if _instruments is None and not _tracing():
            # No span, no metric: nothing `recorded` does would be kept, so the call is `send`'s own coroutine, not
            # one awaiting it (every frame between a request and its caller is resumed at each wait for the network).
            return send(http, vendor, operation, method, path, **request)
        return recorded(http, vendor, operation, method, path, **request)

    async def recorded(http: Any, vendor: str, operation: str, method: str, path: str, **request: Any) -> T:
        attributes = {"integrations.vendor": vendor.lower(), "integrations.vendor.operation": operation,
                      "http.request.method": method}
        started = time.perf_counter()
        with _span(f"{vendor.lower()} {operation}", kind=SpanKind.CLIENT, attributes=attributes) as span:
            status = "cancelled"
            try:
                answer = await send(http, vendor, operation, method, path, **request)
                code = answer[0].status_code  # type: ignore[index]
                status = str(code)
                span.set_attribute("http.response.status_code", code)
                if code >= 400:
                    span.set_attribute("error.type", status)
                    span.set_status(StatusCode.ERROR)
                return answer
            except Exception as exc:
                status = _transport_failure(exc)
                span.set_attribute("error.type", status)
                span.set_status(StatusCode.ERROR)
                raise
            finally:
                if _instruments is not None:
                    _instruments.vendor_duration.record(time.perf_counter() - started, {
                        "vendor": vendor.lower(), "operation": operation, "method": method, "status": status})

    return traced


def _transport_failure(exc: BaseException) -> str:
    """What send's VendorUnavailable stands for, from the transport error it replaced (its __context__)."""
    cause = type(exc.__context__ or exc).__name__
    if "Connect" in cause:
        return "unreachable"  # the request never left (ConnectTimeout included)
    return "timeout" if "Timeout" in cause else "transport_error"
