"""The kinds of change a person approves, as an approver policy tells them apart (`pages.signin.policy`): from the
confirmation flags the vendors' rules ask for and the fields the write changes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from integrations_mcp.pipeline.changes import FieldChange

__all__ = ["ChangeKind", "kinds_of", "parse_kinds"]


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


def kinds_of(flags: Iterable[str], changes: Iterable[FieldChange], secrets: Iterable[str]) -> frozenset[ChangeKind]:
    """Every kind one write is: its requests' flags, plus `credentials` when it replaces a saved secret."""
    found = {FLAG_KINDS[f] for f in flags if f in FLAG_KINDS}
    hidden = set(secrets)
    for change in changes:
        secret = change.field in hidden or change.field.split(".")[-1] in hidden or change.field in CREDENTIAL_FIELDS
        if secret and change.overwrites:
            found.add(ChangeKind.CREDENTIALS)
    return frozenset(found)


def parse_kinds(stored: str | None) -> frozenset[ChangeKind]:
    """The kinds as the approvals table keeps them (comma separated); unknown words are dropped."""
    words = (w.strip() for w in (stored or "").split(","))
    return frozenset(ChangeKind(w) for w in words if w in _VALUES)


_VALUES = frozenset(kind.value for kind in ChangeKind)
