"""The last filter on everything the server says: tool results (text and structuredContent), tool errors, progress
messages and log lines.

It masks what the server knows to be secret (the configured API keys and secrets, in their case and encoding
variants: `secrets.scrub`) and what looks like one by its value (`secret_values`: key formats, private keys, JWTs,
Bearer/Basic values, URL passwords and tokens; not the entropy rule, which would hide the vendors' random ids), and
removes invisible and text-direction characters, which make text read differently from how it is stored. Fields
are redacted by name earlier, where the vendor's field names are known (`views.py` of each vendor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import REDACTED, scrub
from integrations_mcp.guardrails.text import visible

__all__ = ["HANDED_OVER", "MAX_ERROR_CHARS", "clean_output", "clean_text", "forget_configured_secrets", "handed_over",
           "known_secrets", "remember_configured_secrets"]

MAX_ERROR_CHARS = 8000  # a tool error longer than this is cut: a refusal never floods the conversation

_known: set[str] = set()


def remember_configured_secrets(settings: Iterable[Any], *, also: Iterable[str | None] = ()) -> None:
    """Every `SecretStr` field of the given settings objects, and the `also` values (the server's own keys and
    tokens), is masked wherever it would appear."""
    _known.update(value for value in also if value)
    for item in settings:
        names = [f.name for f in dataclasses.fields(item)] if dataclasses.is_dataclass(item) else vars(item)
        for value in (getattr(item, name, None) for name in names):
            if isinstance(value, SecretStr) and value.get_secret_value():
                _known.add(value.get_secret_value())


def forget_configured_secrets() -> None:
    """Empty the set. A server process configures its keys once; a test process builds many servers with many
    (often short) keys, which would otherwise pile up and mask fragments of unrelated random ids."""
    _known.clear()


def known_secrets() -> frozenset[str]:
    return frozenset(_known)


# Links the server hands to the person on purpose (a secure form, an approval page): capability URLs whose query may
# carry a token, passed through whole.
HANDED_OVER = frozenset({"form_url", "approval_url"})


def handed_over(value: Any) -> list[str]:
    """The HANDED_OVER links in a result, at any depth."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in HANDED_OVER and isinstance(v, str)] + \
            [link for v in value.values() for link in handed_over(v)]
    if isinstance(value, list):
        return [link for v in value for link in handed_over(v)]
    return []


def clean_text(text: str, *, limit: int | None = None, keep: Iterable[str] = ()) -> str:
    """`text` without known secrets, secret-looking values and invisible characters; cut at `limit`. The `keep`
    strings (handed-over links) pass unchanged."""
    kept = [k for k in dict.fromkeys(keep) if k and k in text]
    for index, link in enumerate(kept):
        text = text.replace(link, f"\x00{index}\x00")
    text = mask_secret_values(visible(text), REDACTED, entropy=False)
    if _known:
        text = scrub(text, _known)
    for index, link in enumerate(kept):
        text = text.replace(f"\x00{index}\x00", link)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [cut: {len(text) - limit} more characters]"
    return text


def clean_output(value: Any) -> Any:
    """A JSON value with every string (keys included) cleaned by `clean_text`, HANDED_OVER links left whole."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k:
                v if k in HANDED_OVER and isinstance(v, str) else clean_output(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_output(item) for item in value]
    return value
