"""The handle the model holds for one of RevCent's own secure forms (REVCENT_CREDENTIALS_VIA=revcent-form).

RevCent's form id is its page's address: whoever has it can open the page and type into it. So the model never gets
it: `secure_form_id` is RevCent's id sealed with AES-GCM (this server's key; replicas derive it from
INTEGRATIONS_STATE_KEY) and the session that made the form as associated data. Only that session, on this
deployment, can turn it back into RevCent's id; nothing else (another principal, a reader of the journal or the
state database) learns from it where the page is, and nothing needs to be stored."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrations_mcp.errors import GuardrailError

__all__ = ["FormHandles"]

PREFIX = "rf-"  # tells a handle from anything else the model might pass


class FormHandles:
    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key or os.urandom(32))

    def __repr__(self) -> str:
        return "FormHandles()"

    def seal(self, form_id: str, owner: str) -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, form_id.encode(), owner.encode())
        return PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, handle: str, owner: str) -> str:
        """RevCent's form id, for the session that made the handle; refused for anything else."""
        body = handle.removeprefix(PREFIX)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if not handle.startswith(PREFIX) or len(raw) <= 28:
                raise ValueError(handle)
            return self._aead.decrypt(raw[:12], raw[12:], owner.encode()).decode()
        except (ValueError, binascii.Error, InvalidTag, UnicodeDecodeError):
            raise GuardrailError("Refused: there is no secure form with this secure_form_id for this session (a form "
                                 "works only for the session that created it, and not after the server restarted "
                                 "without INTEGRATIONS_STATE_KEY). Create one with CreateSecureForm. Nothing was "
                                 "sent.") from None
