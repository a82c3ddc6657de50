"""WebAuthn challenges that need no storage to issue: each one carries its expiry and an HMAC over the `purpose` it
was made for (an approval, an enrolment), so the server that checks it learns from the challenge alone whether it
is its own, still fresh, and for this decision. Single use is the spender's part (`PasskeyStore.spend_challenge`:
a row per spent challenge, shared by replicas), so issuing one on each page view writes nothing.

The key: derived from INTEGRATIONS_STATE_KEY when set (replicas accept each other's), else this process's own
(stdio: the process that shows the page is the one that checks the answer)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable

__all__ = ["CHALLENGE_SECONDS", "Challenges"]

CHALLENGE_SECONDS = 300  # the person reads the change and presses the button within this
_VERSION = b"\x01"
_NONCE = 16
_MAC = 32
_LENGTH = 1 + 8 + _NONCE + _MAC


class Challenges:
    def __init__(self, key: bytes | None = None, *, seconds: float = CHALLENGE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self.seconds, self._clock = seconds, clock

    def __repr__(self) -> str:
        return f"Challenges(seconds={self.seconds})"

    def _mac(self, purpose: str, head: bytes) -> bytes:
        return hmac.new(self._key, b"passkey-challenge\x00" + purpose.encode() + b"\x00" + head,
                        hashlib.sha256).digest()

    def issue(self, purpose: str) -> bytes:
        head = _VERSION + struct.pack(">Q", int(self._clock() + self.seconds)) + secrets.token_bytes(_NONCE)
        return head + self._mac(purpose, head)

    def expires_at(self, challenge: bytes) -> float:
        return float(struct.unpack(">Q", challenge[1:9])[0]) if len(challenge) == _LENGTH else 0.0

    def check(self, challenge: bytes, purpose: str) -> bool:
        """Made here, for `purpose`, and not expired (spent or not is the store's question)."""
        if len(challenge) != _LENGTH or challenge[:1] != _VERSION:
            return False
        head, mac = challenge[:-_MAC], challenge[-_MAC:]
        if not hmac.compare_digest(mac, self._mac(purpose, head)):
            return False
        return self._clock() < self.expires_at(challenge)
