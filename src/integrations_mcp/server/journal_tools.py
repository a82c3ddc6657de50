"""The change journal's two tools, registered once for every vendor: what was changed (and by whom), and putting
a change back through the same write pipeline as any edit (`pipeline.revert`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult
from pydantic import Field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.capabilities import hide_capabilities
from integrations_mcp.pipeline.changes import FieldChange, render_changes
from integrations_mcp.pipeline.journal import Journal
from integrations_mcp.pipeline.revert import CONFIRM_REVERT, RevertStages, restorable
from integrations_mcp.pipeline.write import WriteServices, run_write
from integrations_mcp.state.journal import COUNT_CAP, ChangeFilter, ChangeRow
from integrations_mcp.toolkit.annotations import EDITS, LOCAL_READ
from integrations_mcp.toolkit.arguments import APPROVAL_ID, CONFIRMATION_ID, StrictBool
from integrations_mcp.toolkit.calls import write_call
from integrations_mcp.toolkit.declare import DeferredModel, tool
from integrations_mcp.toolkit.identity import principal
from integrations_mcp.vendors.base import Reverter

__all__ = ["Change", "ChangePage", "JournalTools", "iso_time"]

PAGE_SIZE = Annotated[int, Field(ge=1, le=50)]
UNKNOWN_VENDOR = "unknown"  # a refused revert of a change id the journal does not hold
ChangeId = Annotated[int, Field(ge=1, description="From GetIntegrationChanges.")]
# A page is a screen: one line per change (about 70 characters); the details of one change are one call away.
DETAIL_ON_A_PAGE = 120
TARGET_CHARS = 24
WHAT_CHARS = 28
VERBS = {"CreateUserThirdPartyIntegration": "create ", "EditUserThirdPartyIntegration": "",
         "CreateCxEngageIntegration": "create ", "EditCxEngageIntegration": "", "RevertIntegrationChange": "revert "}
SHORT_OUTCOMES = {"written and verified": "verified", "written, not verified": "NOT verified"}
SHORT_APPROVALS = {"in the client": "client", "on the approval page": "page",
                   "by the model's confirmation token": "model"}


class Change(DeferredModel):
    id: int
    at: str  # ISO 8601, UTC
    principal: str  # who: a token's name, an OAuth subject, os:<user> under stdio, else session:<hash>
    tool: str
    vendor: str
    integration: str | None = None
    target: str
    outcome: str  # written and verified | written, not verified | may have happened | refused | failed
    what: str  # the fields it changed, in short
    approved: str | None = None  # who approved it and how, when it needed approval
    secrets: list[str] = []  # secret fields set or replaced (never their values)
    detail: str = ""
    reverts: int | None = None
    # Only for one change_id: the diff, the vendor's call ids and the images.
    changes: list[FieldChange] | None = None
    call_ids: list[str] | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: ChangeRow, *, full: bool) -> Change:
        detail = hide_capabilities(row.detail)  # rows recorded before the journal hid them too
        changes = [FieldChange(**c) for c in row.changes]
        return cls(id=row.id or 0, at=iso_time(row.at), principal=row.principal, tool=row.tool, vendor=row.vendor,
                   integration=row.integration, target=hide_capabilities(row.target), outcome=row.outcome,
                   what=_what(changes, row.secrets), secrets=row.secrets, reverts=row.reverts,
                   approved=f"{row.approved_by} {row.approved_how}" if row.approved_how else None,
                   detail=detail if full else detail[:DETAIL_ON_A_PAGE],
                   changes=changes if full else None, call_ids=row.call_ids if full else None,
                   before=row.before if full else None, after=row.after if full else None)

    def line(self) -> str:
        """One row of a page, as a person reads it: #id, time (the page gives the date), who, what, outcome."""
        verb = VERBS.get(self.tool, self.tool)
        target = self.target if len(self.target) <= TARGET_CHARS else self.target[:TARGET_CHARS - 1] + "…"
        what = f" ({self.what})" if self.what else ""
        outcome = SHORT_OUTCOMES.get(self.outcome, self.outcome)
        approved = "" if not self.approved else " ✓" + next(
            (short for how, short in SHORT_APPROVALS.items() if self.approved.endswith(how)), "")
        return f"#{self.id} {self.at[10:16]}Z {self.principal} {verb}{target}{what}: {outcome}{approved}"

    def full_text(self) -> str:
        lines = [f"Change #{self.id} at {self.at} by {self.principal}: {self.tool} in {self.vendor}, {self.target}"
                 f"{f' (id {self.integration})' if self.integration else ''}.", f"Outcome: {self.outcome}."]
        if self.approved:
            lines.append(f"Approved by {self.approved}.")
        if self.reverts:
            lines.append(f"It reverted change #{self.reverts}.")
        if self.changes:
            lines += ["Changed (saved → proposed):", render_changes(self.changes)]
        if self.secrets:
            lines.append(f"Secrets set or replaced: {', '.join(self.secrets)} (values never kept).")
        if self.call_ids:
            lines.append(f"Vendor call ids: {', '.join(self.call_ids)}.")
        if self.detail:
            lines.append(f"Detail: {self.detail}")
        return "\n".join(lines)


class ChangePage(DeferredModel):
    count: int
    total: int  # counted up to COUNT_CAP: at COUNT_CAP, there may be more
    has_more: bool
    next_before: int | None = None  # pass as `before` for the next (older) page
    results: list[Change]

    def answer(self) -> str:
        if len(self.results) == 1 and self.results[0].changes is not None:
            return self.results[0].full_text()
        if not self.results:
            return "No changes match."
        total = f"{self.total}+" if self.total >= COUNT_CAP else str(self.total)
        lines = [f"{self.count} of {total} changes, newest first, times UTC; ✓ approved in the client, on the page "
                 "or by the model's token; change_id=<n>: one in full."]
        day = ""
        for change in self.results:  # the date once per day, then each change's time: ISO 8601 read together
            if change.at[:10] != day:
                day = change.at[:10]
                lines.append(day)
            lines.append(change.line())
        if self.has_more:
            lines.append(f"Older: before={self.next_before}.")
        return "\n".join(lines)


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _what(changes: list[FieldChange], secrets: list[str]) -> str:
    """The fields a change touched, by their last name part, at most WHAT_CHARS (the full diff is one call away)."""
    names = list(dict.fromkeys(c.field.rsplit(".", 1)[-1] for c in changes))
    names += [s for s in secrets if s not in names]
    text = ", ".join(names)
    return text if len(text) <= WHAT_CHARS else text[:WHAT_CHARS - 1] + "…"


class RevertResult(DeferredModel):
    change_id: int
    result: dict[str, Any]  # the vendor's edit result (dry run: the plan)
    not_restored: list[str] = Field([], description="Secrets: never kept, they need a new secure form.")


class JournalTools:
    def __init__(self, journal: Journal, writes: WriteServices, reverters: dict[str, Reverter]) -> None:
        self.journal, self.writes, self.reverters = journal, writes, reverters

    @tool(LOCAL_READ, title="List changes made through this server")
    async def GetIntegrationChanges(
        self,
        change_id: Annotated[int | None, Field(ge=1, description="One in full, with the diff")] = None,
        vendor: Annotated[str | None, Field(max_length=50, description="revcent or cxengage")] = None,
        integration_id: Annotated[str | None, Field(max_length=200)] = None,
        principal: Annotated[str | None, Field(max_length=200)] = None,
        days: Annotated[int | None, Field(ge=1, le=3660, description="Last N days")] = None,
        since: Annotated[int | None, Field(ge=0, description="Unix seconds")] = None,
        limit: PAGE_SIZE = 20,
        before: Annotated[int | None, Field(ge=1, description="next_before of a page")] = None,
    ) -> ChangePage:
        """Writes tried through this server, newest first: when, who, what, outcome, approval."""
        if change_id is not None:
            row = await self._change(change_id)
            return ChangePage(count=1, total=1, has_more=False, results=[Change.of(row, full=True)])
        if days is not None:
            since = max(since or 0, int(time.time()) - days * 86400)
        where = ChangeFilter(vendor=vendor.strip().lower() if vendor else None, integration=integration_id,
                             principal=principal, since=since)
        rows, total, more = await self.journal.table.find(where, limit=limit, before=before)
        return ChangePage(count=len(rows), total=total, has_more=more,
                          next_before=rows[-1].id if more and rows else None,
                          results=[Change.of(row, full=False) for row in rows])

    @tool(EDITS, title="Revert a change")
    async def RevertIntegrationChange(
        self,
        change_id: ChangeId,
        ctx: Context,
        confirm_revert: Annotated[StrictBool, Field(description="User agreed to this revert.")] = False,
        confirmation_id: CONFIRMATION_ID = None,
        approval_id: APPROVAL_ID = None,
        dry_run: StrictBool = False,
    ) -> RevertResult | InputRequiredResult:
        """Restore what a change replaced, as an edit (confirmed when that edit would need it); not if changed since,
        never secrets."""
        change = await self.journal.table.get(change_id)
        try:
            reverter, restore, secrets = self._revertible(change_id, change)
        except GuardrailError as refusal:
            if not dry_run:  # as in the pipeline: a dry run is not a write
                await self._refused(ctx, change_id, change, refusal)
            raise
        call = write_call(ctx, "RevertIntegrationChange", reverter.vendor, dry_run=dry_run,
                          flags={CONFIRM_REVERT: confirm_revert}, token=confirmation_id or approval_id,
                          reverts=change_id)
        stages = RevertStages(reverter.edit(change, restore, call.owner), change, restore)
        result = await run_write(stages, call, self.writes)
        if isinstance(result, InputRequiredResult):
            return result
        return RevertResult(change_id=change_id, result=result.model_dump(mode="json"), not_restored=secrets)

    async def _change(self, change_id: int) -> ChangeRow:
        return _known(change_id, await self.journal.table.get(change_id))

    def _revertible(self, change_id: int, change: ChangeRow | None) -> tuple[Reverter, dict[str, Any], list[str]]:
        """The refusals that come before the pipeline: an unknown change, a vendor not configured, nothing to
        restore (a create, a refused or failed write, secrets only)."""
        change = _known(change_id, change)
        reverter = self.reverters.get(change.vendor)
        if reverter is None:
            raise GuardrailError(f"Refused: change {change_id} was made in {change.vendor}, which this server is not "
                                 "configured for. Nothing was sent.")
        return (reverter, *restorable(change))

    async def _refused(self, ctx: Context, change_id: int, change: ChangeRow | None, refusal: GuardrailError) -> None:
        """Journaled like the pipeline's own refusals: who tried to revert which change, and why it was refused."""
        entry = self.journal.entry(principal=principal(ctx), tool="RevertIntegrationChange",
                                   vendor=change.vendor if change else UNKNOWN_VENDOR,
                                   target=change.target if change else f"change {change_id}", reverts=change_id,
                                   integration=change.integration if change else None)
        await entry.stopped(refusal)


def _known(change_id: int, row: ChangeRow | None) -> ChangeRow:
    if row is None:
        raise GuardrailError(f"Refused: no change {change_id} in the journal (it may be older than the "
                             "retention, INTEGRATIONS_JOURNAL_DAYS). List changes with GetIntegrationChanges.")
    return row
