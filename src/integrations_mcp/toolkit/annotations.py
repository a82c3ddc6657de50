"""Honest tool hints. The server enforces the guardrails regardless of what a client does with them."""

from __future__ import annotations

from mcp.types import ToolAnnotations

__all__ = ["CREATES", "EDITS", "LOCAL_READ", "LOCAL_WRITE", "READ_ONLY"]

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
CREATES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
EDITS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)
# Writes only to this server (e.g. the server's own secure form): no vendor is reached, so not open-world.
LOCAL_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                              open_world_hint=False)
# Reads only this server's own records (e.g. the change journal): no vendor is reached.
LOCAL_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
