"""Command line: `integrations-mcp serve` (stdio or HTTP, real vendors or --sandbox), `config` (every setting, its
source and value), `changes` (the change journal), `check --vendor NAME` (read-only comparison of an account with
the facts the server relies on), `approvers` (passkey enrolment links and enrolled passkeys) and `demo`."""

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


class _SettingsHelp(argparse.ArgumentParser):
    """`serve --help` and `config --help` end with every setting's variable, read from the settings modules when
    the help is shown (not at every start)."""

    lists_settings = False

    def format_help(self) -> str:
        if not self.lists_settings:
            return super().format_help()
        from integrations_mcp.server.config_report import setting_names

        names = setting_names()
        self.epilog = ("Settings (environment variables; a flag above overrides its variable): " + ", ".join(names)
                       + ". `integrations-mcp config` shows each one's value and source; docs/configuration.md "
                         "explains them.")
        return super().format_help()


def _server_flags(parser: argparse.ArgumentParser) -> None:
    # Defaults are None: the settings module reads the environment and applies only the flags that were given.
    parser.add_argument("--transport", choices=["stdio", "http"],
                        help="stdio (default) or streamable HTTP (env INTEGRATIONS_TRANSPORT).")
    parser.add_argument("--host", help="HTTP bind address (default 127.0.0.1; env INTEGRATIONS_HOST).")
    parser.add_argument("--port", type=int, help="HTTP port (default 8000; env INTEGRATIONS_PORT).")
    parser.add_argument("--sandbox", action="store_true", default=None,
                        help="Run the embedded vendor emulators on loopback and use them (no account needed).")
    parser.add_argument("--read-only", action="store_true", default=None, help="Serve only the read tools.")
    parser.add_argument("--allow-unauthenticated-remote", action="store_true", default=None,
                        help="Accept listening on a non-loopback address without authentication (loud warning; env "
                             "INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE).")
    parser.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ... (env INTEGRATIONS_LOG_LEVEL).")


def _parser() -> argparse.ArgumentParser:
    from integrations_mcp import __version__

    parser = argparse.ArgumentParser(prog="integrations-mcp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"integrations-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_SettingsHelp)
    serve = sub.add_parser("serve", help="Serve MCP (stdio by default). Vendor keys come from the environment.",
                           description="Serve MCP: over stdio for a client that starts it (the default), or over "
                                       "streamable HTTP.")
    _server_flags(serve)
    serve.lists_settings = True
    config = sub.add_parser("config", help="List every setting with its value (secrets hidden) and source, checked "
                                           "as serve checks them at start.")
    _server_flags(config)
    config.lists_settings = True
    config.add_argument("--json", action="store_true", help="One JSON object instead of a table.")
    changes = sub.add_parser("changes", help="The change journal: who changed what, when, with what outcome.")
    changes.add_argument("--id", type=int, help="One change in full: its diff, approval and vendor call ids.")
    changes.add_argument("--since", help="From this time: ISO 8601 (2027-01-08, 2027-01-08T09:00Z) or a span back "
                                         "from now (7d, 12h).")
    changes.add_argument("--until", help="Before this time (same forms as --since).")
    changes.add_argument("--vendor", choices=["revcent", "cxengage"])
    changes.add_argument("--integration", help="One integration's id.")
    changes.add_argument("--principal", help="Who: a token's name, an OAuth subject, os:<user>, session:<hash>.")
    changes.add_argument("--limit", type=int, default=20, help="Rows per page (default 20, at most 500).")
    changes.add_argument("--before", type=int, help="Older than this change id (a page's next_before).")
    changes.add_argument("--json", action="store_true", help="JSON, as GetIntegrationChanges answers.")
    demo = sub.add_parser("demo", help="Run the whole set-up flow on the sandbox through a real MCP session.")
    demo.add_argument("--log-level", default="WARNING")
    check = sub.add_parser("check", help="Read the configured vendor API (never write) and report which facts the "
                                         "server relies on held (docs/vendor-facts.md).")
    check.add_argument("--vendor", required=True, choices=["revcent", "cxengage"])
    check.add_argument("--sandbox", action="store_true",
                       help="Check the embedded emulators instead of a real account (no keys needed).")
    check.add_argument("--secure-form-id", help="RevCent: also read this secure form (form_source_id, expiry).")
    check.add_argument("--tenant-id", help="CxEngage: the tenant to read (default CXENGAGE_TENANT_ID).")
    _approvers_parser(sub)
    return parser


def _approvers_parser(sub: argparse._SubParsersAction) -> None:
    approvers = sub.add_parser("approvers", help="Passkeys of the people who approve changes on the pages: one-time "
                                                 "enrolment links, the list, removal (docs/operations.md).")
    action = approvers.add_subparsers(dest="action", required=True)
    enrol = action.add_parser("enrol", help="Create a one-time link where a person enrols a passkey. Under stdio "
                                            "this command serves the page until they have; over HTTP the running "
                                            "server does.")
    enrol.add_argument("--subject", required=True, help="The principal the person acts as: a static token's name "
                                                        "over HTTP, os:<user> under stdio.")
    enrol.add_argument("--name", help="What people read (default: the subject).")
    enrol.add_argument("--approver", action="store_true", help="Grant the approver role (may approve others' "
                                                               "changes, as the approval policy allows).")
    enrol.add_argument("--minutes", type=float, default=30.0, help="How long the link works (default 30).")
    serving = enrol.add_mutually_exclusive_group()
    serving.add_argument("--serve", action="store_true", default=None,
                         help="Serve the page from this command (the default under stdio).")
    serving.add_argument("--no-serve", dest="serve", action="store_false",
                         help="Only print the link: a running server serves it (the default over HTTP).")
    listing = action.add_parser("list", help="Enrolled passkeys and pending enrolment links.")
    listing.add_argument("--json", action="store_true")
    remove = action.add_parser("remove", help="Remove a person's passkeys (and pending links), or one passkey.")
    remove.add_argument("--subject")
    remove.add_argument("--credential", help="A passkey's credential id, or its start as `approvers list` shows.")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        _log_to_stderr(args.log_level.upper())
        from integrations_mcp.demo import run_demo

        return run_demo()
    if args.command == "check":
        return _check(args)
    if args.command == "config":
        return _config(args)
    if args.command == "changes":
        return _changes(args)
    if args.command == "approvers":
        return _approvers(args)
    return _serve(args)


def _approvers(args: argparse.Namespace) -> int:
    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server import approvers
    from integrations_mcp.server.settings import load_settings

    logging.basicConfig(stream=sys.stderr, level="WARNING", format="integrations-mcp: %(message)s")
    try:
        settings = load_settings(os.environ)
        if args.action == "enrol":
            return approvers.enrol(settings, subject=args.subject, name=args.name, approver=args.approver,
                                   minutes=args.minutes, serve=args.serve)
        if args.action == "list":
            return approvers.list_passkeys(settings, as_json=args.json)
        return approvers.remove(settings, subject=args.subject, credential=args.credential)
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2


def _flags(args: argparse.Namespace) -> dict[str, object]:
    return {"transport": args.transport, "host": args.host, "port": args.port, "sandbox": args.sandbox,
            "read_only": args.read_only, "log_level": args.log_level,
            "allow_unauthenticated_remote": args.allow_unauthenticated_remote}


def _config(args: argparse.Namespace) -> int:
    """The settings as `serve` would load them, checked as `serve` checks them before it serves (the server is
    built, the HTTP exposure checked, a SQLite state file's version read), without starting or writing anything."""
    import dataclasses
    import json
    from contextlib import nullcontext

    from integrations_mcp import __version__
    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.app import build_server
    from integrations_mcp.server.config_report import config_rows
    from integrations_mcp.server.sandbox import sandbox

    logging.basicConfig(stream=sys.stderr, level="WARNING", format="integrations-mcp: %(message)s")
    try:
        settings, rows = config_rows(os.environ, **_flags(args))
        with sandbox(settings) if settings.sandbox else nullcontext((settings, {})) as (ready, _):
            server = build_server(ready)
            if ready.transport == "http":
                from integrations_mcp.server.auth.setup import check_exposure

                check_exposure(ready)
            state = getattr(server, "state", None)
            if state is not None and not state.in_memory:
                state.check_version()
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2
    from integrations_mcp.guardrails.outputs import clean_text

    # Last guard, as for every answer: the configured keys and tokens (known once the server was built) never print.
    rows = [dataclasses.replace(row, value=clean_text(row.value)) for row in rows]
    if args.json:
        print(json.dumps({"version": __version__, "valid": True, "settings": [r.as_dict() for r in rows]}, indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    print(f"integrations-mcp {__version__}: every setting, its source (flag, env, default) and the value in effect")
    for row in rows:
        print(f"  {row.name:<{width}}  {row.source:<7}  {row.value}")
    print("Valid: serve would start with these settings.")
    return 0


def _when(value: str | None, name: str) -> float | None:
    """ISO 8601 (a date, or a time with or without a zone: UTC when none) or a span back from now (7d, 12h, 30m)."""
    import re
    import time
    from datetime import UTC, datetime

    if value is None:
        return None
    span = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", value)
    if span:
        return time.time() - int(span[1]) * {"d": 86400, "h": 3600, "m": 60}[span[2]]
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        print(f"integrations-mcp: --{name} must be ISO 8601 (2027-01-08, 2027-01-08T09:00Z) or a span like 7d or "
              f"12h, not {value!r}.", file=sys.stderr)
        raise SystemExit(2) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _changes(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import anyio

    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.journal_tools import Change, ChangePage
    from integrations_mcp.server.settings import load_settings
    from integrations_mcp.state import StateStore
    from integrations_mcp.state.journal import ChangeFilter, JournalTable

    if not 1 <= args.limit <= 500:
        print("integrations-mcp: --limit must be 1 to 500.", file=sys.stderr)
        return 2
    where = ChangeFilter(vendor=args.vendor, integration=args.integration, principal=args.principal,
                         since=_when(args.since, "since"), until=_when(args.until, "until"))

    async def read() -> ChangePage | None:
        store = StateStore(settings.state_url)
        table = JournalTable(store)  # no retention here: reading never deletes
        try:
            if args.id is not None:
                row = await table.get(args.id)
                return None if row is None else ChangePage(count=1, total=1, has_more=False,
                                                           results=[Change.of(row, full=True)])
            rows, total, more = await table.find(where, limit=args.limit, before=args.before)
            return ChangePage(count=len(rows), total=total, has_more=more,
                              next_before=rows[-1].id if more and rows else None,
                              results=[Change.of(row, full=False) for row in rows])
        finally:
            await store.close()

    try:
        settings = load_settings(os.environ)
        if settings.state_url.startswith("sqlite") and ":memory:" in settings.state_url:
            print("integrations-mcp: INTEGRATIONS_STATE_URL is in memory: there is no journal to read.",
                  file=sys.stderr)
            return 2
        found = StateStore(settings.state_url)
        if found.dialect == "sqlite" and not Path(found.database).is_file():  # reading creates nothing
            print(f"No changes yet: there is no state database at {found.database}.")
            return 0
        page = anyio.run(read)
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2
    if page is None:
        print(f"integrations-mcp: no change {args.id} in the journal.", file=sys.stderr)
        return 1
    print(json.dumps(page.model_dump(mode="json", exclude_none=True), indent=2) if args.json else page.answer())
    return 0


def _check(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    import anyio

    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.check import run_check
    from integrations_mcp.server.sandbox import sandbox
    from integrations_mcp.server.settings import load_settings

    options = {k: v for k, v in (("secure_form_id", args.secure_form_id), ("tenant_id", args.tenant_id)) if v}
    try:
        settings = load_settings(os.environ, sandbox=args.sandbox or None)
        with sandbox(settings) if settings.sandbox else nullcontext((settings, {})) as (settings, _):
            return anyio.run(lambda: run_check(settings, args.vendor, sys.stdout, options=options))
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2


def _log_to_stderr(level: str, format: str = "text") -> None:
    # stdout carries JSON-RPC under stdio: every log line goes to stderr (text or JSON, quiet libraries, filtered).
    from integrations_mcp.server.log_hygiene import configure

    configure(level, format)


def _prepare_state(server: object, settings: Settings) -> None:
    """Refuse to start on a state database this code cannot use (a StateError names the problem). HTTP, and
    PostgreSQL under any transport: migrate before serving, in a child process (server/prepare_state.py), so this one
    imports SQLAlchemy, the driver and Alembic only when it first uses the database; a SQLite file already at this
    code's version needs no child. stdio on SQLite: only read the schema version with the standard library (a
    database newer than this code is refused here all the same); the first call that needs the state migrates."""
    state = getattr(server, "state", None)
    if state is None or state.in_memory:
        return
    from integrations_mcp.state.store import KNOWN_VERSIONS

    version = state.check_version()  # SQLite files only (the standard library's sqlite3)
    if (settings.transport == "http" or state.shared) and version != KNOWN_VERSIONS[-1]:
        from integrations_mcp.server.prepare_state import prepare_in_child

        prepare_in_child(state, settings.log_level, settings.log_format)


def _hint_when_in_a_terminal(settings: object) -> None:
    """Someone typed `serve` in a terminal: stdio waits silently for JSON-RPC, which looks hung. Say what it is doing
    and how a client starts it (stderr: stdout is the protocol's)."""
    if not sys.stdin.isatty():
        return
    command = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0].endswith("integrations-mcp") \
        else "integrations-mcp"
    sandbox = " --sandbox" if getattr(settings, "sandbox", False) else ""
    print(f"integrations-mcp is waiting for an MCP client on stdin (stdio transport): a client starts it itself.\n"
          f"Connect one, e.g. Claude Code:  claude mcp add integrations -- {command} serve{sandbox}\n"
          "Other clients: docs/clients.md. Over HTTP instead: serve --transport http. Ctrl-C stops it.",
          file=sys.stderr, flush=True)


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
        settings = load_settings(os.environ, **_flags(args))
        _log_to_stderr(settings.log_level, settings.log_format)
        _telemetry(settings)
        with sandbox(settings) if settings.sandbox else nullcontext((settings, {})) as (settings, urls):
            if urls:
                logging.getLogger("integrations_mcp").info("Sandbox emulators: %s", urls)
            server = build_server(settings)
            _prepare_state(server, settings)
            if settings.transport == "http":
                # Imported here: stdio never needs the HTTP stack (auth, JWT, uvicorn's protocols), so it starts faster.
                from integrations_mcp.server.transports import run_http

                run_http(server, settings)
            else:
                _hint_when_in_a_terminal(settings)
                server.run("stdio")
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
