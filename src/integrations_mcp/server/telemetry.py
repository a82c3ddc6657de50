"""Turning the operator's view on (`integrations_mcp.telemetry` holds the hooks): the OpenTelemetry SDK (the
`telemetry` extra), set up once per process, and `GET /metrics`.

- OTLP, when the standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT, or the _TRACES_/_METRICS_ ones; the
  exporters read their own headers, timeout and certificate variables): traces in batches, metrics every
  OTEL_METRIC_EXPORT_INTERVAL ms (60 s by default). http/protobuf, or grpc when that exporter is installed.
- Prometheus text for `/metrics` (INTEGRATIONS_METRICS=true, HTTP transport): a pull reader on a registry of its
  own (not prometheus_client's global one, so nothing else of the process is exposed).

The providers become the global ones, so the MCP SDK's spans (`tools/call <tool>`) are exported with ours, and
every exported span passes the output filter first (`Scrubbed`).

/metrics is served on the MCP listener rather than a port of its own: one address to publish and put behind a
proxy, and the same bearer auth as /mcp when auth is on (the SDK's RequireAuthMiddleware, read scope; the app-wide
authentication middleware has already read the token), so the figures are never open where the tools are not.
Without auth the listener is loopback-only (or explicitly allowed to be open), and so is /metrics."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response

from integrations_mcp import __version__, telemetry
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.guardrails.capabilities import hide_capabilities
from integrations_mcp.guardrails.outputs import clean_text, remember_configured_secrets
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit.access import READ_SCOPE

__all__ = ["Scrubbed", "Telemetry", "configure", "current", "metrics_route", "remember_otlp_headers"]

MIN_SECRET_CHARS = 8  # shorter header values (a tenant number) would mask fragments of unrelated text


@dataclass(frozen=True)
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    registry: Any = None  # prometheus_client.CollectorRegistry behind /metrics, when it is served


_current: Telemetry | None = None


def current() -> Telemetry | None:
    return _current


def configure(*, otlp_traces: bool = False, otlp_metrics: bool = False, prometheus: bool = False,
              span_exporters: Sequence[SpanExporter] = (), metric_readers: Sequence[MetricReader] = (),
              env: Mapping[str, str] | None = None) -> Telemetry:
    """Once per process (OpenTelemetry's global providers are set once): a second call returns the first result.
    `span_exporters`/`metric_readers`: more destinations (tests: the SDK's in-memory exporter and reader)."""
    global _current
    if _current is not None:
        return _current
    env = os.environ if env is None else env
    remember_otlp_headers(env)
    protocol = env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").strip() or "http/protobuf"
    resource = Resource.create({"service.version": __version__,
                                **({} if env.get("OTEL_SERVICE_NAME") else {"service.name": "integrations-mcp"})})
    tracer_provider = TracerProvider(resource=resource)
    if otlp_traces:
        tracer_provider.add_span_processor(BatchSpanProcessor(Scrubbed(_otlp("trace", protocol)())))
    for exporter in span_exporters:
        tracer_provider.add_span_processor(SimpleSpanProcessor(Scrubbed(exporter)))
    readers = list(metric_readers)
    if otlp_metrics:
        readers.append(PeriodicExportingMetricReader(_otlp("metric", protocol)()))
    registry = None
    if prometheus:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=True)
        readers.append(PrometheusMetricReader(registry=registry))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    telemetry.use_meter(meter_provider.get_meter(telemetry.SCOPE, __version__))
    _current = Telemetry(tracer_provider, meter_provider, registry)
    return _current


def remember_otlp_headers(env: Mapping[str, str]) -> None:
    """The collector's credentials (OTEL_EXPORTER_OTLP_*HEADERS, e.g. `authorization=Bearer%20...`) join the output
    filter's known secrets, so an exporter's error line cannot print them."""
    values = []
    for signal in ("", "TRACES_", "METRICS_"):
        for item in env.get(f"OTEL_EXPORTER_OTLP_{signal}HEADERS", "").split(","):
            value = unquote(item.partition("=")[2]).strip()
            values += [value, value.rpartition(" ")[2]]  # the whole value, and the token after `Bearer `
    remember_configured_secrets([], also=[v for v in values if len(v) >= MIN_SECRET_CHARS])


def _otlp(signal: str, protocol: str) -> Any:
    """The OTLP exporter class for `signal` ("trace" or "metric") and the configured protocol."""
    name = {"trace": "OTLPSpanExporter", "metric": "OTLPMetricExporter"}[signal]
    if protocol == "http/protobuf":
        module = f"opentelemetry.exporter.otlp.proto.http.{signal}_exporter"
    elif protocol == "grpc":
        module = f"opentelemetry.exporter.otlp.proto.grpc.{signal}_exporter"
    else:
        raise ConfigurationError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, not {protocol!r}.")
    try:
        return getattr(__import__(module, fromlist=[name]), name)
    except ImportError:
        package = "opentelemetry-exporter-otlp-proto-grpc" if protocol == "grpc" else "integrations-mcp[telemetry]"
        raise ConfigurationError(f"OTLP export over {protocol} needs {package}: install it, or unset "
                                 "OTEL_EXPORTER_OTLP_ENDPOINT.") from None


def _clean(value: Any, made_up: Sequence[str] = ()) -> Any:
    if isinstance(value, str):
        for name in made_up:
            value = value.replace(name, "unknown")
        return clean_text(hide_capabilities(value))
    if isinstance(value, tuple | list):
        return type(value)(_clean(v, made_up) for v in value)
    return value


def _cleaned(attributes: Mapping[str, Any] | None, made_up: Sequence[str]) -> dict[str, Any]:
    return {key: _clean(value, made_up) for key, value in (attributes or {}).items()}


NAMED = ("gen_ai.tool.name", "gen_ai.prompt.name")


def _ours(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    return scope is not None and scope.name == telemetry.SCOPE


class Scrubbed(SpanExporter):
    """Every span passes the output filter before it leaves: our attributes are names and fixed words, but a
    library's may not be. The SDK names its span after the tool or prompt the client asked for, and sets an error's
    text (which repeats that name) as the span's status and exception event: a name that is not one of ours is
    replaced by `unknown` wherever it appears."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # Ours (integrations_mcp.telemetry) carry names from the code and fixed words only: not worth the filter's
        # pattern scan on every span; everyone else's are filtered.
        return self.exporter.export([span if _ours(span) else self._scrubbed(span) for span in spans])

    @staticmethod
    def _scrubbed(span: ReadableSpan) -> ReadableSpan:
        given = span.attributes or {}
        made_up = sorted({v for k in NAMED if isinstance(v := given.get(k), str) and v and not telemetry.known_name(v)},
                         key=len, reverse=True)  # a name inside another is replaced after it
        status = span.status
        if status.description:
            status = Status(status.status_code, _clean(status.description, made_up))
        events = [Event(e.name, _cleaned(e.attributes, made_up), e.timestamp) for e in span.events]
        return ReadableSpan(name=_clean(span.name, made_up), context=span.context, parent=span.parent,
                            resource=span.resource, attributes=_cleaned(given, made_up), events=events,
                            links=span.links, kind=span.kind, status=status, start_time=span.start_time,
                            end_time=span.end_time, instrumentation_scope=span.instrumentation_scope)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def metrics_route(settings: Settings, path: str = "/metrics") -> Route:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = configure(otlp_traces=settings.otlp_traces, otlp_metrics=settings.otlp_metrics,
                         prometheus=True).registry
    if registry is None:
        raise RuntimeError("telemetry was set up without the Prometheus reader before /metrics was added")

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                        headers={"cache-control": "no-store"})

    if not settings.auth_enabled:
        return Route(path, metrics, methods=["GET"])
    from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware

    return Route(path, RequireAuthMiddleware(request_response(metrics), [READ_SCOPE]), methods=["GET"])
