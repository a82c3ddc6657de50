"""The known secrets (configured keys, the state key, bearer tokens, a write's own values) masked in any text in one
pass, at a cost that does not grow with their number.

What is masked (`secrets.scrub`): every *variant* of a secret (as given, trimmed, base64-, URL- or JSON-encoded), in
any letter case, and every prefix of SCRUB_MIN_CHARS or more characters of one (vendors echo rejected values,
sometimes shortened); a variant shorter than SHORT_SECRET_CHARS only where it stands alone. Where two matches
overlap, the one masked is the one the sequential definition picks: whole variants before prefixes, longer variants
first (ties in code point order), longer prefixes first, leftmost first.

How: a `Scrubber` is built once per set of secrets. It folds letter case with a table made from `re`'s own
IGNORECASE classes (a folded match is exactly an IGNORECASE match: `K` and the Kelvin sign, `s` and long s), finds
every place where a variant's first SCRUB_MIN_CHARS characters, or a whole shorter variant, stand with one search of
the folded text, extends each to its longest prefix, and picks what to mask with the order above. Texts without any
of it (nearly all) cost one `translate` and one search. The output filter asks an ASCII text for the heads lower-cased
first (`ascii_literals`, in its one-pass check): a text without any is not folded at all.
"""

from __future__ import annotations

import array
import base64
import bisect
import functools
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import quote

from integrations_mcp.guardrails.secrets import REDACTED, SCRUB_MIN_CHARS, SHORT_SECRET_CHARS

__all__ = ["CASED_BELOW", "Scrubber", "case_class", "case_classes", "scrubber_for", "variants"]

CASED_BELOW = 0x20000  # no character from here on has a letter case (tests/guardrails/test_scrubber.py checks)
FEW_HEADS = 64  # up to this many heads (32 secrets or so), a text is first tested for each head by `in`
FEW_HEADS_TEXT = 64  # ... when it is longer than this (a short one costs the alternation little)
MAX_NESTED = 100  # a variant's tail up to this long is extended by one nested regex (deep nests recurse in `re`)


def variants(secrets: Iterable[str]) -> set[str]:
    """The forms a secret may take in a text: as given, trimmed, base64 (unpadded), URL- and JSON-encoded."""
    found: set[str] = set()
    for secret in secrets:
        for value in {secret, secret.strip()} - {""}:
            found |= {value, base64.b64encode(value.encode()).decode().rstrip("="), quote(value, safe=""),
                      json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return found


def _all_chars() -> str:  # not kept: 512 KB, needed only when a set of secrets brings characters not met before
    codes = array.array("I", range(CASED_BELOW))
    if codes.itemsize != 4:  # pragma: no cover - unsigned int is 4 bytes on every platform CPython supports
        return "".join(map(chr, range(CASED_BELOW)))
    return codes.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be", "surrogatepass")


_CLASSES: dict[str, frozenset[str]] = {}  # character -> its IGNORECASE class, for every character met in a secret


def case_classes(chars: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each of `chars`, the characters `re.IGNORECASE` matches it with, itself included: taken from `re` itself
    (one scan of every cased character for those not met before), so a folded match is exactly a regex one."""
    wanted = set(chars)
    new = sorted(wanted - _CLASSES.keys())
    if new:
        union = set(re.findall(f"[{''.join(map(re.escape, new))}]", _all_chars(), re.IGNORECASE))
        # Which of `new` each character matches first: IGNORECASE matching is an equivalence, so a character's
        # class is the characters that first match the same one (tests/guardrails/test_scrubber.py checks).
        first = re.compile("|".join(f"({re.escape(char)})" for char in new), re.IGNORECASE)
        groups: dict[int, set[str]] = defaultdict(set)
        for char in union | set(new):
            found = first.fullmatch(char)
            if found is not None:
                groups[found.lastindex or 0].add(char)
        for char in new:
            found = first.fullmatch(char)
            _CLASSES[char] = frozenset(groups[found.lastindex or 0] if found else ()) | {char}
    return {char: _CLASSES[char] for char in wanted}


def case_class(char: str) -> frozenset[str]:
    return case_classes(char)[char]


@functools.cache
def _word_chars() -> frozenset[str]:
    """What the short-secret rule counts as a letter or digit next to a match: `[0-9A-Za-z]` under IGNORECASE."""
    return frozenset(re.findall("[0-9A-Za-z]", _all_chars(), re.IGNORECASE))


def _fold_table(chars: Iterable[str]) -> dict[int, str]:
    """A `str.translate` table mapping each character of a case class met in `chars` to one member. Classes that
    share a member are merged (IGNORECASE matching is an equivalence, so this never happens in practice; merging
    would only mask more)."""
    table: dict[int, str] = {}
    members: dict[str, set[str]] = {}
    for char, found in case_classes(chars).items():
        if ord(char) in table:
            continue
        group = set(found)
        for rep in {table[ord(c)] for c in group if ord(c) in table}:
            group |= members.pop(rep)
        rep = min(group)
        members[rep] = group
        table.update((ord(c), rep) for c in group)
    return table


def _tail(folded: str) -> re.Pattern[str] | None:
    """A pattern whose match after a variant's head is as long as the text keeps following the variant:
    `(?:c(?:d(?:e)?)?)?`. None when there is no tail, or it is too long to nest (then a binary search)."""
    tail = folded[SCRUB_MIN_CHARS:]
    if not tail or len(tail) > MAX_NESTED:
        return None
    pattern = ""
    for char in reversed(tail):
        pattern = f"(?:{re.escape(char)}{pattern})?"
    return re.compile(pattern)


class _Chosen:
    """The spans picked for masking (they never overlap), each with the variant that picked it. A byte per character
    of the text marks what is taken, so every check costs the length of the span asked about, however many spans
    there are."""

    def __init__(self, size: int) -> None:
        self.taken = bytearray(size)
        self.spans: dict[int, tuple[int, int]] = {}  # start -> (end, owner)
        self.owner_at_end: dict[int, int] = {}

    def free(self, start: int, end: int) -> bool:
        return self.taken.find(1, start, end) < 0

    def room(self, start: int, most: int) -> int:
        """How many characters from `start` (at most `most`) are free; 0 when `start` is taken."""
        taken = self.taken.find(1, start, start + most)
        return most if taken < 0 else taken - start

    def add(self, start: int, end: int, owner: int) -> None:
        self.taken[start:end] = b"\x01" * (end - start)
        self.spans[start] = (end, owner)
        self.owner_at_end[end] = owner

    def owner_ending_at(self, pos: int) -> int | None:
        return self.owner_at_end.get(pos)

    def owner_starting_at(self, pos: int) -> int | None:
        span = self.spans.get(pos)
        return None if span is None else span[1]

    def apply(self, text: str) -> str:
        parts, last = [], 0
        for start in sorted(self.spans):
            parts += [text[last:start], REDACTED]
            last = self.spans[start][0]
        parts.append(text[last:])
        return "".join(parts)


class Scrubber:
    """`scrubber(text)`: `text` with the secrets it was built for masked (see the module's docstring)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, ties in code point order: the order in which the sequential definition masks them.
        self.variants = sorted(variants(secrets), key=lambda v: (-len(v), v))
        self.table = _fold_table(c for v in self.variants for c in v)
        self.folded = [v.translate(self.table) for v in self.variants]
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, folded in enumerate(self.folded):
            by_key[folded[:SCRUB_MIN_CHARS]].append(index)  # a long variant by its head, a shorter one whole
        self.by_key = dict(by_key)
        self.key_lengths = sorted({len(key) for key in by_key}, reverse=True)
        self.finder = re.compile("|".join(map(re.escape, sorted(by_key, key=len, reverse=True)))) if by_key else None
        # With few heads, whether a longer text holds any is asked of `str.__contains__` first (C's substring search,
        # about three times faster than the alternation, which tries every head at every place): the same answer.
        self.few = tuple(by_key) if len(by_key) <= FEW_HEADS else None
        self.tails = [_tail(folded) for folded in self.folded]
        self.word = _word_chars() if any(len(v) < SHORT_SECRET_CHARS for v in self.variants) else frozenset()

    def ascii_literals(self) -> frozenset[str] | None:
        """What an ASCII text must hold, without its blanks and lower-cased, for this scrubber to change it: its
        heads and short variants (what `__call__` searches the folded text for) so reduced, those with a character
        no folded ASCII text holds left out. Folding an ASCII character gives an ASCII one of its case pair, so a
        head in the folded text is in the lower-cased one. None when that does not hold of the fold table (classes
        merged) or a head is blanks only: then there is no such set."""
        if any(code < 0x80 and rep.lower() != chr(code).lower() for code, rep in self.table.items()):
            return None
        found = {"".join(key.split()).lower() for key in self.by_key if key.isascii()}
        return None if "" in found else frozenset(found)

    def __call__(self, text: str) -> str:
        if self.finder is None or not text:
            return text
        folded = text.translate(self.table)
        if self.few is not None and len(folded) > FEW_HEADS_TEXT and not any(key in folded for key in self.few):
            return text
        found = self.finder.search(folded)
        if found is None:
            return text
        whole: dict[int, list[int]] = defaultdict(list)  # variant -> where it stands whole
        prefixes: dict[int, list[tuple[int, int]]] = defaultdict(list)  # variant -> (where, longest proper prefix)
        while found is not None:
            at = found.start()
            for length in self.key_lengths:
                for index in self.by_key.get(folded[at:at + length], ()):
                    self._note(folded, at, index, whole, prefixes)
            found = self.finder.search(folded, at + 1)
        chosen = _Chosen(len(text))
        for index, places in sorted(whole.items()):
            self._pick_whole(text, index, places, chosen)
        for index, places in sorted(prefixes.items()):
            self._pick_prefixes(index, places, chosen)
        return chosen.apply(text)

    def _note(self, folded: str, at: int, index: int, whole: dict[int, list[int]],
              prefixes: dict[int, list[tuple[int, int]]]) -> None:
        variant = self.folded[index]
        if len(variant) <= SCRUB_MIN_CHARS:
            whole[index].append(at)
            return
        tail = self.tails[index]  # the head matched: extend it as far as the text follows the variant
        if tail is not None:
            extended = tail.match(folded, at + SCRUB_MIN_CHARS)  # all optional: it always matches
            low = extended.end() - at if extended else SCRUB_MIN_CHARS
        else:
            low, high = SCRUB_MIN_CHARS, min(len(variant), len(folded) - at)
            while low < high:
                mid = (low + high + 1) // 2
                if folded.startswith(variant[low:mid], at + low):
                    low = mid
                else:
                    high = mid - 1
        if low == len(variant):
            whole[index].append(at)
        prefixes[index].append((at, min(low, len(variant) - 1)))

    def _pick_whole(self, text: str, index: int, places: list[int], chosen: _Chosen) -> None:
        size = len(self.variants[index])
        for start in places:
            end = start + size
            if chosen.free(start, end) and (size >= SHORT_SECRET_CHARS or self._alone(text, start, end, index,
                                                                                       chosen)):
                chosen.add(start, end, index)

    def _alone(self, text: str, start: int, end: int, index: int, chosen: _Chosen) -> bool:
        """No letter or digit touches the match. A neighbour masked by another variant is a bracket by then; one
        masked by this same variant is still its own character (one `re.sub` pass sees the text before it)."""
        before = start == 0 or chosen.owner_ending_at(start) not in (None, index) or text[start - 1] not in self.word
        after = end == len(text) or chosen.owner_starting_at(end) not in (None, index) or text[end] not in self.word
        return before and after

    def _pick_prefixes(self, index: int, places: list[tuple[int, int]], chosen: _Chosen) -> None:
        """The longest prefixes first, leftmost first; a prefix cut short by a span masked meanwhile still counts
        down to SCRUB_MIN_CHARS characters. `room[p]`: how long a prefix at p can be now (buckets by length)."""
        room: dict[int, int] = {}
        buckets: dict[int, list[int]] = defaultdict(list)
        for start, longest in places:
            size = chosen.room(start, longest)
            if size >= SCRUB_MIN_CHARS:
                room[start] = size
                buckets[size].append(start)
        if not room:
            return
        starts = sorted(room)
        widest = max(room.values())
        for level in range(widest, SCRUB_MIN_CHARS - 1, -1):
            for start in sorted(buckets.pop(level, ())):
                if room.get(start) != level:
                    continue  # moved to a lower bucket meanwhile
                del room[start]
                if not chosen.free(start, start + level):
                    continue  # inside a span picked at this level, further left
                chosen.add(start, start + level, index)
                i = bisect.bisect_left(starts, start) - 1
                while i >= 0 and starts[i] > start - widest:
                    left = starts[i]
                    size = room.get(left)
                    if size is not None and left + size > start:
                        if start - left >= SCRUB_MIN_CHARS:
                            room[left] = start - left
                            buckets[start - left].append(left)
                        else:
                            del room[left]
                    i -= 1


@functools.lru_cache(maxsize=128)
def scrubber_for(secrets: frozenset[str]) -> Scrubber:
    """One `Scrubber` per set of secrets (a vendor client's ad-hoc lists included), built on first use."""
    return Scrubber(secrets)
