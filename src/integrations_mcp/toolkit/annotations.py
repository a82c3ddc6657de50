"""Honest tool hints. The server enforces the guardrails regardless of what a client does with them."""

from __future__ import annotations

from mcp.types import ToolAnnotations

__all__ = ["CREATES", "EDITS", "LOCAL_READ", "LOCAL_WRITE", "READ_ONLY"]

# Only hints that differ from MCP's defaults are sent (readOnlyHint false, destructiveHint true, idempotentHint false,
# openWorldHint true; destructive/idempotent mean nothing for a read-only tool): the tool list is paid for in every
# conversation, and an absent hint means its default to every client.
READ_ONLY = ToolAnnotations(read_only_hint=True)
CREATES = ToolAnnotations(destructive_hint=False)
EDITS = ToolAnnotations(idempotent_hint=True)  # destructive (replaces saved values), open-world (the vendor)
# Writes only to this server (e.g. the server's own secure form): no vendor is reached, so not open-world.
LOCAL_WRITE = ToolAnnotations(destructive_hint=False, open_world_hint=False)
# Reads only this server's own records (e.g. the change journal): no vendor is reached.
LOCAL_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
