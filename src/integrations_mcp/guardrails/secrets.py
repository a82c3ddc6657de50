"""Keeping secrets out of the chat: refuse them on the way in, redact them on the way out, scrub vendor texts.

Secrets are recognised by field name (a `SecretKeys` matcher: exact names, plus fragments that only secrets carry,
compared after folding case, separators, look-alike letters and invisible characters) and by value
(`secret_values`: known key formats, private keys, JWTs, Bearer/Basic values, URL passwords and tokens, long
random tokens)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from integrations_mcp.guardrails.secret_values import (
    find_secret_values,
    mask_secret_values,
    names_random,
    secret_kinds,
)
from integrations_mcp.guardrails.text import fold_key

__all__ = ["COMMON_SECRET_FRAGMENTS", "COMMON_SECRET_NAMES", "REDACTED", "SecretKeys", "find_keys", "listing",
           "normalize_key", "redact", "scrub", "scrub_vendor_text", "secret_paths"]

REDACTED = "[redacted]"
SCRUB_MIN_CHARS = 8  # a vendor quoting the first 8+ characters of a secret still has them scrubbed
SHORT_SECRET_CHARS = 4  # shorter secrets are scrubbed only as whole words


# Names that mean a secret whatever the vendor (compared folded: case, separators, look-alikes, zero-width).
COMMON_SECRET_NAMES = ("password", "pass", "pwd", "passwd", "secret", "token", "pin", "pincode", "passcode",
                       "passphrase", "authorization", "auth", "bearer", "cookie", "apikey", "apisecret", "accesstoken",
                       "privatekey", "clientsecret", "credentials", "credential", "sessionid", "signature")
# Fragments only secret names carry (`apiPass`, `sessionCookie`, `x-authorization`, `dbPassword`).
COMMON_SECRET_FRAGMENTS = ("password", "passwd", "passphrase", "passcode", "apipass", "userpass", "secret", "token",
                           "apikey", "privatekey", "credential", "authorization", "cookie", "bearer", "authkey",
                           "accesskey", "secretkey", "signingkey", "sessionkey")
MAX_LISTED = 20  # a refusal names at most this many places ("and N more")


def listing(items: list[str], limit: int = MAX_LISTED, *, each: int = 120) -> str:
    """`items` joined for a refusal, bounded: at most `limit` items of at most `each` characters."""
    shown = [item if len(item) <= each else item[:each] + "…" for item in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


def secret_paths(arguments: dict[str, Any], keys: SecretKeys, *, has_value: Any = None,
                 no_entropy: Iterable[str] = (), random_keys: Iterable[str] = (),
                 hex_in: Iterable[str] = ()) -> list[str]:
    """Where `arguments` hold a secret: a value under a secret name (`has_value` decides what counts as a value;
    default: anything but "" and None), also inside a string that holds a JSON object or list, or a value that looks
    like one (`secret_values`). Paths and kinds only, never the value. Top-level arguments in `no_entropy` are
    checked for known formats only; in those of `hex_in` (where credentials belong) bare hex tokens count too."""
    filled = has_value or (lambda v: v not in ("", None))
    skip, folded, hexed = frozenset(no_entropy), _folded_keys(tuple(random_keys)), frozenset(hex_in)
    if all(type(value) is str and value.lstrip()[:1] not in ("{", "[") for value in arguments.values()):
        # Only plain strings that hold no JSON (a read's one id): what the walks below find, without walking.
        paths = [str(name) for name, value in arguments.items() if keys(name) and filled(value)]
        for name, value in arguments.items():
            kinds = secret_kinds(value, hex_tokens=name in hexed,
                                 entropy=name not in skip and not names_random(name, folded))
            if kinds:
                paths.append(f"{name} ({', '.join(kinds)})")
        return [mask_secret_values(p) for p in dict.fromkeys(paths)]
    paths = [path for path, value in find_keys(arguments, keys) if filled(value)]
    for where, parsed in _json_inside(arguments):  # escapes (`\u0073k_live_...`) are undone once parsed
        paths += [path for path, value in find_keys(parsed, keys, path=where) if filled(value)]
        paths += [f"{path} ({kind})" for path, kind in find_secret_values(parsed, path=where, entropy=False)]
    for name, value in arguments.items():
        for path, kind in find_secret_values(value, path=name, random_keys=folded, hex_tokens=name in hexed,
                                              entropy=name not in skip and not names_random(name, folded)):
            paths.append(f"{path} ({kind})")
    return [mask_secret_values(p) for p in dict.fromkeys(paths)]


@functools.lru_cache(maxsize=32)
def _folded_keys(keys: tuple[str, ...]) -> frozenset[str]:
    """A guard's `random_keys`, folded once per list (each call passes the same constant)."""
    return frozenset(map(fold_key, keys))


MAX_JSON_CONTAINERS = 200  # a JSON text with more lists and objects is not parsed (nesting depth stays bounded)


def _json_inside(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, parsed value) of every string, at any depth, that holds a JSON object or list: `{"password": "..."}`
    pasted as a description is a secret under a secret name all the same."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_inside(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_inside(item, f"{path}[{index}]")
    elif isinstance(value, str) and value.lstrip()[:1] in ("{", "[") \
            and value.count("{") + value.count("[") <= MAX_JSON_CONTAINERS:
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return
        if isinstance(parsed, dict | list):
            yield f"{path} (JSON)", parsed


def normalize_key(key: str) -> str:
    """`third_party_credentials`, `thirdPartyCredentials` and `Third-Party-Credentials` compare equal, and so do
    look-alike spellings (fullwidth, Cyrillic letters, zero-width characters): see `text.fold_key`."""
    return fold_key(key)


KNOWN_KEYS_MAX = 1024  # keys whose answer a SecretKeys keeps (emptied when full): field names repeat in every record


@dataclass(frozen=True)
class SecretKeys:
    """Which mapping keys hold secrets: `names` match whole (normalised), `fragments` anywhere in the key."""

    names: frozenset[str]
    fragments: frozenset[str] = frozenset()
    # Short keys already answered (a bounded memo of a pure function of the key: not part of the value).
    _answers: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, names: Iterable[str], fragments: Iterable[str] = ()) -> SecretKeys:
        return cls(frozenset(map(normalize_key, names)), frozenset(map(normalize_key, fragments)))

    def __call__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        known = self._answers.get(key)
        if known is not None:
            return known
        k = normalize_key(key)
        answer = k in self.names or any(f in k for f in self.fragments)
        if len(key) <= 64:
            if len(self._answers) >= KNOWN_KEYS_MAX:
                self._answers.clear()
            self._answers[key] = answer
        return answer


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


def redact(value: Any, keys: SecretKeys, *, random_keys: frozenset[str] = frozenset(), _random: bool = False) -> Any:
    """A copy of `value` in which every non-empty value under a secret key is REDACTED, and every secret recognised
    by its look (`secret_values`: a token, a private key, a password inside a URL) is masked in its string."""
    if isinstance(value, dict):
        return {key: (REDACTED if keys(key) and item not in ("", None)
                      else redact(item, keys, random_keys=random_keys, _random=names_random(key, random_keys)))
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, keys, random_keys=random_keys, _random=_random) for item in value]
    if isinstance(value, str):
        return mask_secret_values(value, REDACTED, entropy=not _random)
    return value


def scrub_vendor_text(text: str, secrets: Iterable[str]) -> str:
    """A vendor's error words: the known `secrets` scrubbed (`scrub`), and anything that looks like a secret by its
    value masked, random-looking tokens included (an error message has no ids to keep; its call id is not passed
    here)."""
    return mask_secret_values(scrub(text, secrets), REDACTED)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by REDACTED, in any letter case: as given, trimmed, base64-, URL- or
    JSON-encoded, or quoted only by its first SCRUB_MIN_CHARS or more characters (vendors echo rejected values,
    sometimes shortened). A secret shorter than SHORT_SECRET_CHARS is replaced only where it stands alone, so that
    scrubbing it does not garble the text and show by its cuts what it was. One pass over the text, whatever the
    number of secrets: `scrubber.Scrubber`, built once per set of secrets."""
    from integrations_mcp.guardrails.scrubber import scrubber_for  # it imports this module's constants

    return scrubber_for(secrets if isinstance(secrets, frozenset) else frozenset(secrets))(text)
