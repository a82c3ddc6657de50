"""The kinds of change a person approves, as an approver policy tells them apart (`pages.signin.policy`): from the
confirmation flags the vendors' rules ask for and the fields the write changes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from integrations_mcp.pipeline.changes import FieldChange

__all__ = ["DEFAULT_APPROVER_ROLE", "ChangeKind", "kinds_of", "parse_kinds"]

# The role (group, scope) that lets a signed-in person approve others' changes (INTEGRATIONS_APPROVER_ROLE's default):
# here, not in `pages.signin.policy`, so that reading the settings imports no sign-in (cold start).
DEFAULT_APPROVER_ROLE = "integrations:approve"


class ChangeKind(StrEnum):
    DISABLE = "disable"  # turning an integration off (RevCent's disable, CxEngage's deactivate)
    ENABLE = "enable"  # putting an integration in live use
    CREDENTIALS = "credentials"  # replacing saved credentials or secret values
    OVERWRITE = "overwrite"  # replacing saved values (options, properties, a live integration's name or settings)
    REVERT = "revert"  # undoing an earlier change
    FORM = "form"  # typing secrets into a secure form


FLAG_KINDS = {"confirm_disable": ChangeKind.DISABLE, "confirm_deactivate": ChangeKind.DISABLE,
              "confirm_enable": ChangeKind.ENABLE, "confirm_overwrite": ChangeKind.OVERWRITE,
              "confirm_revert": ChangeKind.REVERT}
CREDENTIAL_FIELDS = ("credentials",)  # RevCent's whole credential object
SWITCHES = ("active", "enabled")  # CxEngage's and RevCent's on/off field


def kinds_of(flags: Iterable[str], asked: Iterable[FieldChange], written: Iterable[FieldChange],
             secrets: Iterable[str]) -> frozenset[ChangeKind]:
    """Every kind one write is: its requests' flags; what the changes they ask about do (a revert asks under one
    flag for a change that may turn an integration off or replace saved values); and `credentials` when the whole
    write (`written`) replaces a saved secret."""
    found = {FLAG_KINDS[f] for f in flags if f in FLAG_KINDS}
    hidden = set(secrets)

    def secret(change: FieldChange) -> bool:
        return change.field in hidden or change.field.split(".")[-1] in hidden or change.field in CREDENTIAL_FIELDS

    for change in asked:
        if change.field in SWITCHES:
            if change.saved is True and change.proposed is False:
                found.add(ChangeKind.DISABLE)
            elif change.proposed is True and change.saved is not True:
                found.add(ChangeKind.ENABLE)
        elif change.overwrites:
            found.add(ChangeKind.OVERWRITE)
    found |= {ChangeKind.CREDENTIALS for change in written if secret(change) and change.overwrites}
    return frozenset(found)


def parse_kinds(stored: str | None) -> frozenset[ChangeKind]:
    """The kinds as the approvals table keeps them (comma separated); unknown words are dropped."""
    words = (w.strip() for w in (stored or "").split(","))
    return frozenset(ChangeKind(w) for w in words if w in _VALUES)


_VALUES = frozenset(kind.value for kind in ChangeKind)
