"""`integrations-mcp check --vendor NAME`: run the vendor's read-only live check against its configured API and print
which facts held, failed or could not be checked. Writes nothing; the printed text is scrubbed of the vendor's keys
and secrets as a last guard (the findings themselves carry none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

import httpx2

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.guardrails.secrets import scrub
from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.vendors.base import Finding

__all__ = ["run_check"]

LABELS = {"held": "held", "failed": "FAILED", "not checked": "not checked"}


def _secrets(vendor_settings: Any) -> list[str]:
    return [value.get_secret_value() for value in vars(vendor_settings).values()
            if hasattr(value, "get_secret_value")]


async def run_check(settings: Settings, vendor: str, out: TextIO, *, transport: httpx2.AsyncBaseTransport | None = None,
                    options: Mapping[str, Any] | None = None) -> int:
    """0 if no fact failed, 1 otherwise."""
    spec = next((v for v in VENDORS if v.name == vendor), None)
    vendor_settings = settings.vendors.get(vendor)
    if spec is None or spec.live_check is None:
        raise ConfigurationError(f"no live check for vendor {vendor!r}")
    if vendor_settings is None:
        raise ConfigurationError(f"{vendor} is not configured: set its API key variables (see the README).")
    findings: list[Finding] = await spec.live_check(vendor_settings, transport, timeout=settings.timeout_seconds,
                                                    **(options or {}))
    lines = [f"{vendor} facts against {vendor_settings.base_url} (read-only; see docs/vendor-facts.md):"]
    width = max(len(label) for label in LABELS.values())
    lines += [f"  {LABELS.get(f.outcome, f.outcome):<{width}}  {f.fact}: {f.detail}" for f in findings]
    counts = {outcome: sum(f.outcome == outcome for f in findings) for outcome in LABELS}
    lines.append(f"{counts['held']} held, {counts['failed']} failed, {counts['not checked']} not checked.")
    out.write(scrub("\n".join(lines), _secrets(vendor_settings)) + "\n")
    return 1 if counts["failed"] else 0
