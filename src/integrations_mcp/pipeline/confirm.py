"""The confirm stage: the one place that decides whether a planned change needs the person, asks for it, and
checks that what was approved is exactly what will be written.

Policies (setting INTEGRATIONS_CONFIRMATION):
- `person` (default): the person decides. A client that declared form elicitation is asked inside the same tool
  call (a live `elicitation/create` on 2025-era sessions; an input-required result the client answers and retries
  with on 2026-07-28). Otherwise the call is refused with a one-time approval page for the person; the agent's
  retry with `approval_id` goes through only if the person approved exactly this change.
- `model`: unattended automation. The refusal shows the change and hands back a `confirmation_id`; the retry
  must carry the confirmation flags *and* that token. A flag set without the token is refused like no flag.

Every approval covers one change: the tool, the target, the fields before → after and the saved state they were
computed from (a keyed digest), is used once, expires, and belongs to the session that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult
from pydantic import BaseModel, Field

from integrations_mcp.approvals.store import Approval, ApprovalStore, Verdict
from integrations_mcp.client_capabilities import can_ask_in_a_form, is_modern
from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import clean_text, own_link
from integrations_mcp.pipeline.changes import FieldChange, render_changes
from integrations_mcp.secure_forms.listener import SecureFormServer

__all__ = ["ConfirmCall", "ConfirmationPolicy", "ConfirmationRequest", "Confirmer", "Granted", "dry_run_steps"]

ANSWER_KEY = "confirm"  # the input request's key on 2026-07-28


class ConfirmationPolicy(StrEnum):
    PERSON = "person"
    MODEL = "model"


@dataclass(frozen=True)
class ConfirmationRequest:
    flag: str  # the tool argument that confirms under policy `model`, e.g. "confirm_overwrite"
    reason: str  # what needs confirming, one sentence
    changes: list[FieldChange] = field(default_factory=list)
    consequence: str = ""  # what happens if the user agrees


@dataclass(frozen=True)
class ConfirmCall:
    """What the confirm stage knows of the call: who asks, for what, and what the caller brought back."""

    ctx: Context
    tool: str
    target: str  # the integration, as the person reads it
    owner: str  # the session key (toolkit.identity)
    flags: frozenset[str] = frozenset()  # confirmation flags set (policy `model`)
    token: str | None = None  # `confirmation_id` (model) or `approval_id` (person)


@dataclass(frozen=True)
class Granted:
    approval_id: str | None  # to spend when the write is sent; None when nothing needed confirming
    live: bool = False  # the person answered while this call waited: re-plan before writing


class PersonAnswer(BaseModel):
    approve: bool = Field(description="Approve exactly this change?")


def summary(requests: list[ConfirmationRequest]) -> str:
    """The diff and its consequences, cleaned here: besides the refusal (filtered with every answer) it goes where the
    output filter does not, to the approvals table, the approval page and the elicitation message."""
    lines: list[str] = []
    for request in requests:
        lines.append(request.reason[:1].upper() + request.reason[1:])
        if request.changes:
            lines += ["Saved → proposed:", render_changes(request.changes)]
        if request.consequence:
            lines.append(request.consequence)
    return clean_text("\n".join(lines))


def dry_run_steps(needed: list[ConfirmationRequest], goal: str, policy: ConfirmationPolicy) -> list[str]:
    """A dry run's next steps: what still needs agreement, then the call (`goal`: "to create it")."""
    if not needed:
        return [f"Call again without dry_run {goal}."]
    if policy == ConfirmationPolicy.MODEL:
        steps = [f"Needs {r.flag}=true: {r.reason} Ask the user; set it only if they agree." for r in needed]
        return [*steps, f"Call again without dry_run {goal}; the refusal shows the user the change and gives the "
                        "confirmation_id to send back with the flags they agreed to."]
    return [f"Needs the user's approval: {r.reason}" for r in needed] + [
        f"Call again without dry_run {goal}: the server asks the user to approve (or refuses with a link for them)."]


class Confirmer:
    def __init__(self, policy: ConfirmationPolicy, approvals: ApprovalStore,
                 pages: Callable[[], SecureFormServer]) -> None:
        self.policy, self.approvals, self._pages = policy, approvals, pages

    async def confirm(self, requests: list[ConfirmationRequest], change: Any,
                      call: ConfirmCall) -> Granted | InputRequiredResult:
        """Granted, an input request for the client (2026-07-28 elicitation), or a refusal (GuardrailError)."""
        if not requests:
            return Granted(None)
        digest = self.approvals.digest({"tool": call.tool, "target": call.target, "change": change})
        if self.policy == ConfirmationPolicy.MODEL:
            return await self._by_model(requests, digest, call)
        if call.token:
            return await self._by_page_retry(requests, digest, call)
        if can_ask_in_a_form(call.ctx):
            return await self._by_elicitation(requests, digest, call)
        return await self._refuse_with_page(requests, digest, call, "")

    async def spend(self, granted: Granted) -> None:
        """Spend the approval with the write it allows: once, whichever replica gets there first."""
        if granted.approval_id and not await self.approvals.spend(granted.approval_id):
            raise GuardrailError("Refused: this approval was already used by another call. Nothing was sent. Call "
                                 "again to see the change as it is now.")

    # ------------------------------------------------------------------ policy `model`

    async def _by_model(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall) -> Granted:
        flags = {r.flag for r in requests}
        note = ""
        if call.token and flags <= call.flags:
            verdict = await self.approvals.check(call.token, owner=call.owner, digest=digest,
                                                 granted_by_caller=True)
            if verdict == Verdict.GRANTED:
                return Granted(call.token)
            note = ("The confirmation_id does not match this change (the saved values changed since, or it "
                    "expired or was used). ")
        elif flags & call.flags and not call.token:
            note = "A confirmation flag counts only with the confirmation_id of the refusal that showed the change. "
        approval = await self._create(requests, digest, call)
        wanted = " and ".join(f"{flag}=true" for flag in sorted(flags))
        raise GuardrailError(f"Refused: {note}{summary(requests)}\nNothing was sent. Show this to the user; only if "
                             f"they agree, call again with {wanted} and confirmation_id={approval.id} (valid "
                             f"{self.approvals.lifetime_seconds / 60:g} minutes, for exactly this change).")

    # ------------------------------------------------------------------ policy `person`

    async def _by_page_retry(self, requests: list[ConfirmationRequest], digest: str,
                             call: ConfirmCall) -> Granted:
        assert call.token is not None
        verdict = await self.approvals.check(call.token, owner=call.owner, digest=digest)
        if verdict == Verdict.GRANTED:
            return Granted(call.token)
        if verdict == Verdict.REJECTED:
            raise GuardrailError("Refused: the user rejected this change on the approval page. Nothing was sent. "
                                 "Ask them what they want instead.")
        if verdict == Verdict.PENDING:
            url = own_link(await self._pages().page_url(f"approvals/{call.token}"))
            raise GuardrailError(f"Refused: the user has not approved this change yet. Nothing was sent. Give them "
                                 f"this link again: {url} (never open it yourself); call again with "
                                 f"approval_id={call.token} when they say they approved.")
        return await self._refuse_with_page(requests, digest, call, "This change is not the one approved (the saved "
                                            "values changed since, or the approval expired or was used). ")

    async def _refuse_with_page(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall,
                                note: str) -> Granted:
        approval = await self._create(requests, digest, call, on_page=True)
        url = own_link(await self._pages().page_url(f"approvals/{approval.id}"))
        raise GuardrailError(f"Refused: {note}this change needs the user's approval.\n{summary(requests)}\nNothing "
                             f"was sent. Give the user this link to approve or reject it: {url} (never open or "
                             f"submit it yourself). When they say they approved, call again with the same arguments "
                             f"and approval_id={approval.id}.")

    async def _by_elicitation(self, requests: list[ConfirmationRequest], digest: str,
                              call: ConfirmCall) -> Granted | InputRequiredResult:
        ctx = call.ctx
        text = f"Approve this change to {clean_text(call.target)}?\n{summary(requests)}"
        if is_modern(ctx):
            answer = (ctx.input_responses or {}).get(ANSWER_KEY)
            if answer is None or not ctx.request_state:
                approval = await self._create(requests, digest, call)
                form = ElicitRequestFormParams(message=text, requested_schema=PersonAnswer.model_json_schema())
                return InputRequiredResult(input_requests={ANSWER_KEY: ElicitRequest(params=form)},
                                           request_state=approval.id)
            accepted = getattr(answer, "action", None) == "accept" and bool((answer.content or {}).get("approve"))
            _refuse_unless(accepted, getattr(answer, "action", "decline"))
            verdict = await self.approvals.check(ctx.request_state, owner=call.owner, digest=digest,
                                                 granted_by_caller=True)
            if verdict != Verdict.GRANTED:
                raise GuardrailError("Refused: the change is no longer the one the user approved (the saved values "
                                     "changed meanwhile). Nothing was sent. Call again to show them the new change.")
            return Granted(ctx.request_state)
        # The write lock is held while the person decides: bound the wait, so other writes are not held forever.
        with anyio.move_on_after(self.approvals.lifetime_seconds):
            result = await ctx.elicit(text, PersonAnswer)
            _refuse_unless(result.action == "accept" and bool(getattr(result, "data", None) and result.data.approve),
                           result.action)
            return Granted(None, live=True)
        raise GuardrailError("Refused: the user did not answer in time. Nothing was sent. Call again when they are "
                             "ready to decide.")

    async def _create(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall, *,
                      on_page: bool = False) -> Approval:
        return await self.approvals.create(tool=call.tool, target=clean_text(call.target), summary=summary(requests),
                                           digest=digest, owner=call.owner, on_page=on_page)


def _refuse_unless(accepted: bool, action: str) -> None:
    if not accepted:
        how = "cancelled the question" if action == "cancel" else "did not approve"
        raise GuardrailError(f"Refused: the user {how}. Nothing was sent. Ask them what they want instead.")
