"""Small signed cookies for the sign-in methods: a JSON payload, its expiry and an HMAC-SHA256 over both, with a key
per use (derived from INTEGRATIONS_STATE_KEY, so replicas read each other's). Not encrypted: they hold nothing
secret from the person whose browser holds them (a subject, a name, roles; a sign-in's state, nonce and PKCE
verifier, which only matter until the issuer's answer comes back)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_COOKIE_CHARS", "CookieSigner"]

MAX_COOKIE_CHARS = 3800  # under browsers' 4096 bytes per cookie, with its name and attributes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    def __init__(self, key: bytes, use: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = hmac.new(key, f"cookie:{use}".encode(), hashlib.sha256).digest()
        self._clock = clock

    def __repr__(self) -> str:
        return "CookieSigner(...)"

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def seal(self, payload: dict[str, Any], lifetime_seconds: float) -> str:
        body = _b64(json.dumps({**payload, "exp": int(self._clock() + lifetime_seconds)},
                               separators=(",", ":")).encode())
        value = f"{body}.{self._mac(body)}"
        if len(value) > MAX_COOKIE_CHARS:
            raise ValueError("cookie payload too large")
        return value

    def open(self, value: str | None) -> dict[str, Any] | None:
        """The payload of a cookie this signer sealed and that has not expired; None for anything else."""
        if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(self._mac(body).encode(), mac.encode()):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int) or payload["exp"] <= self._clock():
            return None
        return payload
