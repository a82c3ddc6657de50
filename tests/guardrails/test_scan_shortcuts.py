"""The value scan's shortcuts (issue 22) find what the plain searches find: the URL search started near each `://`,
the hints' trie, the scheme words by `str.find`, ASCII blanks without the substitutions."""

from __future__ import annotations

import random
import re

from integrations_mcp.guardrails import secret_values
from integrations_mcp.guardrails.secret_values import KNOWN_FORMATS, literal_alternation
from integrations_mcp.guardrails.text import canonical, is_blank

PIECES = ["://", "http", "https://", "a", "Z", "+", ".", "-", " ", '"', "x" * 31, "y" * 32, "q" * 33, "u:p@h", "/",
          "?token=1", "\n", "9", "<", "Bearer", "basic", "token", "digest", "\t", ":", "=", "ghp_", "eyJ", "gl",
          "AKIA", "-----BEGIN ", "sk_live_", "T3BlbkFJ", "SG."]


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_urls_are_the_matches_of_a_search_of_the_whole_text() -> None:
    for text in texts(30_000, 1):
        found = [(m.start(), m.end()) for m in secret_values._urls(text)]
        assert found == [(m.start(), m.end()) for m in secret_values._URL.finditer(text)], text


def test_the_hints_trie_matches_where_a_hint_starts() -> None:
    hints = {h for f in KNOWN_FORMATS for h in f.hints} | {"gl", "glpat", "ab", "abc", "abd"}
    trie = re.compile(literal_alternation(hints))
    flat = re.compile("|".join(map(re.escape, sorted(hints, key=len, reverse=True))))
    for text in [*texts(30_000, 2), "abd", "xabcx", "glpat-"]:
        a, b = trie.search(text), flat.search(text)
        assert (a and a.start()) == (b and b.start()), text


def test_scheme_words_are_found_before_a_blank_colon_or_equals() -> None:
    words = tuple(w + after for w in ("bearer", "basic", "token", "digest") for after in " \t:=")
    for text in texts(30_000, 3):
        lowered = text.lower()
        assert secret_values._has_auth_word(lowered) == any(w in lowered for w in words), text


def test_ascii_blank_is_what_canonical_leaves_empty() -> None:
    rng = random.Random(4)
    alphabet = [chr(c) for c in range(0x80)]
    for text in ["", *alphabet, *("".join(rng.choice(alphabet[:34] + ["a", "\x7f"]) for _ in range(rng.randint(1, 6)))
                                  for _ in range(30_000))]:
        assert is_blank(text) == (not canonical(text)), repr(text)


def test_a_gate_is_in_every_match_of_its_format() -> None:
    """A format with a `gate` is tried only on a text where the gate is found: every match holds a place where it
    is (the Telegram token's 8 digits, colon and 35 token characters; the Discord token's middle part)."""
    rng = random.Random(9)
    gated = [f for f in KNOWN_FORMATS if f.gate]
    pieces = ["1", "12345678", "110201543", "0123456789", "99999999999", ":", ": ", ".", "a", "-", "_", " ", "\uff11",
              "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs", "awX", "MTk4NjIyNDgzNDcxOTI1MjQ4", ".Cl2FMQ.", "ZnCjm1XVW7vRze4b7Cq",
              *(f.sample for f in gated)]
    found = 0
    for text in [*(f.sample for f in gated), *("".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
                                               for _ in range(40_000))]:
        for rule in gated:
            for match in rule.pattern.finditer(text):
                found += 1
                gate = rule.gate_pattern.search(text, match.start())
                assert gate is not None and gate.start() < match.end(), (rule.kind, text)
    assert found > 1_000


def test_the_formats_hinted_are_those_the_scans_try() -> None:
    """`_format_hints` searches an ASCII text without its blanks once for every hint longer than a character, and
    for the one-character ones (`.`, `:`) and their gates only when none is there: the formats it gives are those
    the scans try on the text (`_findings`) and on it without blanks (`_hidden_kinds`), in the same order, so
    the scans given them find the same under all four rule sets. Texts: keys split by spaces or lines, a private
    key's header, the gated formats among UUIDs and colons (a CxEngage list), look-alikes (a full-width colon)."""
    from integrations_mcp.guardrails.secret_values import _findings, _format_hints, _hidden_kinds, _triggers

    rng = random.Random(5)
    samples = [f.sample for f in KNOWN_FORMATS]
    split = ["".join(c + rng.choice(["", "", " ", "\n", "\t"]) for c in sample) for sample in samples * 20]
    pieces = PIECES + ["xoxb-", "HOOKS.SLACK.COM", "MTk4NjIyNDgzNDcxOTI1MjQ4", ".Cl2FMQ.", "110201543:", "plain words",
                       "Xq7Lm2Pz9Rt4Vw8Ks3Nb6Jd1", "9f86d081884c7d659a2feaa0c55ad015", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
                       "5a4db0c5-0000-4000-8000-000000000101: ", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX", "1234567",
                       "110201543\uff1a", "\uff11", "\u200b", "sk_live_ 4eC39Hq", "-----BEGIN RSA PRIVATE KEY-----"]
    plain = [":", ".", " ", "\n", "9", "a", "1234567", "110201543:", "5a4db0c5-0000-4000-8000-000000000101: ",
             "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX", "MTk4NjIyNDgzNDcxOTI1MjQ4", ".Cl2FMQ.", "\uff1a", "plain words"]
    counts = {"none": 0, "one-character hints only": 0, "longer hints": 0}
    for text in [*samples, *split, *(
            "".join(rng.choice(pieces + split[:40]) for _ in range(rng.randint(0, 8))) for _ in range(30_000)), *(
            "".join(rng.choice(plain) for _ in range(rng.randint(0, 8))) for _ in range(5_000))]:
        hints = _format_hints(text)
        if hints is None:
            assert not text.isascii(), text
            continue
        compact = "".join(text.split())
        expected = ([], []) if len(text) < 8 else (
            _triggers(False)(text), _triggers(True)(compact) if compact != text else [])
        assert (list(hints.rules), list(hints.compact_rules)) == expected, text
        tried = (*hints.rules, *hints.compact_rules)
        counts["none" if not tried else "one-character hints only" if all(len(h) == 1 for f in tried for h in f.hints)
               else "longer hints"] += 1
        for entropy, hex_tokens in ((False, False), (True, False), (True, True), (False, True)):
            rules = {"entropy": entropy, "hex_tokens": hex_tokens}
            assert list(_findings(text, **rules)) == list(_findings(text, **rules, hints=hints)), text
            assert _hidden_kinds(text, **rules) == _hidden_kinds(text, **rules, hints=hints), text
    assert min(counts.values()) > 1_000, counts  # every way through is taken


def test_blanks_are_removed_as_split_removes_them() -> None:
    """`without_blanks` deletes an ASCII text's blanks with `bytes.translate`: the characters `str.split()` cuts at."""
    rng = random.Random(6)
    alphabet = [chr(c) for c in range(0x80)] + ["\x85", "\u00a0", "\u2028", "\u3000", "é"]
    for text in ["", *alphabet, *texts(10_000, 7), *("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                                                     for _ in range(30_000))]:
        assert secret_values.without_blanks(text) == "".join(text.split()), repr(text)


def test_plain_string_arguments_get_the_paths_the_walks_find() -> None:
    """`secret_paths` on arguments that are all plain strings without JSON skips the walks: an argument that forces
    them (a list holding nothing secret) changes nothing, under every guard's options."""
    from integrations_mcp.guardrails.secrets import SecretKeys, secret_paths

    keys = SecretKeys.of(("api_key", "password", "token"), fragments=("secret",))
    rng = random.Random(8)
    names = ["integration_id", "user_third_party_integration_id", "description", "name", "api_key", "apiKey",
             "client_secret", "password", "site_third_party_integration", "properties", "ＡＰＩ_ＫＥＹ", "token"]
    values = [*(f.sample for f in KNOWN_FORMATS), "", " ", "AKIAIOSFODNN7EXAMPLE", "sandboxSiteTax000001",
              "Xq7Lm2Pz9Rt4Vw8Ks3Nb6Jd1Qa5Yc0Hf", "9f86d081884c7d659a2feaa0c55ad015", "https://u:p@example.com/",
              ' {"password": "x"}', "[1, 2]", "Bearer abcDEF123456789", "plain words", "sk_live_ 4eC39HqLyjWD arjtT1"]
    options = [{}, {"has_value": lambda _: True, "no_entropy": ("description",),
                    "random_keys": ("site_third_party_integration",)}, {"hex_in": ("properties", "api_key")}]
    for _ in range(3_000):
        arguments = {rng.choice(names): rng.choice(values) + rng.choice(["", "", " x", "\n"])
                     for _ in range(rng.randint(0, 4))}
        for given in options:
            walked = secret_paths({**arguments, "zz_walk": ["x"]}, keys, **given)
            assert secret_paths(arguments, keys, **given) == walked, (arguments, given)


def test_the_hints_searched_in_one_pass_are_those_looked_for_one_by_one() -> None:
    """`_format_hints` searches every hint longer than a character in one pass (`_Triggers.hint_searches`): the same
    answer as each looked for with `in` (a hint without blanks in the text without blanks, one with a blank in the
    text, the case-insensitive ones in them lower-cased); and the trie finds one where `in` finds one."""
    triggers = secret_values._triggers(False)
    hints = {h for f in triggers.rest for h in f.hints}
    kept, lowered = triggers.hint_searches
    rng = random.Random(10)
    spaced = [h[:i] + b + h[i:] for h in [*hints, "xox", "hooks.slack.com"] for i in range(len(h) + 1)
              for b in (" ", "\n", "")]
    cased = [h.upper() for h in hints] + ["XoX", "HOOKS.slack.COM", "-US", "en-US", "token."]
    extra = ["".join(rng.choice(spaced + cased + PIECES) for _ in range(rng.randint(1, 6))) for _ in range(20_000)]
    for text in [*texts(30_000, 9), *extra, *(f.sample for f in KNOWN_FORMATS)]:
        if not text.isascii():
            continue
        compact = secret_values.without_blanks(text)
        plain = any(hint in compact for hint in hints if "".join(hint.split()) == hint)
        one_by_one = plain or any(hint in text for hint in hints if "".join(hint.split()) != hint) \
            or any(hint in compact.lower() or hint in text.lower() for hint, _ in triggers.folded)
        raw = compact.encode()
        assert (kept.found(raw, text) or lowered.found(raw.translate(secret_values.ASCII_LOWER), text)) \
            == one_by_one, text
        assert plain == (triggers.any.search(compact) is not None), text

