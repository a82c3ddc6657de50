"""Command line: `integrations-mcp serve` (stdio or HTTP, real vendors or --sandbox) and `integrations-mcp demo`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    env = os.environ
    parser = argparse.ArgumentParser(prog="integrations-mcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="Serve MCP (stdio by default). Vendor keys come from the environment.")
    serve.add_argument("--transport", choices=["stdio", "http"], default=env.get("INTEGRATIONS_TRANSPORT", "stdio"),
                       help="stdio (default) or streamable HTTP (env INTEGRATIONS_TRANSPORT).")
    serve.add_argument("--host", default=env.get("INTEGRATIONS_HOST", "127.0.0.1"),
                       help="HTTP bind address (default 127.0.0.1; env INTEGRATIONS_HOST).")
    serve.add_argument("--port", type=int, default=int(env.get("INTEGRATIONS_PORT", "8000")),
                       help="HTTP port (default 8000; env INTEGRATIONS_PORT).")
    serve.add_argument("--sandbox", action="store_true",
                       help="Run the embedded vendor emulators on loopback and use them (no account needed).")
    serve.add_argument("--read-only", action="store_true", help="Serve only the read tools.")
    serve.add_argument("--log-level", default=env.get("INTEGRATIONS_LOG_LEVEL", "INFO"))
    demo = sub.add_parser("demo", help="Run the whole set-up flow on the sandbox through a real MCP session.")
    demo.add_argument("--log-level", default="WARNING")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # stdout carries JSON-RPC under stdio: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        from integrations_mcp.demo import run_demo

        return run_demo()
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.app import build_server
    from integrations_mcp.server.sandbox import sandbox
    from integrations_mcp.server.settings import Settings
    from integrations_mcp.server.transports import run_http, run_stdio

    try:
        with sandbox(read_only=args.read_only) if args.sandbox else nullcontext() as box:
            settings = box.settings if box else Settings.from_env(os.environ, read_only=args.read_only)
            if box:
                logging.getLogger("integrations_mcp").info("Sandbox emulators: %s", box.urls)
            server = build_server(settings)
            if args.transport == "http":
                run_http(server, args.host, args.port, os.environ)
            else:
                run_stdio(server)
    except ConfigurationError as exc:
        print(f"integrations-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
