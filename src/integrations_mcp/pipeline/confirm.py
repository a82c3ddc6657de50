"""The confirm stage: the one place that decides whether a planned change needs the person, asks for it, and
checks that what was approved is exactly what will be written.

Policies (setting INTEGRATIONS_CONFIRMATION):
- `person` (default): the person decides. A client that declared form elicitation is asked inside the same tool
  call, whatever the arguments (a live `elicitation/create` on 2025-era sessions, asked with the write lock
  released and followed by a re-plan that must match; an input-required result the client answers and retries
  with on 2026-07-28); only the boolean `true` approves. Otherwise the call is refused with a one-time approval
  page for the person; the agent's retry with `approval_id` goes through only if the person approved exactly this
  change. The person is asked about the whole write, in words for a person (`approvals.question`). Where approvers
  sign in (INTEGRATIONS_SIGNIN), every question goes to the page, where the decision counts only from a person
  signed in whom the approver policy lets decide (`pages.signin`).
- `model`: unattended automation. The refusal shows the change and hands back a `confirmation_id`; the retry
  must carry the confirmation flags *and* that token. A flag set without the token is refused like no flag.

Every approval covers one change: the tool, the target, the fields before → after and the saved state they were
computed from (a keyed digest), is used once, expires, and belongs to the session that asked.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import anyio
from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult
from pydantic import ValidationError

from integrations_mcp import telemetry
from integrations_mcp.approvals.kinds import kinds_of
from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import Approval, ApprovalStore, Verdict
from integrations_mcp.client_capabilities import can_ask_in_a_form, is_modern
from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import clean_text, own_link
from integrations_mcp.pages.listener import PageServer
from integrations_mcp.pipeline.changes import FieldChange, render_changes

__all__ = ["ANSWER_SCHEMA", "ApprovedHow", "AskPerson", "ConfirmCall", "ConfirmationPolicy", "ConfirmationRequest",
           "Confirmer", "Granted", "approves", "dry_run_steps"]

ANSWER_KEY = "confirm"  # the input request's key on 2026-07-28


class ConfirmationPolicy(StrEnum):
    PERSON = "person"
    MODEL = "model"


@dataclass(frozen=True)
class ConfirmationRequest:
    flag: str  # the tool argument that confirms under policy `model`, e.g. "confirm_overwrite"
    reason: str  # what needs confirming, one sentence
    changes: list[FieldChange] = field(default_factory=list)
    consequence: str = ""  # what happens if the user agrees, in words for the person
    title: str = ""  # the person's question, `{target}` for the integration: "Turn off {target}?"


@dataclass(frozen=True)
class ConfirmCall:
    """What the confirm stage knows of the call: who asks, for what, and what the caller brought back."""

    ctx: Context
    tool: str
    target: str  # the integration, as the person reads it
    owner: str  # the session key (toolkit.identity)
    principal: str = ""  # who asks (toolkit.identity.principal): an approver policy compares the approver with it
    flags: frozenset[str] = frozenset()  # confirmation flags set (policy `model`)
    token: str | None = None  # `confirmation_id` (model) or `approval_id` (person)
    # The whole write as the person sees it: every field it changes, the secret ones, plain labels by field.
    changes: tuple[FieldChange, ...] = ()
    secrets: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Granted:
    approval_id: str | None  # to spend when the write is sent; None when nothing needed confirming
    live: bool = False  # the person answered while this call waited: re-plan before writing
    how: ApprovedHow | str | None = None  # how it was approved (the journal keeps it); None when nothing needed it
    by: str | None = None  # who approved, when a person signed in on the page to do it (else the asking principal)


class ApprovedHow(StrEnum):
    """How a change was approved, as the journal shows it."""

    IN_CLIENT = "in the client"  # the person answered the client's question (elicitation)
    ON_PAGE = "on the approval page"  # the person opened the one-time link and approved there
    MODEL_TOKEN = "by the model's confirmation token"  # policy `model`: the agent confirmed


@dataclass(frozen=True)
class AskPerson:
    """A question for the person on a 2025-era session, asked by `Confirmer.ask` once the write lock is released."""

    ctx: Context
    text: str
    digest: str  # of the change asked about


# One boolean: only `true` approves (anything else, a string "true" included, is a decline).
ANSWER_SCHEMA: dict[str, Any] = {"type": "object", "required": ["approve"], "properties": {
    "approve": {"type": "boolean", "title": "Approve", "description": "Approve exactly this change?",
                "default": False}}}


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


def question(requests: list[ConfirmationRequest], call: ConfirmCall) -> Question:
    """What the person is asked: the whole write (not only the changes that need them), each line once."""
    changes = list(call.changes) or [c for r in requests for c in r.changes]
    return Question.of([r.title for r in requests if r.title], call.target, changes, call.secrets,
                       [r.consequence for r in requests], call.labels)


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
                 pages: Callable[[], PageServer], *, sign_in: bool = False) -> None:
        """`sign_in`: the approval page counts a decision only from a person who signed in there."""
        self.policy, self.approvals, self._pages, self.sign_in = policy, approvals, pages, sign_in

    async def confirm(self, requests: list[ConfirmationRequest], change: Any, call: ConfirmCall, *,
                      approved: str | None = None) -> Granted | InputRequiredResult | AskPerson:
        """Granted, an input request for the client (2026-07-28 elicitation), a question to put to the person
        once the write lock is released (2025-era elicitation: `ask`, then this again with `approved`, the digest
        they approved), or a refusal (GuardrailError)."""
        if not requests:
            return Granted(None)
        try:
            decided = await self._decide(requests, change, call, approved)
        except GuardrailError as exc:  # each refusal below says which outcome it is (`_outcome`)
            telemetry.approval(call.tool, self.policy.value, exc.details.get(OUTCOME, "asked"))
            raise
        telemetry.approval(call.tool, self.policy.value,
                           "asked" if isinstance(decided, InputRequiredResult | AskPerson) else "granted")
        return decided

    async def _decide(self, requests: list[ConfirmationRequest], change: Any, call: ConfirmCall,
                      approved: str | None) -> Granted | InputRequiredResult | AskPerson:
        digest = self.approvals.digest({"tool": call.tool, "target": call.target, "change": change})
        if approved is not None:
            if not hmac.compare_digest(approved, digest):
                raise GuardrailError("Refused: the saved values changed while the user was deciding, so their "
                                     "approval does not cover what would now be written. Nothing was sent. Call "
                                     "again to show them the new change.")
            return Granted(None, live=True, how=ApprovedHow.IN_CLIENT)
        if self.policy == ConfirmationPolicy.MODEL:
            return await self._by_model(requests, digest, call)
        # No argument moves the question out of the client that can ask it; where approvers sign in, an answer in
        # the client proves no one (an agent with the MCP token can run a client that says yes), so it is the page.
        if can_ask_in_a_form(call.ctx) and not self.sign_in:
            return await self._by_elicitation(requests, digest, call)
        if call.token:
            return await self._by_page_retry(requests, digest, call)
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
                return Granted(call.token, how=ApprovedHow.MODEL_TOKEN)
            note = {Verdict.CHANGED: "The confirmation_id does not match this change (the saved values or the "
                                     "arguments changed since). ",
                    Verdict.USED: "The confirmation_id does not match: it was already used. "}.get(
                verdict, "The confirmation_id does not match: no such confirmation for this session (unknown or "
                         "expired). ")
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
            by, how = await self.approvals.decider(call.token)
            return Granted(call.token, how=f"{ApprovedHow.ON_PAGE}, {how}" if by else ApprovedHow.ON_PAGE, by=by)
        if verdict == Verdict.REJECTED:
            raise GuardrailError("Refused: the user rejected this change on the approval page. Nothing was sent. "
                                 "Ask them what they want instead.", details=_outcome("rejected"))
        if verdict == Verdict.PENDING:
            url = own_link(await self._pages().page_url(f"approvals/{call.token}"))
            raise GuardrailError(f"Refused: the user has not approved this change yet. Nothing was sent. Give them "
                                 f"this link again: {url} (never open it yourself{self._signed_in_note()}); call "
                                 f"again with approval_id={call.token} when they say they approved.",
                                 details=_outcome("pending"))
        note = {Verdict.CHANGED: "This change is not the one approved (the saved values changed since, or the "
                                 "arguments differ). ",
                Verdict.USED: "That approval was already used for the change it covered. "}.get(
            verdict, "There is no such approval for this session (the approval_id is unknown or expired). ")
        return await self._refuse_with_page(requests, digest, call, note, outcome="stale")

    async def _refuse_with_page(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall,
                                note: str, outcome: str = "asked") -> Granted:
        approval = await self._create(requests, digest, call, on_page=True)
        url = own_link(await self._pages().page_url(f"approvals/{approval.id}"))
        needs = "This change needs" if note else "this change needs"
        raise GuardrailError(f"Refused: {note}{needs} the user's approval.\n{summary(requests)}\nNothing "
                             f"was sent. Give the user this link to approve or reject it: {url} (never open or "
                             f"submit it yourself{self._signed_in_note()}). When they say they approved, call again "
                             f"with the same arguments and approval_id={approval.id}.", details=_outcome(outcome))

    async def _by_elicitation(self, requests: list[ConfirmationRequest], digest: str,
                              call: ConfirmCall) -> Granted | InputRequiredResult | AskPerson:
        ctx = call.ctx
        text = question(requests, call).text()
        if not is_modern(ctx):
            # Asked outside the write lock (pipeline.write): the write is planned again once the person answered.
            return AskPerson(ctx, text, digest)
        answer = (ctx.input_responses or {}).get(ANSWER_KEY)
        if answer is None or not ctx.request_state:
            approval = await self._create(requests, digest, call)
            form = ElicitRequestFormParams(message=text, requested_schema=ANSWER_SCHEMA)
            return InputRequiredResult(input_requests={ANSWER_KEY: ElicitRequest(params=form)},
                                       request_state=approval.id)
        _refuse_unless(approves(answer), _action(answer))
        verdict = await self.approvals.check(ctx.request_state, owner=call.owner, digest=digest,
                                             granted_by_caller=True)
        if verdict != Verdict.GRANTED:
            raise GuardrailError("Refused: the change is no longer the one the user approved (the saved values "
                                 "changed meanwhile). Nothing was sent. Call again to show them the new change.",
                                 details=_outcome("stale"))
        return Granted(ctx.request_state, how=ApprovedHow.IN_CLIENT)

    async def ask(self, question: AskPerson) -> str:
        """Put a 2025-era question to the person (a live `elicitation/create`), holding no write lock; the digest
        of what they approved, which the re-planned write must match. Any answer but an explicit approval, any
        malformed answer, no answer in time: a refusal."""
        answer: Any = None
        with anyio.move_on_after(self.approvals.lifetime_seconds) as waited:
            try:
                answer = await question.ctx.session.elicit_form(question.text, ANSWER_SCHEMA,
                                                                related_request_id=question.ctx.request_id)
            except (MCPError, ValidationError, ValueError):  # the client failed or answered out of schema
                answer = None
        if waited.cancelled_caught:
            raise GuardrailError("Refused: the user did not answer in time. Nothing was sent. Call again when they "
                                 "are ready to decide.", details=_outcome("timeout"))
        _refuse_unless(approves(answer), _action(answer))
        return question.digest

    def _signed_in_note(self) -> str:
        return "; the user must sign in on that page and approve there themselves" if self.sign_in else ""

    async def _create(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall, *,
                      on_page: bool = False) -> Approval:
        asked = [c for r in requests for c in r.changes]
        kinds = kinds_of([r.flag for r in requests], asked, [*call.changes, *asked], call.secrets)
        return await self.approvals.create(tool=call.tool, target=clean_text(call.target),
                                           summary=question(requests, call).to_json(), digest=digest,
                                           owner=call.owner, on_page=on_page, kinds=kinds,
                                           requested_by=call.principal)


def approves(answer: Any) -> bool:
    """Only an accepted answer whose `approve` is the boolean true approves: not "true", 1, "yes" or a list."""
    content = getattr(answer, "content", None) if not isinstance(answer, dict) else answer.get("content")
    return _action(answer) == "accept" and isinstance(content, dict) and content.get("approve") is True


def _action(answer: Any) -> str:
    action = answer.get("action") if isinstance(answer, dict) else getattr(answer, "action", None)
    return action if action in ("accept", "decline", "cancel") else "decline"


def _refuse_unless(accepted: bool, action: str) -> None:
    if not accepted:
        how = "cancelled the question" if action == "cancel" else "did not approve"
        raise GuardrailError(f"Refused: the user {how}. Nothing was sent. Ask them what they want instead.",
                             details=_outcome("rejected"))


OUTCOME = "approval_outcome"


def _outcome(outcome: str) -> dict[str, str]:
    """What a refusal of the confirm stage stands for in the metrics (`integrations.approvals`): asked (the person
    or the model was asked, the default), rejected, pending, stale (not the change approved), timeout."""
    return {OUTCOME: outcome}
