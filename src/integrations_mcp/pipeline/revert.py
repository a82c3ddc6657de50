"""Reverting a journaled change: the vendor's own edit stages, restoring the change's before-image, with two
additions. check: the fields the change wrote must still hold what it wrote (otherwise someone changed the record
since, and the revert would overwrite that: refused, showing the difference). confirm: a revert needs the person
exactly when the same edit would (one request, `confirm_revert`, with the diff and the edit's own reasons)."""

from __future__ import annotations

from typing import Any

from integrations_mcp.errors import GuardrailError, quoted
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.pipeline.journal import Outcome
from integrations_mcp.state.journal import ChangeRow

__all__ = ["CONFIRM_REVERT", "RevertStages", "restorable"]

CONFIRM_REVERT = "confirm_revert"


def restorable(change: ChangeRow) -> tuple[dict[str, Any], list[str]]:
    """The before-values to restore (field -> value) and the secret fields that cannot be (a new secure form);
    refused when nothing can be restored."""
    if change.outcome in (Outcome.REFUSED, Outcome.FAILED):
        raise GuardrailError(f"Refused: change {change.id} was {change.outcome}, so it wrote nothing to revert.")
    if change.before is None or change.integration is None:
        raise GuardrailError(f"Refused: change {change.id} created {change.target}; there is no earlier state to "
                             "restore (no tool deletes an integration). Disable or deactivate it with the vendor's "
                             "edit tool if the user wants it off.")
    # A value holding the mask anywhere (a nested secret, a URL password) is a secret too: restoring it would write
    # the mask over the real secret.
    # Only what the change wrote counts: a masked value the change did not touch (say a long Salesforce consumerKey
    # in the before-image) is not something the revert failed to restore.
    changed = {c["field"] for c in change.changes}
    secrets = set(change.secrets) | ({name for name, value in change.before.items() if _holds_mask(value)} & changed)
    restore = {c["field"]: change.before.get(c["field"]) for c in change.changes if c["field"] not in secrets}
    if not restore:
        raise GuardrailError(f"Refused: change {change.id} only set secrets ({', '.join(sorted(secrets))}), which "
                             "are never kept and cannot be restored. Create a new secure form with the vendor's "
                             "form tool and have the user enter the old values, if they have them.")
    return restore, sorted(secrets)


class RevertStages:
    """Wraps a vendor's edit stages (`pipeline.write.WriteStages`) built to restore `restore`: its own check and
    confirmations; every other stage, and the plan's description, are the edit's (the approval's fingerprint is
    marked as a revert's by `run_write`, from `WriteCall.reverts`)."""

    def __init__(self, inner: Any, change: ChangeRow, restore: dict[str, Any]) -> None:
        self.inner, self.change, self.restore = inner, change, restore

    def __getattr__(self, name: str) -> Any:  # lock_keys, plan, send, reconcile, verify, journal_result
        return getattr(self.inner, name)

    async def check(self, plan: Any) -> None:
        now = plan.journal.before or {}
        wrote = self.change.after or {c["field"]: c["proposed"] for c in self.change.changes}
        drift = [f"- {name}: after change {self.change.id}: {_show(wrote.get(name))}; now: {_show(now.get(name))}"
                 for name in self.restore if now.get(name) != wrote.get(name)]
        if drift:
            raise GuardrailError(f"Refused: {plan.target} changed since change {self.change.id}, and "
                                 "reverting would overwrite that. Nothing was sent. Differences:\n" + "\n".join(drift)
                                 + "\nMake the change the user wants with the vendor's edit tool instead.")
        await self.inner.check(plan)

    def confirmations(self, plan: Any) -> list[ConfirmationRequest]:
        """Exactly when the same edit would ask (replacing a saved value, disabling, renaming a live one), as one
        request under `confirm_revert`; a revert that only fills empty values asks nobody, as that edit would not."""
        needed = self.inner.confirmations(plan)
        if not needed:
            return []
        changes: list[FieldChange] = plan.journal.changes
        return [ConfirmationRequest(
            flag=CONFIRM_REVERT, changes=changes,
            reason=f"reverting change {self.change.id} ({self.change.tool} by {quoted(self.change.principal)}) "
                   "restores the values saved before it.",
            consequence=" ".join(["The values saved before that change are put back.",
                                  *(r.consequence for r in needed if r.consequence)]),
            title="Undo an earlier change to {target}?")]


def _holds_mask(value: Any) -> bool:
    if isinstance(value, str):
        return REDACTED in value
    if isinstance(value, dict):
        return any(_holds_mask(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_mask(item) for item in value)
    return False


def _show(value: Any) -> str:
    return "(not set)" if value in (None, "", [], {}) else repr(value)
