"""Text that looks the same to a person is the same text here.

Names are compared after Unicode compatibility normalisation (NFKC: fullwidth and other look-alike forms folded),
with invisible characters (zero-width, joiners, soft hyphen, bidi controls) removed, every run of white space
(NBSP included) made one space, combining marks on their base letter, and case folded. A value made only of spaces
and invisible characters is blank: not a value.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["BIDI_CONTROLS", "fold_key", "has_bidi_controls", "is_blank", "name_key", "visible"]

# Explicit direction embeddings, overrides and isolates: they make text read differently from how it is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_SPACE = re.compile(r"\s+")


# Cyrillic and Greek letters that look like Latin ones (the common part of Unicode's confusables list), for keys:
# `pаssword` with a Cyrillic `а` is `password`.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԛԝһкмтвнАЕОРСУХІЈЅВНКМТαορνκιτυχεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhkmtbhAEOPCYXIJSBHKMTaopvkituxeABEZHIKMNOPTYX")


def visible(text: str) -> str:
    """`text` without format characters (Cf: zero-width space and joiners, bidi controls, soft hyphen, BOM)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


_visible = visible


def fold_key(key: str) -> str:
    """A field name as compared with secret names: look-alike letters, width, case, separators and invisible
    characters folded (`Pass-Word`, `ｐａｓｓｗｏｒｄ`, `pаssword` with a Cyrillic а, `pass\u200bword` are all
    `password`)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", visible(key)).translate(_CONFUSABLES))
    return "".join(ch for ch in text.casefold() if ch.isascii() and ch.isalnum())


def name_key(name: str) -> str:
    """What two names must share to count as the same name."""
    text = unicodedata.normalize("NFKC", _visible(name))
    return _SPACE.sub(" ", text).strip().casefold()


def is_blank(value: str) -> bool:
    return not unicodedata.normalize("NFKC", _visible(value)).strip()


def has_bidi_controls(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)
