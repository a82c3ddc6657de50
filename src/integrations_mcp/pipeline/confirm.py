"""The confirm stage: the one place that decides whether a planned change needs the person, asks for it, and
checks that what was approved is exactly what will be written.

Policies (setting INTEGRATIONS_CONFIRMATION):
- `person` (default): the person decides. A client that declared form elicitation is asked inside the same tool
  call, whatever the arguments (a live `elicitation/create` on 2025-era sessions, asked with the write lock
  released and followed by a re-plan that must match; an input-required result the client answers and retries
  with on 2026-07-28); only the boolean `true` approves. Otherwise the person decides on a one-time approval page.
  A client that declared URL elicitation is handed the page for the person (a live `elicitation/create` outside the
  write lock, or an input-required result on 2026-07-28), and the call waits (INTEGRATIONS_FORM_WAIT_SECONDS) for
  the decision, then re-plans: the agent sees neither the link nor the page id (its approval_id is a keyed hash of
  the page id, `ApprovalStore.handle`). Any other client is refused with the link for the agent to give the
  person. Either way the agent's retry with `approval_id` goes through only if the person approved exactly this
  change. The person is asked about the whole write, in words for a person (`approvals.question`). Where approvers
  sign in (INTEGRATIONS_SIGNIN), every question goes to the page, where the decision counts only from a person
  signed in whom the approver policy lets decide (`pages.signin`).
- `model`: unattended automation. The refusal shows the change and hands back a `confirmation_id`; the retry
  must carry the confirmation flags *and* that token. A flag set without the token is refused like no flag.

Every approval covers one change: the tool, the target, the fields before → after and the saved state they were
computed from (a keyed digest), is used once, expires, and belongs to the session that asked.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import anyio
from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitRequestURLParams, InputRequiredResult
from pydantic import ValidationError

from integrations_mcp import telemetry
from integrations_mcp.approvals.kinds import kinds_of
from integrations_mcp.approvals.question import Question
from integrations_mcp.approvals.store import Approval, ApprovalStore, Verdict
from integrations_mcp.client_capabilities import can_ask_in_a_form, can_open_urls, is_modern
from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import clean_text, own_link
from integrations_mcp.pages.listener import PageServer
from integrations_mcp.pipeline.changes import FieldChange, render_changes
from integrations_mcp.pipeline.policy import ConfirmationPolicy

__all__ = ["ANSWER_SCHEMA", "Approved", "ApprovedHow", "AskPerson", "ConfirmCall", "ConfirmationPolicy",
           "ConfirmationRequest", "Confirmer", "Granted", "PageHandoff", "approves", "dry_run_steps", "page_message"]

ANSWER_KEY = "confirm"  # the input request's key on 2026-07-28
PAGE_KEY = "open_approval_page"  # the URL elicitation's key on 2026-07-28


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
class PageHandoff:
    """The approval page handed to the person through the client (URL elicitation)."""

    approval_id: str  # the agent's handle, not the page's id
    owner: str
    url: str | None  # sent live (2025-era); None when the client already answered (2026-07-28 retry)
    elicitation_id: str = ""
    action: str = "decline"  # the client's answer on 2026-07-28


@dataclass(frozen=True)
class AskPerson:
    """What `Confirmer.ask` does once the write lock is released: put a question to the person on a 2025-era
    session, or (`page`) hand them the approval page and wait for their decision there."""

    ctx: Context
    text: str
    digest: str  # of the change asked about
    page: PageHandoff | None = None


@dataclass(frozen=True)
class Approved:
    """What the person approved while no lock was held: the re-planned write must have this digest."""

    digest: str
    approval_id: str | None = None  # decided on the page: the approval to check again and spend


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
                 pages: Callable[[], PageServer], *, sign_in: bool = False, wait_seconds: float = 120,
                 poll_seconds: float = 0.5) -> None:
        """`sign_in`: the approval page counts a decision only from a person who signed in there. `wait_seconds`:
        how long a call that handed the page to the person waits for their decision."""
        self.policy, self.approvals, self._pages, self.sign_in = policy, approvals, pages, sign_in
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds

    async def confirm(self, requests: list[ConfirmationRequest], change: Any, call: ConfirmCall, *,
                      approved: Approved | None = None) -> Granted | InputRequiredResult | AskPerson:
        """Granted, an input request for the client (2026-07-28 elicitation), a question to put to the person
        once the write lock is released (`ask`, then this again with `approved`: what they approved), or a
        refusal (GuardrailError)."""
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
                      approved: Approved | None) -> Granted | InputRequiredResult | AskPerson:
        digest = self.approvals.digest({"tool": call.tool, "target": call.target, "change": change})
        if approved is not None:
            if not hmac.compare_digest(approved.digest, digest):
                raise GuardrailError("Refused: the saved values changed while the user was deciding, so their "
                                     "approval does not cover what would now be written. Nothing was sent. Call "
                                     "again to show them the new change.", details=_outcome("stale"))
            if approved.approval_id is None:
                return Granted(None, live=True, how=ApprovedHow.IN_CLIENT)
            granted = await self._granted_on_page(approved.approval_id, digest, call)
            if granted is None:
                raise GuardrailError("Refused: the approval no longer covers this change (it was used or expired "
                                     "meanwhile). Nothing was sent. Call again to ask the user again.",
                                     details=_outcome("stale"))
            return Granted(granted.approval_id, live=True, how=granted.how, by=granted.by)
        if self.policy == ConfirmationPolicy.MODEL:
            return await self._by_model(requests, digest, call)
        # No argument moves the question out of the client that can ask it; where approvers sign in, an answer in
        # the client proves no one (an agent with the MCP token can run a client that says yes), so it is the page.
        if can_ask_in_a_form(call.ctx) and not self.sign_in:
            return await self._by_elicitation(requests, digest, call)
        # A client that can show the person a link gets the page for them: the agent never sees it.
        if can_open_urls(call.ctx):
            return await self._by_url(requests, digest, call)
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

    async def _granted_on_page(self, approval_id: str, digest: str, call: ConfirmCall) -> Granted | None:
        if await self.approvals.check(approval_id, owner=call.owner, digest=digest) != Verdict.GRANTED:
            return None
        by, how = await self.approvals.decider(approval_id)
        return Granted(approval_id, how=f"{ApprovedHow.ON_PAGE}, {how}" if by else ApprovedHow.ON_PAGE, by=by)

    async def _by_page_retry(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall, *,
                             handed_over: bool = False) -> Granted:
        """The agent's retry with `approval_id`. `handed_over`: the client showed the person the page (URL
        elicitation), so no refusal here hands the agent a link."""
        assert call.token is not None
        verdict = await self.approvals.check(call.token, owner=call.owner, digest=digest)
        if verdict == Verdict.GRANTED:
            granted = await self._granted_on_page(call.token, digest, call)
            if granted is not None:
                return granted
        if verdict == Verdict.REJECTED:
            raise _rejected_on_page()
        if verdict == Verdict.PENDING:
            # The page's link is not derivable from the approval id: a client that opens links shows it again on a
            # new call; otherwise the agent still has the link it was given.
            first = "" if handed_over else (f"Give them the approval link from before again (never open it yourself"
                                            f"{self._signed_in_note()}). ")
            again = "to show them the approval page again" if handed_over else "for a new link"
            raise GuardrailError(f"Refused: the user has not approved this change yet. Nothing was sent. {first}Call "
                                 f"again with approval_id={call.token} when they say they decided, or without "
                                 f"approval_id {again}.", details=_outcome("pending"))
        note = {Verdict.CHANGED: "This change is not the one approved (the saved values changed since, or the "
                                 "arguments differ). ",
                Verdict.USED: "That approval was already used for the change it covered. "}.get(
            verdict, "There is no such approval for this session (the approval_id is unknown or expired). ")
        if handed_over:
            raise GuardrailError(f"Refused: {note}Nothing was sent. Call again without approval_id to ask the user "
                                 "to approve this change.", details=_outcome("stale"))
        return await self._refuse_with_page(requests, digest, call, note, outcome="stale")

    async def _by_url(self, requests: list[ConfirmationRequest], digest: str,
                      call: ConfirmCall) -> InputRequiredResult | AskPerson | Granted:
        """The approval page handed to the person by the client; the call then waits for their decision (`ask`)."""
        ctx = call.ctx
        if is_modern(ctx) and ctx.request_state and PAGE_KEY in (ctx.input_responses or {}):
            # The retry after the client showed the page: wait for the decision with the lock released.
            answer = (ctx.input_responses or {})[PAGE_KEY]
            return AskPerson(ctx, "", digest, PageHandoff(ctx.request_state, call.owner, None,
                                                          action=_action(answer)))
        if call.token:
            return await self._by_page_retry(requests, digest, call, handed_over=True)
        approval = await self._create(requests, digest, call, on_page=True)
        url = own_link(await self._pages().page_url(f"approvals/{approval.page_id}"))
        text = page_message(question(requests, call).title, sign_in=self.sign_in)
        elicitation_id = secrets.token_urlsafe(12)  # not the page id: the client may show or log it
        if is_modern(ctx):
            params = ElicitRequestURLParams(message=text, url=url, elicitation_id=elicitation_id)
            return InputRequiredResult(input_requests={PAGE_KEY: ElicitRequest(params=params)},
                                       request_state=approval.id)
        return AskPerson(ctx, text, digest, PageHandoff(approval.id, call.owner, url, elicitation_id))

    async def _refuse_with_page(self, requests: list[ConfirmationRequest], digest: str, call: ConfirmCall,
                                note: str, outcome: str = "asked") -> Granted:
        approval = await self._create(requests, digest, call, on_page=True)
        url = own_link(await self._pages().page_url(f"approvals/{approval.page_id}"))
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

    async def ask(self, question: AskPerson) -> Approved:
        """Put a 2025-era question to the person (a live `elicitation/create`), or hand them the approval page and
        wait for their decision, holding no write lock; what they approved, which the re-planned write must match.
        Any answer but an explicit approval, any malformed answer, no answer in time: a refusal."""
        if question.page is not None:
            return await self._await_page(question, question.page)
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
        return Approved(question.digest)

    async def _await_page(self, asked: AskPerson, page: PageHandoff) -> Approved:
        ctx, action = asked.ctx, page.action
        if page.url is not None:
            action = "decline"  # unless the client answers, in time, that the person opens it
            with anyio.move_on_after(self.approvals.lifetime_seconds):
                try:
                    action = (await ctx.elicit_url(asked.text, page.url, page.elicitation_id)).action
                except (MCPError, ValidationError, ValueError):  # the client failed or answered out of schema
                    action = "decline"
        if action != "accept":
            await self.approvals.withdraw(page.approval_id, owner=page.owner)
            raise GuardrailError("Refused: the user declined to open the approval page. Nothing was sent. Ask them "
                                 "what they want instead.", details=_outcome("rejected"))
        deadline = time.monotonic() + self.wait_seconds
        while (verdict := await self.approvals.check(page.approval_id, owner=page.owner, digest=asked.digest)) \
                == Verdict.PENDING and time.monotonic() < deadline:
            await ctx.report_progress(0, None, "waiting for the person to decide on the approval page")
            await anyio.sleep(self.poll_seconds)
        if verdict in (Verdict.GRANTED, Verdict.REJECTED) and page.url is not None:
            # The page is done with: the client can stop showing it (a client that is gone changes nothing).
            with contextlib.suppress(MCPError, OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await ctx.session.send_elicit_complete(page.elicitation_id)
        if verdict == Verdict.GRANTED:
            return Approved(asked.digest, page.approval_id)
        if verdict == Verdict.REJECTED:
            raise _rejected_on_page()
        if verdict == Verdict.PENDING:
            raise GuardrailError(f"Refused: the user has not decided on the approval page yet. Nothing was sent. "
                                 f"Call again with the same arguments and approval_id={page.approval_id} when they "
                                 "say they decided.", details=_outcome("pending"))
        note = {Verdict.CHANGED: "the saved values changed while the user was deciding",
                Verdict.USED: "that approval was already used"}.get(verdict, "there is no such approval for this "
                                                                             "session")
        raise GuardrailError(f"Refused: {note}. Nothing was sent. Call again without approval_id to ask the user "
                             "to approve this change.", details=_outcome("stale"))

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


def page_message(title: str, *, sign_in: bool) -> str:
    """What the client shows the person with the approval page's link."""
    sign = " You will sign in there before you decide." if sign_in else ""
    return clean_text(f"{title} Open the approval page to see the whole change and approve or reject it.{sign}")


def _rejected_on_page() -> GuardrailError:
    return GuardrailError("Refused: the user rejected this change on the approval page. Nothing was sent. Ask them "
                          "what they want instead.", details=_outcome("rejected"))


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
