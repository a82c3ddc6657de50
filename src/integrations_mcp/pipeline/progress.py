"""Progress notifications for a multi-step write."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from integrations_mcp.guardrails.outputs import clean_text

__all__ = ["Progress"]


class Progress:
    """Checks, write, read-back: one notification per step, sent only when the client passed a progress token, so
    they cost nothing otherwise."""

    def __init__(self, ctx: Context, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    async def step(self, message: str) -> None:
        self.done += 1
        await self.ctx.report_progress(self.done, self.total, clean_text(message))

    async def finish(self, message: str) -> None:
        """The last step, when the steps in between do not happen (a dry run sends nothing): a client shows done."""
        self.done = self.total - 1
        await self.step(message)
