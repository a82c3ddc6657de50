"""Every write tool runs the same five stages, in this order:

1. plan    - read the saved record and work out the exact change: the body to send and each field's
             saved → proposed (pure given what was read; no vendor write).
2. check   - the vendor's rules (one named function per guardrail in the vendor's `rules.py`); each refuses by
             raising, and nothing has been sent.
3. confirm - `confirm.decide`: the changes that need the person, and whether they were confirmed.
             A dry run stops here and returns the plan, naming the confirmations still needed.
4. send    - the vendor call (with a secure form's values, spent atomically with the call).
5. verify  - read the record back and list every difference from what was planned.

A vendor implements `WriteStages` once per write tool; later features hook one stage each (a change journal at
send/verify, the person's approval at confirm, value-based secret checks at check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from integrations_mcp.pipeline import confirm
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.pipeline.progress import Progress

__all__ = ["WriteStages", "run_write"]

PlanT = TypeVar("PlanT")
SentT = TypeVar("SentT")
ResultT = TypeVar("ResultT")


class WriteStages(Protocol, Generic[PlanT, SentT, ResultT]):
    async def plan(self) -> PlanT: ...

    async def check(self, plan: PlanT) -> None: ...

    def confirmations(self, plan: PlanT) -> list[ConfirmationRequest]: ...

    def preview(self, plan: PlanT, needed: list[ConfirmationRequest]) -> ResultT: ...

    async def send(self, plan: PlanT) -> SentT: ...

    async def verify(self, plan: PlanT, sent: SentT) -> ResultT: ...


async def run_write(stages: WriteStages[PlanT, SentT, ResultT], *, progress: Progress, dry_run: bool,
                    confirmed: Iterable[str], subject: str) -> ResultT:
    """Run the stages for one write; `subject` names the vendor in progress messages (e.g. "RevCent")."""
    await progress.step("checking the change")
    plan = await stages.plan()
    await stages.check(plan)
    requests = stages.confirmations(plan)
    if dry_run:
        return stages.preview(plan, confirm.unconfirmed(requests, confirmed))
    confirm.decide(requests, confirmed)
    await progress.step(f"saving it in {subject}")
    sent = await stages.send(plan)
    await progress.step("reading it back to verify")
    return await stages.verify(plan, sent)
