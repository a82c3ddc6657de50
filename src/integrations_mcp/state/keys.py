"""Keys derived from INTEGRATIONS_STATE_KEY, one per use, so that replicas sharing the key agree on them."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["MIN_KEY_CHARS", "derive"]

MIN_KEY_CHARS = 32


def derive(key: str, use: str) -> bytes:
    """32 bytes for `use` (e.g. "approvals", "sessions", "secrets"), from the operator's key."""
    return hmac.new(key.encode(), f"integrations-mcp/{use}".encode(), hashlib.sha256).digest()
