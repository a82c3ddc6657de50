"""Where passkeys can work: the WebAuthn relying party of pages served at an origin. Light (no WebAuthn library), so
the settings check it at start."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from integrations_mcp.pages.origin import origin_of

__all__ = ["RelyingParty", "relying_party"]


@dataclass(frozen=True)
class RelyingParty:
    origin: str  # what the browser writes in clientDataJSON
    rp_id: str  # the origin's host: the domain passkeys are made for


def relying_party(origin: str) -> RelyingParty | None:
    """None where browsers refuse WebAuthn: an IP address (an RP ID is a domain: links must say localhost, not
    127.0.0.1) or plain http to anything but localhost (not a secure context)."""
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    local = host == "localhost" or host.endswith(".localhost")
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        return None
    return RelyingParty(origin=origin_of(origin), rp_id=host)
