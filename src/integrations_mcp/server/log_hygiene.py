"""What the server's logs never show: the capabilities that only their creator may hold.

A secure form id, an approval id or a confirmation id is a capability: whoever holds it can open the form, approve
the change or confirm it. They travel only in the tool result to the session that asked. The SDK logs every tool
error (at INFO) and library loggers may print URLs, so every log record is rewritten before it is written. The same
record also passes the output filter (`guardrails.outputs.clean_text`): configured secrets and secret-looking values
(tokens, keys, URL passwords) are masked, whoever logged them.
"""

from __future__ import annotations

import logging

from integrations_mcp.guardrails.capabilities import hide_capabilities
from integrations_mcp.guardrails.outputs import clean_text

__all__ = ["CapabilityFilter", "install"]

def scrub(text: str) -> str:
    return hide_capabilities(text)


class CapabilityFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler's own error path
            return True
        cleaned = clean_text(scrub(message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Database drivers log each statement with its parameters at DEBUG: approval ids, session bindings, sealed values.
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "psycopg", "sqlalchemy.engine", "sqlalchemy.pool")


def install() -> None:
    """On every handler of the root logger (where the CLI sends all logs); the database drivers at WARNING."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, CapabilityFilter) for f in handler.filters):
            handler.addFilter(CapabilityFilter())


# ------------------------------------------------------------------------------------------------ format and volume

# Quiet by default (shown at DEBUG): Alembic's plugin and migration lines at every start (this server logs the one
# migration line that matters), and the HTTP client's own line per request (vendor_http logs one per vendor call).
CHATTY_LOGGERS = ("alembic", "httpx2", "httpx", "httpcore")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, and the trace and span ids when a span
    is recording. The message was cleaned by CapabilityFilter; a traceback is cleaned here (no filter sees it)."""

    def format(self, record: logging.LogRecord) -> str:
        import json
        from datetime import UTC, datetime

        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        context = _span_context()
        if context is not None:
            line["trace_id"], line["span_id"] = context
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)

    def formatException(self, ei: object) -> str:  # noqa: N802 (logging's name)
        return clean_text(scrub(super().formatException(ei)))  # type: ignore[arg-type]


class TextFormatter(logging.Formatter):
    """The text lines, with a traceback cleaned like the message."""

    def formatException(self, ei: object) -> str:  # noqa: N802 (logging's name)
        return clean_text(scrub(super().formatException(ei)))  # type: ignore[arg-type]


def _span_context() -> tuple[str, str] | None:
    import sys

    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return (f"{context.trace_id:032x}", f"{context.span_id:016x}") if context.is_valid else None


def configure(level: str, format: str = "text") -> None:
    """The root logger to stderr (stdout carries JSON-RPC under stdio) in `format` ("text" or "json"), chatty
    libraries quiet unless `level` is DEBUG, and every handler filtered (`install`)."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if level != "DEBUG":
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    install()
