"""The project's error tree. Every tool failure is raised as one of these and becomes an `isError` result.

* ConfigurationError    - a missing or bad setting; raised at start-up, never mid-call (so not a ToolError)
* IntegrationsError     - every tool failure
  * GuardrailError      - the server's policy refused a call; nothing was sent upstream
  * VendorError         - the vendor answered with an error (vendor, operation, status, error_code, api_call_id)
    * VendorUnavailable - timeout, connection failure or an unreadable answer
    * WriteOutcomeUnknown - a write the vendor may or may not have applied (read it back before anything else)
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from integrations_mcp.configuration_error import ConfigurationError

MAX_VENDOR_TEXT = 1000  # characters of a vendor's error message passed on

__all__ = ["ConfigurationError", "GuardrailError", "IntegrationsError", "VendorError", "VendorUnavailable",
           "WriteOutcomeUnknown", "quoted"]

_UNESCAPED_BREAKS = re.compile("[\x7f-\x9f\u2028\u2029]")  # line breaks and controls json.dumps leaves as they are


def quoted(text: object, limit: int = 200) -> str:
    """Text that is not ours (a vendor's words, error code or call id, an identity provider's subject name) as one
    delimited, inert string: in double quotes, format characters (zero-width, bidi controls) removed, every line
    break and control character escaped (`\\n`, `\\u2028`), cut at `limit` characters. It can never start a line
    of the server's own (a `Next:` line)."""
    shown = "".join(ch for ch in str(text) if unicodedata.category(ch) != "Cf")
    shown = shown if len(shown) <= limit else shown[:limit] + "…"
    return _UNESCAPED_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(shown, ensure_ascii=False))


class IntegrationsError(ToolError):
    """Base class. Subclasses ToolError so the SDK forwards the message to the model as an isError result.
    `kind` is the first word(s) of that result (toolkit/refusals.py frames every failure the same way)."""

    kind = "Refused"

    @property
    def frame_lines(self) -> dict[str, str | None]:
        """The field, what is valid and the next call, when the raiser named them (rendered on lines of their own)."""
        return {}


class GuardrailError(IntegrationsError):
    """A call refused by policy. The message says what was wrong and what to do next."""

    def __init__(self, message: str, *, details: dict | None = None, field: str | None = None,
                 valid: str | None = None, next_call: str | None = None) -> None:
        super().__init__(message)
        self.details = details or {}
        self._lines = {"field": field, "valid": valid, "next_call": next_call}

    @property
    def frame_lines(self) -> dict[str, str | None]:
        return self._lines


class VendorError(IntegrationsError):
    kind = "Vendor error"

    def __init__(
        self,
        vendor: str,
        operation: str,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        api_call_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.vendor, self.operation, self.status, self.hint = vendor, operation, status, hint
        self.error_code, self.api_call_id = error_code, api_call_id
        parts = [f"{vendor} {operation} failed"]
        # The code and call id are the vendor's text too: quoted, so they cannot start a line of ours ("Next:").
        facts = [f"{k}={quoted(v, 100) if isinstance(v, str) else v}" for k, v in (
            ("error_code", error_code), ("http_status", status), ("api_call_id", api_call_id)) if v is not None]
        if facts:
            parts.append(f" ({', '.join(facts)})")
        if isinstance(self, VendorUnavailable | WriteOutcomeUnknown):  # our own words (a timeout, an unreadable answer)
            parts.append(f": {message}")
        else:
            # The vendor's words are data, not instructions: quoted as such, without invisible or text-direction
            # characters, and cut to a size that cannot flood the conversation.
            parts.append(f": {vendor} said {quoted(message, MAX_VENDOR_TEXT)}")
        if hint:
            parts.append(f" {hint}")
        super().__init__("".join(parts))

    @property
    def frame_lines(self) -> dict[str, str | None]:
        """A next call for a vendor refusal whose message gives none."""
        if self.hint or not self.nothing_written or self.status is None:
            return {}
        if self.status in (401, 403):
            step = "this server's credentials or permissions at the vendor are wrong: tell the operator " \
                   "(calling again will not help)"
        elif self.status == 404:
            step = "nothing was written; check the id with the list tool (never invent one)"
        else:
            step = "nothing was written; fix what the vendor named (ask the user if it is their choice), then " \
                   "call again"
        return {"next_call": step}

    @property
    def nothing_written(self) -> bool:
        """The vendor answered and refused, so a write did not happen. After a timeout, a 5xx or an unreadable
        answer (VendorUnavailable) it may have."""
        return not isinstance(self, VendorUnavailable) and self.status is not None and self.status < 500


class VendorUnavailable(VendorError):
    """No usable answer. `not_sent`: the request never left (no connection could be made), so nothing was
    written; otherwise it may have been."""

    kind = "Vendor unavailable"

    def __init__(self, *args: Any, not_sent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.not_sent = not_sent

    @property
    def nothing_written(self) -> bool:
        return self.not_sent


class WriteOutcomeUnknown(VendorError):
    """A write whose outcome the vendor did not tell: it may have happened. The message names the read that
    settles it; never retry a write blindly."""

    kind = "Write outcome unknown"

    @property
    def nothing_written(self) -> bool:
        return False

