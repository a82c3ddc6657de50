"""What a write tool passes to the pipeline about its call, and which confirmation arguments its schema shows."""

from __future__ import annotations

from collections.abc import Mapping

from mcp.server.mcpserver import Context

from integrations_mcp.pipeline.policy import hidden_arguments
from integrations_mcp.pipeline.write import WriteCall
from integrations_mcp.toolkit.identity import principal, session_key

__all__ = ["hidden_arguments", "write_call"]


def write_call(ctx: Context, tool: str, vendor: str, *, dry_run: bool, flags: Mapping[str, bool] | None = None,
               token: str | None = None, reverts: int | None = None) -> WriteCall:
    given = frozenset(flag for flag, value in (flags or {}).items() if value)
    return WriteCall(ctx=ctx, tool=tool, owner=session_key(ctx), vendor=vendor, dry_run=dry_run, flags=given,
                     token=token, principal=principal(ctx), reverts=reverts)
