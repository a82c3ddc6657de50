"""The last filter on everything the server says: tool results (text and structuredContent), tool errors, progress
messages and log lines.

It masks what the server knows to be secret (the configured API keys and secrets, in their case and encoding
variants: `secrets.scrub`) and what looks like one by its value (`secret_values`: key formats, private keys, JWTs,
Bearer/Basic values, URL passwords and tokens; not the entropy rule, which would hide the vendors' random ids), and
removes invisible and text-direction characters, which make text read differently from how it is stored. Fields
are redacted by name earlier, where the vendor's field names are known (`views.py` of each vendor).

An ASCII text holding none of the literals those searches need (`_Quiet`: one Aho-Corasick pass over it without
blanks, one over that lower-cased, then the one-character hints' gates) cannot change, and is returned as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import Any

from pydantic import SecretStr

from integrations_mcp.guardrails.scrubber import Scrubber
from integrations_mcp.guardrails.secret_values import (
    ASCII_BLANKS,
    Format,
    LiteralCheck,
    filter_literals,
    gate_marks,
    mask_secret_values,
    one_char_formats_quiet,
    one_char_gate_starts,
)
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.guardrails.text import visible

__all__ = ["MAX_ERROR_CHARS", "clean_output", "clean_text", "forget_configured_secrets", "known_secrets",
           "own_link", "own_links", "remember_configured_secrets", "vendor_link"]

MAX_ERROR_CHARS = 8000  # a tool error longer than this is cut: a refusal never floods the conversation

# Short texts repeat in every answer (keys, enum values, names): one that passed the whole filter unchanged under the
# current secrets is let through again without a scan. Bounded (emptied when full), dropped with its secret set,
# and holding only texts the filter let out whole (never a secret it knows).
PASSING_MAX_CHARS = 64
PASSING_MAX_TEXTS = 2048
# Longer texts repeat too: a record read again gives the same answer, its text and its structuredContent (kept as
# its JSON: `clean_output`'s `as_json`). Kept the same way, bounded by the characters (bytes) they hold in all.
# The longest text (or JSON) kept: a record's answer fits; a list's page is longer and filtered on every call.
PASSING_LONG_MAX_CHARS = 4000
PASSING_LONG_CHARS = 262_144


class _Known:
    """The known secrets, their one-pass `Scrubber` and the texts (and JSON values) that passed under them. Swapped
    whole, so a thread filtering meanwhile never mixes two sets' parts. The Scrubber is built by the first text
    filtered under the set (never per text), so a server that only lists its tools never builds one (cold start)."""

    def __init__(self, secrets: frozenset[str]) -> None:
        self.secrets = secrets
        self.passing: dict[str, None] = {}
        self.passing_long: dict[str, None] = {}
        self.passing_json: dict[bytes, None] = {}  # the JSON of whole values that passed (`clean_output`)
        self.long_chars = 0  # held by the two above (a filter thread may make the count a little off: no lock)

    def passed(self, text: str) -> None:
        """`text` went through the filter unchanged under these secrets: let it through again without a scan."""
        if len(text) <= PASSING_MAX_CHARS:
            if len(self.passing) >= PASSING_MAX_TEXTS:
                self.passing.clear()
            self.passing[text] = None
        elif len(text) <= PASSING_LONG_MAX_CHARS:
            self.keep_long(self.passing_long, text)

    def keep_long(self, kept: dict[Any, None], item: str | bytes) -> None:
        """`item` into `kept` (passing_long or passing_json); both emptied when they would hold too much."""
        if self.long_chars + len(item) > PASSING_LONG_CHARS:
            self.passing_long.clear()
            self.passing_json.clear()
            self.long_chars = 0
        kept[item] = None
        self.long_chars += len(item)

    @cached_property
    def scrubber(self) -> Scrubber:
        return Scrubber(self.secrets)

    @cached_property
    def quiet(self) -> _Quiet | None:
        """The one-pass check for ASCII texts (None when the scrubber has no literal set: every text is filtered)."""
        heads = self.scrubber.ascii_literals()
        if heads is None:
            return None
        kept, lowered = filter_literals()
        return _Quiet(kept, {**lowered, **dict.fromkeys(heads)})  # a head found is one (no check)


class _Quiet:
    """Whether an ASCII text holds nothing the filter looks for, so that it passes unchanged, in one pass of C over
    the text without its blanks (`bytes.translate`), lower-cased: one Aho-Corasick search (`ahocorasick-rs`) for the
    literals the value scan needs (`secret_values.filter_literals`: its hints, case kept, each found lower-cased and
    then compared with the text without blanks as it is; the case-insensitive hints and the auth words,
    lower-cased) and those the scrubber needs (`Scrubber.ascii_literals`, lower-cased); a literal found whose check
    fails is a false alarm (`en-US` is not the Mailchimp hint `-us`, `token.` is no auth scheme), and every
    occurrence is looked at (overlapping), so one hides no other; then the one-character hints' formats
    (`secret_values.one_char_formats_quiet`). A function of the text and the key set (the `_Known` it belongs to).
    Every search of the filter finds one of these literals or a one-character hint's gate, so a text with none finds
    nothing: `_filtered` returns it as it is."""

    def __init__(self, kept: dict[str, LiteralCheck], lowered: dict[str, LiteralCheck]) -> None:
        import ahocorasick_rs  # imported on first use: a server that only lists its tools never loads it

        # lower-cased literal -> what it means: (the literal as the text without blanks holds it, or None when
        # lower-cased; its check), or a gate mark (`secret_values.gate_marks`): (None, None, the formats it marks)
        meanings: dict[bytes, list[tuple[bytes | None, LiteralCheck, tuple[Format, ...]]]] = {}
        for literal, check in kept.items():
            meanings.setdefault(literal.encode().lower(), []).append((literal.encode(), check, ()))
        for literal, check in lowered.items():
            meanings.setdefault(literal.encode(), []).append((None, check, ()))
        marks = gate_marks()
        for mark, rules in marks.items():
            meanings.setdefault(mark.encode().lower(), []).append((None, None, tuple(rules)))
        ordered = sorted(meanings)
        self.finder = ahocorasick_rs.BytesAhoCorasick(ordered)
        self.meanings = [meanings[literal] for literal in ordered]
        self.marked = tuple({rule: None for rules in marks.values() for rule in rules})  # formats with gate marks

    def _found(self, text: str, raw: bytes) -> tuple[list[tuple[int, int, bytes | None, LiteralCheck]], bytes,
                                                       tuple[Format, ...]]:
        """The literals found in `raw` (ASCII `text` encoded) without blanks, lower-cased, whose case matches where
        it is kept: (start, end, the literal or None, its check), in that reduced text; that text; the formats
        none of whose gate marks is there."""
        compact = raw.translate(None, ASCII_BLANKS)
        found: list[tuple[int, int, bytes | None, LiteralCheck]] = []
        marked: list[Format] = []
        for index, start, end in self.finder.find_matches_as_indexes(compact.lower(), overlapping=True):
            for exact, check, rules in self.meanings[index]:
                if rules:
                    marked += rules
                elif exact is None or compact[start:end] == exact:
                    found.append((start, end, exact, check))
        return found, compact, tuple(rule for rule in self.marked if rule not in marked)

    def __call__(self, text: str, raw: bytes) -> bool:
        """`raw`: the ASCII `text` encoded."""
        found, _, unmarked = self._found(text, raw)
        if any(check is None or check(text) for _, _, _, check in found):
            return False
        return one_char_formats_quiet(text, unmarked)

    def strings_to_filter(self, text: str, raw: bytes) -> set[int] | None:
        """For `text`, a value's JSON as pydantic writes it, ASCII and without a backslash (`raw` encoded), where
        each string of the value therefore stands as it is between two quotes: the places (0 for the first string
        written, keys included) of the strings this check may not let through on their own, found in one pass over
        the whole JSON; None when that cannot be told (`one_char_gate_starts`). A string is quiet when no literal
        found (`__call__`) and no one-character hint's gate match starts inside it: the text without blanks between
        the string's two quotes is the string's without blanks, and a gate is a positive pattern, so a match inside
        the string (its look-behind seeing only the string) is one in the JSON, found by trying every place. Every
        literal found counts, its check not asked (the string's own filtering asks it), and one reaching over a
        quote marks the string it starts in."""
        found, compact, unmarked = self._found(text, raw)
        gates = one_char_gate_starts(text, unmarked)
        if gates is None:
            return None
        literals = [start for start, _, _, _ in found]
        flagged: set[int] = set()
        for written, starts in ((raw, gates), (compact, literals)):
            at = quotes = 0
            for start in sorted(starts):
                quotes += written.count(b'"', at, start)  # the quotes before it, counted once
                at = start
                if quotes % 2:
                    flagged.add(quotes // 2)
        return flagged


_current = _Known(frozenset())


def _know(secrets: frozenset[str]) -> None:
    global _current
    if secrets != _current.secrets:
        _current = _Known(secrets)


def remember_configured_secrets(settings: Iterable[Any], *, also: Iterable[str | None] = ()) -> None:
    """Every `SecretStr` field of the given settings objects, and the `also` values (the server's own keys and
    tokens), is masked wherever it would appear."""
    found = {value for value in also if value}
    for item in settings:
        names = [f.name for f in dataclasses.fields(item)] if dataclasses.is_dataclass(item) else vars(item)
        for value in (getattr(item, name, None) for name in names):
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.add(value.get_secret_value())
    _know(_current.secrets | found)


def forget_configured_secrets() -> None:
    """Empty the set. A server process configures its keys once; a test process builds many servers with many
    (often short) keys, which would otherwise pile up and mask fragments of unrelated random ids."""
    _know(frozenset())


def known_secrets() -> frozenset[str]:
    return _current.secrets


# Links the server hands to the person on purpose (its secure form page, an approval page, a vendor's hosted form):
# capability URLs whose path or query may carry a token. Exempt by origin, not by the key they stand under: the tool
# code that makes one registers the exact string for the current call, and only that string passes whole.
_own_links: ContextVar[set[str] | None] = ContextVar("own_links", default=None)


@contextmanager
def own_links() -> Iterator[set[str]]:
    """The links registered (`own_link`, `vendor_link`) while a tool call runs; `toolkit.server` opens one per call."""
    links: set[str] = set()
    token = _own_links.set(links)
    try:
        yield links
    finally:
        _own_links.reset(token)


def own_link(url: str) -> str:
    """`url`, a link this server made for the person, registered to pass the current call's output filter whole."""
    links = _own_links.get()
    if links is not None and url:
        links.add(url)
    return url


def vendor_link(url: str) -> str:
    """A vendor's link the server hands over on purpose (RevCent's hosted form): registered like `own_link` only
    when it holds no known secret and nothing invisible; otherwise it is filtered like any vendor text."""
    if url and _current.scrubber(visible(url)) == url:
        own_link(url)
    return url


def clean_text(text: str, *, limit: int | None = None, keep: Iterable[str] = ()) -> str:
    """`text` without known secrets, secret-looking values and invisible characters; cut at `limit`. The `keep`
    strings (the server's own links) pass unchanged."""
    kept = [k for k in dict.fromkeys(keep) if k and k in text]
    for index, link in enumerate(kept):
        text = text.replace(link, f"\x00{index}\x00")
    text = _filtered(text)
    for index, link in enumerate(kept):
        text = text.replace(f"\x00{index}\x00", link)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [cut: {len(text) - limit} more characters]"
    return text


def _filtered(text: str, known: _Known | None = None) -> str:
    known = known or _current
    size = len(text)
    if text in (known.passing if size <= PASSING_MAX_CHARS else known.passing_long):
        return text
    quiet = known.quiet
    if quiet is not None and text.isascii() and quiet(text, text.encode("ascii")):
        cleaned = text  # nothing the filter looks for is in it
    else:
        cleaned = known.scrubber(mask_secret_values(visible(text), REDACTED, entropy=False))
    if cleaned == text and size <= PASSING_LONG_MAX_CHARS:
        known.passed(text)
    return cleaned


def clean_output(value: Any, *, keep: Iterable[str] = (), as_json: bytes | None = None) -> Any:
    """A JSON value with every string (keys included) cleaned by `clean_text`, whatever its key; a string that is
    exactly one of `keep` (the server's own links) is left whole.

    `as_json`: the value's JSON (`pydantic_core.to_json`), when the caller made it anyway. With no links to keep, the
    strings written in it are filtered instead of walking the value (`_json_passes`: they include every string of the
    value); when they all pass, the value is returned as it is, and otherwise the walk finds what to replace. A value
    whose JSON passed whole before, under the same secrets, is let through without either (a record read again). A
    JSON is remembered when all its strings passed, or when the walk found every string of a value made of JSON's own
    types alone (dicts with string keys, lists, strings, numbers, booleans, None: `_find_changes`) clean: every string
    in its JSON is then one of its strings. Either way, a value with the same JSON holds only strings that passed."""
    links = keep if isinstance(keep, (set, frozenset)) else frozenset(keep)
    known = _current  # one secret set for the whole value
    remember = as_json is not None and not links and len(as_json) <= PASSING_LONG_MAX_CHARS
    if remember and as_json in known.passing_json:
        return value
    if as_json is not None and not links and not isinstance(value, str) and _json_passes(as_json, known):
        if remember:
            known.keep_long(known.passing_json, as_json)
        return value
    if isinstance(value, str):
        # `_filtered` is `clean_text` without links to keep or a limit (a string equal to a link is kept whole here)
        cleaned = value if value in links else _filtered(value, known)
        unchanged, plain = cleaned == value, type(value) is str
    else:
        # The strings the filter would change are found first, by a walk that builds nothing: nearly every answer
        # passes whole and is returned as it is. Only when there are some is the value copied with them replaced.
        changed_keys: dict[str, str] = {}
        changed: dict[str, str] = {}
        plain = _find_changes(value, links, known, changed_keys, changed)
        unchanged = not changed_keys and not changed
        cleaned = value if unchanged else _replaced(value, links, changed_keys, changed)
    if remember and unchanged and plain:
        known.keep_long(known.passing_json, as_json)
    return cleaned


def _json_passes(as_json: bytes, known: _Known) -> bool:
    """Whether every string literal of `as_json` (a value's JSON as pydantic writes it: `to_json`, or the serializer of
    the model it is the dump of), keys included, passes the filter
    unchanged. Every string the walk (`_find_changes`) would filter is one of them: pydantic writes a dict, a list and
    a string (and their subclasses) as JSON's own, and anything else it writes as text too (a tuple as a list, an
    object by `str`), which only adds strings. Without a backslash no string is escaped, so the text between two
    quotes is the string itself, found by one `split` in C instead of a walk in Python. An ASCII JSON is first
    checked whole, in one pass (`_Quiet.strings_to_filter`): only the strings it marks are split out and filtered.
    False (the walk decides) when there is a backslash or some string would change."""
    if b"\\" in as_json:
        return False
    try:
        written = as_json.decode()
    except UnicodeDecodeError:  # not what pydantic writes: the walk decides
        return False
    quiet = known.quiet
    marked = quiet.strings_to_filter(written, as_json) if quiet is not None and as_json.isascii() else None
    if marked is not None:
        if not marked:
            return True
        strings = written.split('"')[1::2]
        return all(_filtered(strings[place], known) == strings[place] for place in sorted(marked))
    # A short text that passed before is let through without a call (`passing` holds no longer ones).
    return all(_filtered(text, known) == text
               for text in set(written.split('"')[1::2]).difference(known.passing))


_JSON_SCALARS = frozenset({type(None), bool, int, float})  # these exact types (no subclass: its own serialisation)


def _find_changes(value: Any, keep: set[str] | frozenset[str], known: _Known, changed_keys: dict[str, str],
                  changed: dict[str, str]) -> bool:
    """Into `changed_keys` / `changed`: each key / string value (not one of `keep`) of `value`, at any depth, that the
    filter changes, with what it becomes; a short text that passed before is let through without a call. Returns
    whether `value` is made of JSON's own types alone: exactly dict (with str keys), list, str and `_JSON_SCALARS`."""
    if isinstance(value, dict):
        plain = type(value) is dict
        for key, item in value.items():
            if type(key) is not str:
                plain = False
            if isinstance(key, str) and not (len(key) <= PASSING_MAX_CHARS and key in known.passing):
                cleaned = _filtered(key, known)
                if cleaned != key:
                    changed_keys[key] = cleaned
            plain = _item_changes(item, keep, known, changed_keys, changed) and plain
        return plain
    if isinstance(value, list):
        plain = type(value) is list
        for item in value:
            plain = _item_changes(item, keep, known, changed_keys, changed) and plain
        return plain
    return type(value) in _JSON_SCALARS


def _item_changes(item: Any, keep: set[str] | frozenset[str], known: _Known, changed_keys: dict[str, str],
                  changed: dict[str, str]) -> bool:
    """`_find_changes` for one value of a dict or item of a list."""
    if isinstance(item, str):
        if not (item in keep or (len(item) <= PASSING_MAX_CHARS and item in known.passing)):
            cleaned = _filtered(item, known)
            if cleaned != item:
                changed[item] = cleaned
        return type(item) is str
    if isinstance(item, (dict, list)):
        return _find_changes(item, keep, known, changed_keys, changed)
    return type(item) in _JSON_SCALARS


def _replaced(value: Any, keep: set[str] | frozenset[str], changed_keys: dict[str, str],
              changed: dict[str, str]) -> Any:
    """`value` copied (its dicts and lists) with the strings found by `_find_changes` replaced."""
    if isinstance(value, str):
        return value if value in keep else changed.get(value, value)
    if isinstance(value, dict):
        return {changed_keys.get(key, key) if isinstance(key, str) else key:
                _replaced(item, keep, changed_keys, changed) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, keep, changed_keys, changed) for item in value]
    return value
