"""What this process has learned about the CxEngage account, where the documents allow two behaviours: whether reads
leave secrets out, and whether PUT replaces `properties` wholesale. Reads and writes' read-backs teach it; the server
then adapts for the rest of the process, and the answer that taught it says so (never a silent change)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations_mcp.vendors.cxengage.facts import MASK_CHARACTERS, PROPERTIES_EDIT, SECRETS_ON_READ

__all__ = ["KNOWN_SET", "Learned", "looks_masked"]

KNOWN_SET = "(set through this server)"  # stands in for a secret CxEngage does not return, known to be set


def looks_masked(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 3 and set(value) <= MASK_CHARACTERS


@dataclass
class Learned:
    secrets_on_read: str = SECRETS_ON_READ  # "echo" | "mask" | "omit" (fact cxengage.secrets_echoed)
    properties_edit: str = PROPERTIES_EDIT  # "merge" | "replace" (fact cxengage.properties_merge)
    # (tenant, integration) -> secret properties this process wrote and CxEngage accepted: when reads leave secrets
    # out, this is how the server knows they are set.
    written_secrets: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def note_secrets_read(self, secret_values: Mapping[str, Any], *, omitted: bool, proven: bool = True
                          ) -> str | None:
        """What one read showed of secrets: masked values, or secrets left out. `proven`: the secrets left out were
        just written (a write's read-back); otherwise a read's sign only moves the starting reading ("echo")."""
        if omitted and (self.secrets_on_read == "echo" or (proven and self.secrets_on_read != "omit")):
            self.secrets_on_read = "omit"
            return ("CxEngage left the secrets out of its answer (fact cxengage.secrets_echoed): from now on this "
                    "server counts a secret as set only if it set it itself, and says so.")
        if self.secrets_on_read == "echo" and any(looks_masked(v) for v in secret_values.values()):
            self.secrets_on_read = "mask"
            return ("CxEngage masks secrets in its answers (fact cxengage.secrets_echoed): secrets are compared by "
                    "presence, and never sent back.")
        return None

    def note_replace(self) -> str | None:
        if self.properties_edit == "replace":
            return None
        self.properties_edit = "replace"
        return ("CxEngage replaced the saved properties with the ones sent (fact cxengage.properties_merge): from now "
                "on every edit of properties sends the whole set (never a masked secret), and asks for the secrets "
                "it cannot send.")

    def secrets_written(self, tenant_id: str, integration_id: str, names: set[str]) -> None:
        self.written_secrets.setdefault((tenant_id, integration_id), set()).update(names)

    def secrets_cleared(self, tenant_id: str, integration_id: str, names: set[str]) -> None:
        self.written_secrets.get((tenant_id, integration_id), set()).difference_update(names)

    def known(self, tenant_id: str | None, integration_id: str, properties: Mapping[str, Any],
              secret_names: list[str]) -> dict[str, Any]:
        """`properties` with each secret CxEngage left out but this process set filled with KNOWN_SET."""
        if self.secrets_on_read != "omit":
            return dict(properties)
        written = self.written_secrets.get((tenant_id or "", integration_id), set())
        return {**{n: KNOWN_SET for n in secret_names if n in written and n not in properties}, **properties}
