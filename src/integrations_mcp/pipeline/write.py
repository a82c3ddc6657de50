"""Every write tool runs the same five stages, in this order, under one lock per target:

1. plan    - read the saved record and work out the exact change: the body to send and each field's
             saved → proposed (pure given what was read; no vendor write).
2. check   - the vendor's rules (one named function per guardrail in the vendor's `rules.py`); each refuses by
             raising, and nothing has been sent.
3. confirm - `confirm.Confirmer`: the changes that need the person, asked for or checked against an approval of
             exactly this change. A dry run stops before it and returns the plan.
4. send    - the vendor call (a secure form's values are spent atomically with it).
5. verify  - read the record back and list every difference from what was planned.

The change journal (`journal.py`), when the server has one, records each write at send and settles it at verify;
a refused or failed write is recorded too (dry runs and calls waiting for the person are not writes).

The lock (`locks.py`) makes check-and-write atomic per target within this server: a second writer waits, is planned
again against the first one's result, and needs its own confirmation if it now replaces a value. A question put live
to the person (2025-era elicitation), or an approval page handed to them while the call waits for their decision,
is asked with the lock released; the write then runs again under the lock and goes through only if it is exactly
the change the person approved. Later features
hook one stage each (a change journal at send/verify, value-based secret checks at check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult

from integrations_mcp.errors import IntegrationsError, VendorError, WriteOutcomeUnknown
from integrations_mcp.pipeline.confirm import (
    Approved,
    AskPerson,
    ConfirmationPolicy,
    ConfirmationRequest,
    ConfirmCall,
    Confirmer,
)
from integrations_mcp.pipeline.journal import Journal, JournalEntry, Planned, Written
from integrations_mcp.pipeline.locks import WriteLocks
from integrations_mcp.pipeline.progress import Progress
from integrations_mcp.telemetry import stage

__all__ = ["Described", "WriteCall", "WriteServices", "WriteStages", "run_write"]

SentT = TypeVar("SentT")
ResultT = TypeVar("ResultT")


class Described(Protocol):
    """What a plan says about its own write, from what was read and asked alone (no stage state): the stages
    carry only what they do."""

    @property
    def target(self) -> str: ...  # the integration, as the person reads it

    @property
    def fingerprint(self) -> Any: ...  # what an approval covers: the changes and the saved state

    @property
    def journal(self) -> Planned: ...  # the record before and the changes, secrets as names

    @property
    def settle(self) -> str: ...  # the read that tells whether a write of unknown outcome happened

    @property
    def labels(self) -> Mapping[str, str]: ...  # plain labels of the vendor's fields, for the person

    def preview(self, needed: list[ConfirmationRequest], policy: ConfirmationPolicy) -> Any: ...  # a dry run


PlanT = TypeVar("PlanT", bound=Described)


class WriteStages(Protocol, Generic[PlanT, SentT, ResultT]):
    def lock_keys(self) -> list[str]: ...  # known from the arguments, before anything is read

    async def plan(self) -> PlanT: ...

    async def check(self, plan: PlanT) -> None: ...

    def confirmations(self, plan: PlanT) -> list[ConfirmationRequest]: ...

    async def send(self, plan: PlanT) -> SentT: ...

    async def reconcile(self, plan: PlanT) -> SentT | None: ...  # `plan.settle`'s read, where it can be done here

    async def verify(self, plan: PlanT, sent: SentT) -> ResultT: ...

    def journal_result(self, result: ResultT) -> Written: ...  # the image read back


@dataclass(frozen=True)
class WriteServices:
    """Shared by every write of a server."""

    locks: WriteLocks
    confirmer: Confirmer
    journal: Journal | None = None  # None: writes are not journaled (tests of the pipeline alone)


@dataclass(frozen=True)
class WriteCall:
    """One call of a write tool."""

    ctx: Context
    tool: str
    owner: str  # the session key forms and approvals are bound to
    vendor: str  # named in progress messages
    dry_run: bool = False
    flags: frozenset[str] = frozenset()  # confirmation flags set (policy `model`)
    token: str | None = None  # confirmation_id (policy `model`) or approval_id (policy `person`)
    principal: str = ""  # who the journal names (toolkit.identity.principal)
    reverts: int | None = None  # the journaled change this write reverts


async def run_write(stages: WriteStages[PlanT, SentT, ResultT], call: WriteCall,
                    services: WriteServices) -> ResultT | InputRequiredResult:
    entry = None if call.dry_run or services.journal is None else services.journal.entry(
        principal=call.principal, tool=call.tool, vendor=call.vendor.lower(), target=", ".join(stages.lock_keys()),
        reverts=call.reverts)
    approved: Approved | None = None  # what the person approved while no lock was held
    while True:  # at most twice: `confirm` given `approved` grants or refuses, it never asks again
        try:
            async with services.locks.hold(stages.lock_keys()):
                outcome = await _run(stages, call, services, entry, approved)
            if not isinstance(outcome, AskPerson):
                return outcome
            # A person can take minutes: other writes to this target go on meanwhile, and this one is planned
            # again afterwards and must be exactly what they approved.
            approved = await services.confirmer.ask(outcome)
        except IntegrationsError as exc:
            if entry is not None:
                await entry.stopped(exc)
            raise


async def _run(stages: WriteStages[PlanT, SentT, ResultT], call: WriteCall, services: WriteServices,
               entry: JournalEntry | None, approved: Approved | None) -> ResultT | InputRequiredResult | AskPerson:
    progress = Progress(call.ctx, 3)
    await progress.step("checking the change")
    try:
        plan = await stage("plan", call, stages.plan())
        if entry is not None:
            entry.planned(plan.target, plan.journal)
        await stage("check", call, stages.check(plan))
    except VendorError as exc:  # a read of the plan or check stage: the write was never sent
        exc.args = (f"{exc} Nothing was written (this happened before the write was sent).",)
        raise
    requests = stages.confirmations(plan)
    if call.dry_run:
        await progress.finish("dry run: checked, nothing sent")
        return plan.preview(requests, services.confirmer.policy)
    # A revert's approval is its own: the same edit made directly is another change.
    change = plan.fingerprint if call.reverts is None else {"reverts": call.reverts, "edit": plan.fingerprint}
    asked = services.confirmer.confirm(requests, change, _confirm_call(plan, call), approved=approved)
    granted = await stage("confirm", call, asked)
    if isinstance(granted, InputRequiredResult | AskPerson):
        return granted
    await services.confirmer.spend(granted)
    if entry is not None:
        if granted.how is not None:
            entry.approved(granted.by or call.principal, granted.how)
        await entry.sending()
    await progress.step(f"saving it in {call.vendor}")
    lost: VendorError | None = None
    try:
        sent = await stage("send", call, stages.send(plan))
    except VendorError as exc:
        if exc.nothing_written:
            if "nothing was" not in str(exc).lower():
                exc.args = (f"{exc} Nothing was written.",)
            raise
        sent, lost = await _reconcile(stages, plan, exc), exc
    await progress.step("reading it back to verify")
    result = await stage("verify", call, stages.verify(plan, sent))
    if lost is not None and isinstance(getattr(result, "next_steps", None), list):
        result.next_steps.insert(0, f"The vendor's answer was lost ({lost}), but the write is there: found and "
                                    "read back.")
    if entry is not None:
        await entry.written(stages.journal_result(result))
    return result


async def _reconcile(stages: WriteStages[PlanT, SentT, Any], plan: PlanT, exc: VendorError) -> SentT:
    """A timeout, a dropped connection, a 5xx or an unreadable answer after the request left: the vendor may have
    applied it. Look for it where the stages can; otherwise say so, and how to find out: a blind retry could apply
    it twice."""
    try:
        found = await stages.reconcile(plan)
    except VendorError:
        found = None
    if found is not None:
        return found
    raise WriteOutcomeUnknown(exc.vendor, exc.operation, f"{exc} The write may have happened. Before anything else, "
                              f"{plan.settle}; do not simply call again.", status=exc.status,
                              error_code=exc.error_code, api_call_id=exc.api_call_id) from None


def _confirm_call(plan: Described, call: WriteCall) -> ConfirmCall:
    whole = plan.journal  # every field the write changes, secrets named: what the person is shown
    return ConfirmCall(ctx=call.ctx, tool=call.tool, target=plan.target, owner=call.owner, principal=call.principal,
                       flags=call.flags,
                       token=call.token, changes=tuple(whole.changes), secrets=tuple(whole.secrets),
                       labels=dict(plan.labels))
