"""Keeping secrets out of the chat: refuse them on the way in, redact them on the way out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["REDACTED", "find_keys", "normalize_key", "redact"]

REDACTED = "[redacted]"


def normalize_key(key: str) -> str:
    """`third_party_credentials`, `thirdPartyCredentials` and `Third-Party-Credentials` compare equal."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


def find_keys(value: Any, names: Iterable[str], *, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, value) for every mapping key, at any depth, whose normalized name is in `names`."""
    wanted = {normalize_key(n) for n in names}
    yield from _walk(value, wanted, path)


def _walk(value: Any, wanted: set[str], path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and normalize_key(key) in wanted:
                yield here, item
            yield from _walk(item, wanted, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, wanted, f"{path}[{index}]")


def redact(value: Any, secret_names: Iterable[str]) -> Any:
    """A copy of `value` in which every non-empty value under a secret key is replaced by REDACTED."""
    wanted = {normalize_key(n) for n in secret_names}
    return _redact(value, wanted)


def _redact(value: Any, wanted: set[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: (REDACTED if isinstance(key, str) and normalize_key(key) in wanted and item not in ("", None)
                  else _redact(item, wanted))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, wanted) for item in value]
    return value
