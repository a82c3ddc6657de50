"""Command line: `integrations-mcp serve` (stdio or HTTP, real vendors or --sandbox), `integrations-mcp demo`, and
`integrations-mcp check --vendor NAME` (read-only comparison of a real account with the facts the server relies on)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integrations_mcp.server.settings import Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    # Defaults are None: the settings module reads the environment and applies only the flags that were given.
    parser = argparse.ArgumentParser(prog="integrations-mcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="Serve MCP (stdio by default). Vendor keys come from the environment.")
    serve.add_argument("--transport", choices=["stdio", "http"],
                       help="stdio (default) or streamable HTTP (env INTEGRATIONS_TRANSPORT).")
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1; env INTEGRATIONS_HOST).")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000; env INTEGRATIONS_PORT).")
    serve.add_argument("--sandbox", action="store_true", default=None,
                       help="Run the embedded vendor emulators on loopback and use them (no account needed).")
    serve.add_argument("--read-only", action="store_true", default=None, help="Serve only the read tools.")
    serve.add_argument("--allow-unauthenticated-remote", action="store_true", default=None,
                       help="Accept listening on a non-loopback address without authentication (loud warning; env "
                            "INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE).")
    serve.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ... (env INTEGRATIONS_LOG_LEVEL).")
    demo = sub.add_parser("demo", help="Run the whole set-up flow on the sandbox through a real MCP session.")
    demo.add_argument("--log-level", default="WARNING")
    check = sub.add_parser("check", help="Read the configured vendor API (never write) and report which facts the "
                                         "server relies on held (docs/vendor-facts.md).")
    check.add_argument("--vendor", required=True, choices=["revcent", "cxengage"])
    check.add_argument("--secure-form-id", help="RevCent: also read this secure form (form_source_id, expiry).")
    check.add_argument("--tenant-id", help="CxEngage: the tenant to read (default CXENGAGE_TENANT_ID).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        _log_to_stderr(args.log_level.upper())
        from integrations_mcp.demo import run_demo

        return run_demo()
    if args.command == "check":
        return _check(args)
    return _serve(args)


def _check(args: argparse.Namespace) -> int:
    import anyio

    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.check import run_check
    from integrations_mcp.server.settings import load_settings

    options = {k: v for k, v in (("secure_form_id", args.secure_form_id), ("tenant_id", args.tenant_id)) if v}
    try:
        settings = load_settings(os.environ)
        return anyio.run(lambda: run_check(settings, args.vendor, sys.stdout, options=options))
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2


def _log_to_stderr(level: str, format: str = "text") -> None:
    # stdout carries JSON-RPC under stdio: every log line goes to stderr (text or JSON, quiet libraries, filtered).
    from integrations_mcp.server.log_hygiene import configure

    configure(level, format)


def _prepare_state(server: object, transport: str) -> None:
    """Refuse to start on a state database this code cannot use (a StateError names the problem). HTTP, and
    PostgreSQL under any transport: migrate before serving. stdio on SQLite: only read the schema version with the
    standard library (a database newer than this code is refused here all the same); SQLAlchemy and Alembic (as
    much to import as the rest of the server) wait for the first call that needs the state, which migrates."""
    state = getattr(server, "state", None)
    if state is None or state.in_memory:
        return
    if transport == "http" or state.shared:
        import anyio

        anyio.run(state.prepare)
    else:
        state.check_version()


def _telemetry(settings: Settings) -> None:
    """OpenTelemetry's SDK, only when OTLP export or /metrics is configured (docs/operations.md)."""
    if settings.otlp_traces or settings.otlp_metrics or settings.metrics:
        from integrations_mcp.server.telemetry import configure

        configure(otlp_traces=settings.otlp_traces, otlp_metrics=settings.otlp_metrics, prometheus=settings.metrics)


def _serve(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.app import build_server
    from integrations_mcp.server.sandbox import sandbox
    from integrations_mcp.server.settings import load_settings

    try:
        settings = load_settings(os.environ, transport=args.transport, host=args.host, port=args.port,
                                 sandbox=args.sandbox, read_only=args.read_only, log_level=args.log_level,
                                 allow_unauthenticated_remote=args.allow_unauthenticated_remote)
        _log_to_stderr(settings.log_level, settings.log_format)
        _telemetry(settings)
        with sandbox(settings) if settings.sandbox else nullcontext((settings, {})) as (settings, urls):
            if urls:
                logging.getLogger("integrations_mcp").info("Sandbox emulators: %s", urls)
            server = build_server(settings)
            _prepare_state(server, settings.transport)
            if settings.transport == "http":
                # Imported here: stdio never needs the HTTP stack (auth, JWT, uvicorn's protocols), so it starts faster.
                from integrations_mcp.server.transports import run_http

                run_http(server, settings)
            else:
                server.run("stdio")
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
