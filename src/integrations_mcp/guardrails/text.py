"""One canonical text for every rule: text that looks the same to a person is the same text here.

- `canonical`: Unicode compatibility normalisation (NFKC: full-width and other look-alike forms folded), invisible
  characters removed (format characters, Cf, and every Default_Ignorable_Code_Point: zero-width space and joiners,
  bidi controls, soft hyphen, BOM, variation selectors, the Hangul fillers), every blank (White_Space, the Braille
  blank U+2800, control characters) made one space, trimmed. A value whose canonical text is empty is blank:
  `is_blank`, for every "is this value present" rule.
- `name_key`: what two names must share to be the same name: the canonical text, case folded, mapped to its
  confusable skeleton (Unicode TS #39: `раураl` with Cyrillic letters is `paypal`, `0` is `O`, `rn` is `m`) from
  Unicode's confusables table as the `confusable-homoglyphs` package ships it, loaded on first use.
- `fold_key`: a field name as compared with secret names: the same, reduced to ASCII letters and digits.
- `control_characters`: control characters (NUL, line breaks, escapes), refused in names.
- Text that is not ours is written inside the server's own through `errors.quoted`.
"""

from __future__ import annotations

import functools
import json
import re
import string
import unicodedata

__all__ = ["BIDI_CONTROLS", "canonical", "canonical_chars", "control_characters", "fold_key", "has_bidi_controls",
           "is_blank", "name_key", "skeleton", "visible"]

# Explicit direction embeddings, overrides and isolates: they make text read differently from how it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Format characters (general category Cf) and Default_Ignorable_Code_Point (Unicode 15.1 DerivedCoreProperties.txt):
# characters with no glyph of their own. Ranges, not a scan of unicodedata at start-up (0.3 s); a test checks them
# against the running Python's unicodedata.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF))
_INVISIBLE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in _INVISIBLE_RANGES) + "]+")
# Blanks: White_Space (`\s`), the Braille blank, and control characters (C0, DEL, C1), which show as nothing.
_BLANK = re.compile(r"[\s\u2800\x00-\x1f\x7f-\x9f]+")
_WIDE_BLANK = re.compile("[\u3164\uffa0\u2800]")  # default-ignorable, yet drawn as wide as a letter
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # UTF-8 encodes none (not even two in a row: a str never pairs them)
_NOT_ASCII_ALNUM = re.compile("[^0-9A-Za-z]+")  # what fold_key drops: all but ASCII letters and digits


def visible(text: str) -> str:
    """`text` without invisible characters (format characters and default-ignorables: zero-width space and
    joiners, bidi controls, soft hyphen, BOM, variation selectors, Hangul fillers), and with each lone surrogate
    (a vendor's `\\ud800` escape, read by json.loads) replaced by U+FFFD: UTF-8 cannot carry one, so the SDK could
    not send an answer holding it, and over stdio the server's writer would stop."""
    if text.isascii():
        return text  # none of them is ASCII
    return _SURROGATE.sub("\ufffd", _INVISIBLE.sub("", text))


def canonical_chars(text: str) -> str:
    """`text` in NFKC without invisible characters, its blanks and line breaks kept (for scanning prose)."""
    if text.isascii():
        return text
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))


def canonical(text: str) -> str:
    """The canonical text: NFKC, invisible characters removed, every run of blanks one space, trimmed. The fillers
    that show as a space (Hangul filler, its half-width form, the Braille blank) are a space."""
    return _BLANK.sub(" ", canonical_chars(_WIDE_BLANK.sub(" ", text))).strip()


# The ASCII characters `canonical` drops: blanks and control characters (every other ASCII character stays).
_ASCII_BLANKS = "".join(map(chr, range(0x21))) + "\x7f"


def is_blank(value: str) -> bool:
    """Only blanks and invisible characters (zero-width, BOM, Hangul filler, Braille blank, NBSP...): not a value."""
    if value.isascii():  # what `canonical` leaves of ASCII text, without its two substitutions
        return not value.strip(_ASCII_BLANKS)
    return not canonical(value)


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, as code points (`U+0000`), each once."""
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(_CONTROL.findall(text))]


@functools.cache
def _confusables() -> dict[int, str]:
    """Each look-alike character -> the representative of its class in Unicode's confusables table (TS #39 section
    4: each source character maps to one prototype). The package ships the table both ways ({char: [look-alikes]}),
    so classes are rebuilt: a character mapped to a sequence (`m` -> `rn`) is a source of that sequence; characters
    linked one to one are a class, whose representative is an ASCII letter (lower case first) where it has one,
    else its lowest code point. Which member represents a class does not matter for comparing: only that all map
    to one."""
    from importlib import resources  # 13 ms of imports, paid on first use

    raw = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            parent[c] = parent.get(parent[c], parent[c])
            c = parent[c]
        return c

    sequences: dict[str, str] = {}
    for key, entries in raw.items():
        key = key.replace("\u200e", "").replace("\u200f", "")  # the table quotes right-to-left characters in marks
        for entry in entries:
            other = entry["c"].replace("\u200e", "").replace("\u200f", "")
            if len(key) == 1 and len(other) == 1:
                a, b = find(key), find(other)
                if a != b:
                    parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
            elif len(key) == 1 and len(other) > 1:
                sequences[key] = other
    # Names compare case-insensitively too: an ASCII capital and its small letter are one class (`I` is `l` and `i`
    # alike). Not every character and its case fold: chains through them (`s`, `ſ`, `f`) would merge letters apart.
    for c in string.ascii_uppercase:
        folded = c.lower()
        if c not in sequences and folded not in sequences:
            a, b = find(c), find(folded)
            if a != b:
                parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
    table = {ord(c): find(c) for c in parent if find(c) != c}
    for c, sequence in sequences.items():
        table[ord(c)] = "".join(find(s) for s in sequence)
    return table


@functools.cache
def _non_ascii_confusables() -> dict[int, str]:
    return {code: to for code, to in _confusables().items() if code > 0x7F}


def _rank(c: str) -> tuple[int, int]:
    return (0 if c.isascii() and c.islower() else 1 if c.isascii() and c.isalpha() else 2 if c.isascii() else 3,
            ord(c))


def skeleton(text: str) -> str:
    """TS #39's skeleton of `text` (NFD, each character mapped to its confusable class) with our representatives."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(_confusables()))


def name_key(name: str) -> str:
    """What two names must share to count as the same name: the skeleton of the canonical text, case folded, and
    mapped again (capitals are mapped before folding: Cyrillic `Т` is `T`, while its small letter `т` is not `t`). An
    ASCII capital and its small letter are one class, so `I`, `i`, `l` and `1` are one letter, and so are `O`, `o`
    and `0`: conservative, two names that could be read alike are the same."""
    return skeleton(skeleton(canonical(name)).casefold())


def fold_key(key: str) -> str:
    """A field name as compared with secret names: look-alike letters, width, case, separators and invisible
    characters folded (`Pass-Word`, `ｐａｓｓｗｏｒｄ`, `pаssword` with a Cyrillic а, `pass\u200bword` are all
    `password`). ASCII names are only case- and separator-folded, without loading the confusables table."""
    # Keys repeat in every record: a short one is folded once (a bounded cache of field names, not of values).
    return _fold_short(key) if len(key) <= 64 else _fold_key(key)


@functools.lru_cache(maxsize=1024)
def _fold_short(key: str) -> str:
    return _fold_key(key)


def _fold_key(key: str) -> str:
    text = canonical_chars(key)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.casefold().translate(_non_ascii_confusables()))
    return _NOT_ASCII_ALNUM.sub("", text.casefold())


def has_bidi_controls(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)
