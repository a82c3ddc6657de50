"""Keeping secrets out of the chat: refuse them on the way in, redact them on the way out, scrub vendor texts.

Secrets are recognised by field name (a `SecretKeys` matcher: exact names, plus fragments that only secrets carry,
compared case- and separator-blind) and by shape (a password inside a URL's userinfo)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["REDACTED", "SecretKeys", "find_keys", "has_url_password", "normalize_key", "redact", "scrub",
           "url_password_paths"]

REDACTED = "[redacted]"
SCRUB_MIN_CHARS = 8  # a vendor quoting the first 8+ characters of a secret still has them scrubbed
SHORT_SECRET_CHARS = 4  # shorter secrets are scrubbed only as whole words
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^/\s:@]*):(?P<password>[^/\s@]+)@")


def normalize_key(key: str) -> str:
    """`third_party_credentials`, `thirdPartyCredentials` and `Third-Party-Credentials` compare equal."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


@dataclass(frozen=True)
class SecretKeys:
    """Which mapping keys hold secrets: `names` match whole (normalised), `fragments` anywhere in the key."""

    names: frozenset[str]
    fragments: frozenset[str] = frozenset()

    @classmethod
    def of(cls, names: Iterable[str], fragments: Iterable[str] = ()) -> SecretKeys:
        return cls(frozenset(map(normalize_key, names)), frozenset(map(normalize_key, fragments)))

    def __call__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        k = normalize_key(key)
        return k in self.names or any(f in k for f in self.fragments)


def find_keys(value: Any, keys: SecretKeys, *, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, value) for every mapping key, at any depth, that `keys` matches."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if keys(key):
                yield here, item
            yield from find_keys(item, keys, path=here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_keys(item, keys, path=f"{path}[{index}]")


def url_password_paths(value: Any, *, path: str = "") -> Iterator[str]:
    """Paths of every string, at any depth, that carries a password in a URL (`ftp://user:pw@host`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from url_password_paths(item, path=f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from url_password_paths(item, path=f"{path}[{index}]")
    elif has_url_password(value):
        yield path


def has_url_password(value: Any) -> bool:
    if not isinstance(value, str) or "://" not in value:
        return False
    try:
        return bool(urlsplit(value.strip()).password)
    except ValueError:
        return False


def redact(value: Any, keys: SecretKeys) -> Any:
    """A copy of `value` in which every non-empty value under a secret key is REDACTED, and every password inside
    a URL is masked."""
    if isinstance(value, dict):
        return {key: (REDACTED if keys(key) and item not in ("", None) else redact(item, keys))
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, keys) for item in value]
    if isinstance(value, str) and "://" in value:
        return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", value)
    return value


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by REDACTED, in any letter case: as given, trimmed, base64-, URL- or
    JSON-encoded, or quoted only by its first SCRUB_MIN_CHARS or more characters (vendors echo rejected values,
    sometimes shortened). A secret shorter than SHORT_SECRET_CHARS is replaced only where it stands alone, so that
    scrubbing it does not garble the text and show by its cuts what it was."""
    variants = sorted(_variants(secrets), key=len, reverse=True)
    for secret in variants:  # whole values first, so a prefix shared by two secrets cannot split either
        pattern = re.escape(secret)
        if len(secret) < SHORT_SECRET_CHARS:
            pattern = rf"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])"
        text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
    for secret in variants:
        for length in range(len(secret) - 1, SCRUB_MIN_CHARS - 1, -1):
            prefix = re.compile(re.escape(secret[:length]), re.IGNORECASE)
            if prefix.search(text):
                text = prefix.sub(REDACTED, text)
                break
    return text


def _variants(secrets: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for secret in secrets:
        for value in {secret, secret.strip()} - {""}:
            found |= {value, base64.b64encode(value.encode()).decode().rstrip("="), quote(value, safe=""),
                      json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return found
