"""Handing a secure form to the person through the client (URL-mode elicitation), so that its URL never enters the
model's context: the client shows the person the link and opens it with their consent; the tool then waits until
the form is completed and answers without the URL.

Only for a client that declared URL elicitation. On 2025-era sessions the request is live (`elicitation/create`);
on 2026-07-28 the tool returns an input-required result and finishes when the client retries. A client that cannot
open URLs gets the form_url in the result, as before, with the instruction to hand it to the person.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestURLParams, InputRequiredResult

from integrations_mcp.client_capabilities import is_modern
from integrations_mcp.errors import GuardrailError

__all__ = ["Handoff", "Handoffs", "Outcome", "new_handoff"]

ANSWER_KEY = "open_form"


class Outcome(StrEnum):
    COMPLETED = "completed"  # the person opened the form and completed it
    WAITING = "waiting"  # they agreed to open it but have not completed it yet
    DECLINED = "declined"  # they declined (or cancelled) opening it


@dataclass(frozen=True)
class Handoff:
    form_id: str
    url: str
    owner: str
    elicitation_id: str
    expires_at: float  # unix seconds: the form's own expiry; a hand-off never answered is forgotten then
    result: Any = None  # what the tool answers once the person is done (kept across the 2026-07-28 retry)


class Handoffs:
    """Forms handed to a client in 2026-era calls, until the client's retry (keyed by an opaque state token)."""

    def __init__(self, *, wait_seconds: float = 120, poll_seconds: float = 1.0) -> None:
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self._pending: dict[str, Handoff] = {}
        self._lock = threading.Lock()

    def resumed(self, ctx: Context, owner: str) -> Handoff | None:
        """The form of a retry that answers an earlier hand-off of this session, if this call is one."""
        if not (is_modern(ctx) and ctx.request_state and ANSWER_KEY in (ctx.input_responses or {})):
            return None
        with self._lock:
            handoff = self._pending.get(ctx.request_state)
        if handoff is None or handoff.owner != owner:
            raise GuardrailError("Refused: this answer is for a secure form this session did not hand over. Nothing "
                                 "was created; call the tool again without it.")
        return handoff

    async def hand_over(self, ctx: Context, handoff: Handoff, message: str,
                        completed: Callable[[], Awaitable[bool]]) -> Outcome | InputRequiredResult:
        if is_modern(ctx):
            answer = (ctx.input_responses or {}).get(ANSWER_KEY)
            if answer is None:
                state = secrets.token_urlsafe(18)
                with self._lock:
                    now = time.time()
                    for stale in [k for k, h in self._pending.items() if h.expires_at <= now]:
                        del self._pending[stale]
                    self._pending[state] = handoff
                params = ElicitRequestURLParams(message=message, url=handoff.url,
                                                elicitation_id=handoff.elicitation_id)
                return InputRequiredResult(input_requests={ANSWER_KEY: ElicitRequest(params=params)},
                                           request_state=state)
            with self._lock:
                self._pending.pop(ctx.request_state or "", None)
            action = getattr(answer, "action", "decline")
        else:
            action = (await ctx.elicit_url(message, handoff.url, handoff.elicitation_id)).action
        if action != "accept":
            return Outcome.DECLINED
        if not await self._wait(ctx, completed):
            return Outcome.WAITING
        if not is_modern(ctx):
            await ctx.session.send_elicit_complete(handoff.elicitation_id)
        return Outcome.COMPLETED

    async def _wait(self, ctx: Context, completed: Callable[[], Awaitable[bool]]) -> bool:
        deadline = time.monotonic() + self.wait_seconds
        while not await completed():
            if time.monotonic() >= deadline:
                return False
            await ctx.report_progress(0, None, "waiting for the person to complete the secure form")
            await anyio.sleep(self.poll_seconds)
        return True


def new_handoff(form_id: str, url: str, owner: str, *, expires_at: float, result: Any = None) -> Handoff:
    """A hand-off with a fresh elicitation id (not the form id: the client may show or log it)."""
    return Handoff(form_id=form_id, url=url, owner=owner, elicitation_id=secrets.token_urlsafe(12),
                   expires_at=expires_at, result=result)
