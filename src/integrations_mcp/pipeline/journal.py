"""The change journal's hook in the write pipeline, the same for every vendor.

A write is recorded before it is sent (as "may have happened", so a crash mid-call leaves an honest row) and
settled after the read-back; a refused or failed write is recorded with what was known when it stopped. If the
journal cannot be written before sending, nothing is sent. The stages describe their plan and result
(`Planned`, `Written`) with images as the model may see them: secrets only as set/replaced, never values."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from integrations_mcp.errors import GuardrailError, IntegrationsError, VendorError, WriteOutcomeUnknown
from integrations_mcp.guardrails.capabilities import hide_capabilities
from integrations_mcp.guardrails.outputs import clean_output, clean_text
from integrations_mcp.guardrails.secret_values import find_secret_values
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.state.journal import ChangeRow, JournalTable
from integrations_mcp.state.store import StateError, state_failures

__all__ = ["Journal", "JournalEntry", "Outcome", "Planned", "Written", "journal_safe"]

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    VERIFIED = "written and verified"
    UNVERIFIED = "written, not verified"
    UNKNOWN = "may have happened"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class Planned:
    """What the journal keeps of a plan. Images are flat: field name (as in `FieldChange.field`) -> value."""

    integration: str | None  # the vendor's id; None for a create
    before: dict[str, Any] | None  # the record as saved; None for a create
    changes: list[FieldChange]
    secrets: list[str] = field(default_factory=list)  # secret fields set or replaced (names only)


@dataclass(frozen=True)
class Written:
    integration: str | None
    after: dict[str, Any] | None  # None when the read-back failed
    mismatches: list[str] = field(default_factory=list)


class Journal:
    def __init__(self, table: JournalTable) -> None:
        self.table = table

    def entry(self, *, principal: str, tool: str, vendor: str, target: str, reverts: int | None = None,
              integration: str | None = None) -> JournalEntry:
        # Until the write is planned its target is its lock keys, which may name a secure form: a capability.
        return JournalEntry(self, ChangeRow(principal=principal, tool=tool, vendor=vendor, target=_shown(target),
                                            outcome=Outcome.UNKNOWN, changes=[], reverts=reverts,
                                            integration=integration))


class JournalEntry:
    """One write's row, filled in as the stages run."""

    def __init__(self, journal: Journal, row: ChangeRow) -> None:
        self.journal, self.row, self.id = journal, row, None

    def planned(self, target: str, planned: Planned) -> None:
        changes = [c.model_dump(mode="json") for c in planned.changes]
        for change in changes:  # a refused change may carry the very secret it was refused for
            masked = journal_safe({change["field"]: change["saved"]}, {change["field"]: change["proposed"]})
            change["saved"], change["proposed"] = (masked[0] or {}).get(change["field"]), \
                (masked[1] or {}).get(change["field"])
        self.row = _with(self.row, target=_shown(target), integration=planned.integration,
                         before=journal_safe(planned.before)[0], changes=changes, secrets=planned.secrets)

    def approved(self, by: str, how: str) -> None:
        """Who approved the change and how (the person in the client, on the approval page, or the model's token
        under policy `model`): `by` is the person who signed in on the approval page to approve it, else the principal
        whose call asked (on the page: the person it gave the link)."""
        self.row = _with(self.row, approved_by=by, approved_how=str(how))

    async def sending(self) -> None:
        """Recorded before the vendor call; refuses the write if the journal cannot be written."""
        try:
            self.id = await self.journal.table.add(self.row)
        except state_failures() as exc:
            log.error("change journal unavailable, write refused: %s", type(exc).__name__)
            why = str(exc) if isinstance(exc, StateError) else "state database unavailable"  # StateError: no secret
            raise GuardrailError(f"Refused: the change journal cannot be written ({why}), and no write goes "
                                 "unrecorded. Nothing was sent. Try again later or ask the operator to check "
                                 "INTEGRATIONS_STATE_URL.") from None

    async def written(self, written: Written) -> None:
        outcome = Outcome.VERIFIED if written.after is not None and not written.mismatches else Outcome.UNVERIFIED
        await self._settle(outcome, integration=written.integration or self.row.integration,
                           after=journal_safe(written.after)[0], detail=clean_text("\n".join(written.mismatches)))

    async def stopped(self, exc: IntegrationsError) -> None:
        # The vendor's call id is random by design, but it is the vendor's text: cleaned like any output.
        call_ids = [clean_text(exc.api_call_id)] if isinstance(exc, VendorError) and exc.api_call_id else []
        if isinstance(exc, WriteOutcomeUnknown):
            outcome = Outcome.UNKNOWN
        elif isinstance(exc, GuardrailError) and self.id is None:
            outcome = Outcome.REFUSED
        else:
            outcome = Outcome.FAILED
        # A refusal hands the asking session its confirmation or approval id: the journal, which every reader lists,
        # keeps the refusal without it.
        await self._settle(outcome, detail=clean_text(hide_capabilities(str(exc))), call_ids=call_ids)

    async def _settle(self, outcome: Outcome, **values: Any) -> None:
        self.row = _with(self.row, outcome=outcome, **values)
        try:
            if self.id is None:
                self.id = await self.journal.table.add(self.row)
                return
            await self.journal.table.settle(self.id, outcome=str(outcome), **values)
        except state_failures() as exc:  # the write's own answer matters more than its record
            log.error("change journal: could not record the outcome of change %s: %s", self.id, type(exc).__name__)


def journal_safe(*images: dict[str, Any] | None) -> list[dict[str, Any] | None]:
    """Images as the journal (a file, kept for months) may hold them: a value that is or holds a secret by its
    form (known formats, and long random tokens unless its field names an id) becomes REDACTED, so it is never
    stored and a revert cannot put the mask back as a value; known secrets and invisible characters are cleaned."""
    safe: list[dict[str, Any] | None] = []
    for image in images:
        if image is None:
            safe.append(None)
            continue
        # clean_output gives back the value itself when nothing in it changes: the row gets a copy of its own, as the
        # image it came from lives on in the pipeline until the row is written (after the person's approval).
        safe.append({name: REDACTED if any(find_secret_values({name.rsplit(".", 1)[-1]: value})) else
                     copy.deepcopy(clean_output(value)) for name, value in image.items()})
    return safe


def _shown(target: str) -> str:
    return clean_text(hide_capabilities(target))


def _with(row: ChangeRow, **values: Any) -> ChangeRow:
    return ChangeRow(**{**row.__dict__, **values})
