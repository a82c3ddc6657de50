"""The change journal's two tools, registered once for every vendor: what was changed (and by whom), and putting
a change back through the same write pipeline as any edit (`pipeline.revert`)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult
from pydantic import BaseModel, Field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.capabilities import hide_capabilities
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.journal import Journal
from integrations_mcp.pipeline.revert import CONFIRM_REVERT, RevertStages, restorable
from integrations_mcp.pipeline.write import WriteServices, run_write
from integrations_mcp.state.journal import ChangeFilter, ChangeRow
from integrations_mcp.toolkit.annotations import EDITS, LOCAL_READ
from integrations_mcp.toolkit.arguments import APPROVAL_ID, CONFIRMATION_ID, Page, StrictBool
from integrations_mcp.toolkit.calls import write_call
from integrations_mcp.toolkit.declare import tool
from integrations_mcp.toolkit.identity import principal
from integrations_mcp.vendors.base import Reverter

__all__ = ["JournalTools"]

PAGE_SIZE = Annotated[int, Field(ge=1, le=50)]
UNKNOWN_VENDOR = "unknown"  # a refused revert of a change id the journal does not hold
ChangeId = Annotated[int, Field(ge=1, description="From GetIntegrationChanges.")]


class Change(BaseModel):
    id: int
    at: int  # unix seconds
    principal: str
    tool: str
    vendor: str
    integration: str | None = None
    target: str
    outcome: str  # written and verified | written, not verified | may have happened | refused | failed
    changes: list[FieldChange]
    secrets: list[str] = []  # secret fields set or replaced (never their values)
    call_ids: list[str] = []
    detail: str = ""
    reverts: int | None = None
    before: dict[str, Any] | None = None  # the images, only when one change_id is asked for
    after: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: ChangeRow, *, full: bool) -> Change:
        detail = hide_capabilities(row.detail)  # rows recorded before the journal hid them too
        return cls(id=row.id or 0, at=int(row.at), principal=row.principal, tool=row.tool, vendor=row.vendor,
                   integration=row.integration, target=hide_capabilities(row.target), outcome=row.outcome,
                   changes=[FieldChange(**c) for c in row.changes], secrets=row.secrets, call_ids=row.call_ids,
                   detail=detail if full else detail[:300], reverts=row.reverts,
                   before=row.before if full else None, after=row.after if full else None)


class ChangePage(BaseModel):
    page: int
    count: int
    total: int
    has_more: bool
    results: list[Change]


class RevertResult(BaseModel):
    change_id: int
    result: dict[str, Any]  # the vendor's edit result (dry run: the plan)
    not_restored: list[str] = Field([], description="Secrets: never kept, they need a new secure form.")


class JournalTools:
    def __init__(self, journal: Journal, writes: WriteServices, reverters: dict[str, Reverter]) -> None:
        self.journal, self.writes, self.reverters = journal, writes, reverters

    @tool(LOCAL_READ, title="List changes made through this server")
    async def GetIntegrationChanges(
        self,
        change_id: Annotated[int | None, Field(ge=1, description="One, in full")] = None,
        vendor: Annotated[str | None, Field(max_length=50, description="revcent or cxengage")] = None,
        integration_id: Annotated[str | None, Field(max_length=200)] = None,
        principal: Annotated[str | None, Field(max_length=200)] = None,
        since: Annotated[int | None, Field(ge=0, description="Unix seconds")] = None,
        until: Annotated[int | None, Field(ge=0)] = None,
        limit: PAGE_SIZE = 10,
        page: Page = 1,
    ) -> ChangePage:
        """Writes tried through this server, newest first: who, saved → proposed, outcome."""
        if change_id is not None:
            row = await self._change(change_id)
            return ChangePage(page=1, count=1, total=1, has_more=False, results=[Change.of(row, full=True)])
        where = ChangeFilter(vendor=vendor.strip().lower() if vendor else None, integration=integration_id,
                             principal=principal, since=since, until=until)
        rows, total = await self.journal.table.find(where, limit=limit, offset=(page - 1) * limit)
        return ChangePage(page=page, count=len(rows), total=total, has_more=page * limit < total,
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
        """Restore what a change replaced, as an edit the user confirms; not if changed since, never secrets."""
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
