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
