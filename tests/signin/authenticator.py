"""A software authenticator for tests that need no browser: it answers the options a page carries as a platform
authenticator would (ES256, attestation "none", user present and verified), and lets a test bend one thing at a
time (the origin the browser would write, user verification, the counter). The browser tests use Chromium's own
virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(data)


def unb64(text: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(text)


@dataclass
class SoftAuthenticator:
    origin: str  # what the browser would write in clientDataJSON
    verified: bool = True
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    counter: int = 0
    counting: bool = True  # False: a synced passkey, whose counter stays 0 (replays are not caught by it)
    user_handle: bytes = b""

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> bytes:
        return bytes([UP | (UV if self.verified else 0) | extra])

    def create(self, options: dict) -> str:
        """navigator.credentials.create's answer, as the page's script serialises it."""
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        self.user_handle = unb64(options["user"]["id"])
        auth = (rp_hash + self._flags(AT) + struct.pack(">I", self.counter) + bytes(16)
                + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth})
        return json.dumps({"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                           "response": {"clientDataJSON": b64(self._client_data("webauthn.create",
                                                                                 options["challenge"])),
                                        "attestationObject": b64(attestation), "transports": ["internal"]},
                           "authenticatorAttachment": "platform", "clientExtensionResults": {}})

    def get(self, options: dict, *, rp_id: str | None = None) -> str:
        """navigator.credentials.get's answer (the counter moves on each use)."""
        self.counter += 1 if self.counting else 0
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth = rp_hash + self._flags() + struct.pack(">I", self.counter)
        client = self._client_data("webauthn.get", options["challenge"])
        signature = self.key.sign(auth + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                           "response": {"clientDataJSON": b64(client), "authenticatorData": b64(auth),
                                        "signature": b64(signature), "userHandle": b64(self.user_handle)},
                           "authenticatorAttachment": "platform", "clientExtensionResults": {}})
