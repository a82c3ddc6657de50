"""The output filter's one-pass check (`outputs._Quiet`, issue 22): a text it lets through as it is would have come
out of the whole filter unchanged. Its answer is a function of the text and the key set: checked on thousands of
generated texts (ASCII and not, format samples and hints, the keys in every variant, look-alikes, blanks, JSON)
under each key set the server runs with, against the whole filter (value scan, then scrubber)."""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import string
from urllib.parse import quote

import pytest

from integrations_mcp.guardrails import outputs
from integrations_mcp.guardrails.secret_values import KNOWN_FORMATS, filter_literals, mask_secret_values
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.guardrails.text import visible
from integrations_mcp.vendors.cxengage import emulator as cxengage
from integrations_mcp.vendors.revcent import emulator as revcent

SANDBOX = [revcent.SANDBOX_API_KEY, cxengage.SANDBOX_API_KEY, cxengage.SANDBOX_API_SECRET]
TOKEN = lambda: secrets.token_urlsafe(32)  # noqa: E731
KEY_SETS = {
    "sandbox keys": SANDBOX,
    "HTTP auth + state key": [*SANDBOX, TOKEN(), secrets.token_hex(32)],
    "team file (6 tokens)": [secrets.token_hex(20), "7f3c2a91-5be0-4c1e-9d7a-2f6b8e0c4d13", TOKEN(),
                             secrets.token_hex(32), *(TOKEN() for _ in range(6))],
    # a write's own values: short, with blanks, with characters whose case class leaves ASCII (K, s), not ASCII
    "odd values": ["hunter2", "ab c", "Kelvin-Ks-ſ", "pässwort-99", "x" * 3, "  spaced secret  "],
}
WORDS = ["integration", "Tax company", "en-US", "es-US", "API token.", "token", "Token:", "Bearer", "basic ",
         "digest=", "://", "https://h.example/p?token=abc", "http://u:p@h", "-----BEGIN ", "-----BEGIN", "gl", "GL",
         "xox", "XOXB-", "hooks.slack.com", "Hooks . Slack . com", ":", ".", "12345678:", "0123456789:", "9:",
         ".abcdef.", "sandboxSiteTax000001", "5a4db0c5-0000-4000-8000-000000000101", "{", "}", '"', ",", "_", "-"]
BLANKS = [" ", "", "", "\n", "\t", "\x0b", "\x1c", "\u00a0", "\u200b", "\u3000"]
LOOK = {"a": "\u0430", "o": "\u043e", "A": "\uff21", "1": "\uff11", "K": "\u212a", "s": "\u017f"}


def forms(key: str, rng: random.Random) -> str:
    cut = key[:rng.choice([len(key), 8, 9, 12, rng.randint(1, len(key))])]
    return rng.choice([cut, cut.upper(), cut.lower(), cut.swapcase(), base64.b64encode(cut.encode()).decode(),
                       quote(cut, safe=""), json.dumps(cut)[1:-1]])


def piece(rng: random.Random, keys: list[str]) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return forms(rng.choice(keys), rng)
    if kind == 1:
        return rng.choice([f.sample for f in KNOWN_FORMATS] + [h for f in KNOWN_FORMATS for h in f.hints])
    if kind == 2:  # a hint or a key split by a blank
        text = rng.choice([h for f in KNOWN_FORMATS for h in f.hints] + [f.sample for f in KNOWN_FORMATS] + keys)
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(BLANKS) + text[at:]
    if kind == 3:  # look-alikes
        return "".join(LOOK.get(c, c) if rng.random() < 0.3 else c for c in rng.choice(WORDS + keys))
    if kind == 4:
        return "".join(rng.choice(string.ascii_letters + string.digits + "_-+/=.:") for _ in range(rng.randint(1, 40)))
    return rng.choice(WORDS)


ORDINARY = ["Integration", "mCELfoK80r3Hl1tWHTO3", '"Bench 0000 e858e5":', "disabled;", "tax,", "native", "Option",
            "tax_company", '"Tax company"', "(required):", "company_id", "(select, required)", "Readiness:",
            "can_enable=false;", "en-US,", "es-US", "API token.", "Example Tax Co (sandbox).", "- tax_settings.x", "\n"]


def generated(keys: list[str], count: int, seed: int) -> list[str]:
    """Mixes of what the filter looks for, and ordinary answers' words with one such piece now and then."""
    rng = random.Random(seed)
    texts = [rng.choice(BLANKS).join(piece(rng, keys) for _ in range(rng.randint(1, 10))) for _ in range(count)]
    texts += [" ".join(piece(rng, keys) if rng.random() < 0.03 else rng.choice(ORDINARY)
                       for _ in range(rng.randint(1, 60))) for _ in range(count)]
    return texts + [json.dumps({piece(rng, keys): [piece(rng, keys), piece(rng, keys)]}) for _ in range(count // 4)]


def whole_filter(known: outputs._Known, text: str) -> str:
    """`_filtered` without its shortcuts: the value scan, then the scrubber."""
    return known.scrubber(mask_secret_values(visible(text), REDACTED, entropy=False))


@pytest.mark.parametrize("name", list(KEY_SETS))
def test_a_quiet_text_passes_the_whole_filter_unchanged(name: str) -> None:
    keys = KEY_SETS[name]
    known = outputs._Known(frozenset(keys))
    quiet = known.quiet
    assert quiet is not None
    texts = generated(keys, 3000, seed=len(name))
    passed = 0
    for text in texts:
        if text.isascii() and quiet(text, text.encode("ascii")):
            passed += 1
            assert whole_filter(known, text) == text, text
        assert outputs._filtered(text, known) == whole_filter(known, text), text
    assert 0.2 * len(texts) < passed < 0.8 * len(texts)  # both ways taken: the test compares something


def test_a_planted_key_or_hint_is_never_quiet() -> None:
    """Each literal the filter needs, planted in ordinary text, stops the one-pass check (a literal set that misses
    one fails here): every key's head in any case, every hint of a format, each scheme word before a blank."""
    keys = KEY_SETS["team file (6 tokens)"]
    known = outputs._Known(frozenset(keys))
    assert known.quiet is not None
    planted = [forms(key, random.Random(n)) for n in range(40) for key in keys]
    planted += [f.sample for f in KNOWN_FORMATS] + ["Bearer abcdefghijkl0123", "see https://u:pw@h.example/x"]
    for middle in planted:
        text = f"Integration 12 \"Tax\": {middle} (active)."
        if whole_filter(known, text) != text:
            assert not known.quiet(text, text.encode()), middle


def test_literals_are_what_the_scans_search_for() -> None:
    """Every hint of a format without a one-character hint is a literal (case kept, or lower-cased for the
    case-insensitive formats), and so are the scheme words and `://`."""
    kept, lowered = filter_literals()
    for rule in KNOWN_FORMATS:
        for hint in rule.hints:
            if len(hint) == 1 and not rule.flags & re.I:
                continue
            joined = "".join(hint.split())
            assert joined.lower() in lowered if rule.flags & re.I else joined in kept, hint
    assert {"bearer", "basic", "token", "digest"} <= lowered.keys() and "://" in kept


def test_a_false_alarm_does_not_hide_a_literal_it_overlaps() -> None:
    """`token` not followed by a blank is no scheme word, but a key's head starting inside it is still found."""
    known = outputs._Known(frozenset({"ken12345abcdef"}))
    assert known.quiet is not None
    text = "see xtoken12345abcdef here"
    assert whole_filter(known, text) != text
    assert not known.quiet(text, text.encode())


def test_a_one_character_gate_matches_inside_any_text_that_holds_its_match() -> None:
    """A gate found in a text is found where the text stands inside another (no anchor, no negative look-around):
    `one_char_formats_quiet` holds of the parts of a text it holds of."""
    rng = random.Random(5)
    for rule in KNOWN_FORMATS:
        if not rule.gate:
            continue
        found = 0
        for _ in range(3000):
            text = "".join(rng.choice(["1", "12345678", ":", ".", "a", "Z", "-", "_", " ", '"', rule.sample])
                           for _ in range(rng.randint(1, 8)))
            if rule.gate_pattern.search(text):
                found += 1
                around = rng.choice(['"', "{", ":", "1", "a", ".", " "])
                assert rule.gate_pattern.search(f'{around}"{text}"{around}'), text
        assert found > 100


def test_no_quiet_check_without_an_ascii_literal_set() -> None:
    """A secret of blanks alone has a head no reduced text can be asked for: every text goes the whole way."""
    known = outputs._Known(frozenset({" \t \t \t \t "}))
    assert known.quiet is None
    assert outputs._filtered("a \t \t \t \t b", known) == whole_filter(known, "a \t \t \t \t b")
