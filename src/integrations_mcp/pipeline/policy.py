"""Who confirms a change (`INTEGRATIONS_CONFIRMATION`), and so which confirmation arguments a write tool's schema
shows: a module of its own, so that settings and the tool list need none of the confirm stage (cold start)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ConfirmationPolicy", "hidden_arguments"]


class ConfirmationPolicy(StrEnum):
    PERSON = "person"
    MODEL = "model"


def hidden_arguments(policy: ConfirmationPolicy, name: str) -> bool:
    """Under `person` the model cannot confirm: no confirm_* flags and no token in the schema, only the id of an
    approval the person gave on the page. Under `model`: the flags and the token, no approval id."""
    if policy == ConfirmationPolicy.PERSON:
        return name.startswith("confirm_") or name == "confirmation_id"
    return name == "approval_id"
