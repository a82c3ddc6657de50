"""Secrets recognised by what they look like, wherever they are (a name, a description, an option value).

Known key and token formats (`KNOWN_FORMATS`): each names its source, the rule of Yelp's `detect-secrets` scanner it
was taken from and/or the vendor's documented format. Around them, what a scanner of source files does not look for
in free text: Bearer/Basic values, URL userinfo (with or without a colon), secret-named query parameters, long
high-entropy tokens and bare 32/40/64-digit hex tokens (a Twilio auth token is 32 hex). The entropy and hex rules
are tuned to let ordinary values through (UUIDs, words joined in camelCase, URLs; ids are exempt by their key): see
`looks_random`.

Untrusted text of any length is scanned here, on the event loop, so every pattern runs in linear time: every
repetition before a literal is bounded, no two unbounded repetitions can trade characters, and each format is
tried only when its literal part (`hint`) is in the text. A text is also scanned in its canonical form
(`text.canonical`: width folded, invisible characters removed), so a key with a zero-width or full-width character
inside is still a key, and with its blanks removed for the formats with a distinctive prefix (a key split by
spaces). Not recognised: a secret split across two values, or encoded (base64, hex of a text).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from integrations_mcp.guardrails.text import canonical_chars, fold_key

__all__ = ["KNOWN_FORMATS", "Finding", "Format", "filter_literals", "find_secret_values", "looks_random",
           "mask_secret_values", "names_random", "one_char_formats_quiet", "one_char_gate_starts", "gate_marks",
           "secret_kinds", "LiteralCheck", "LiteralSearch", "ASCII_BLANKS", "ASCII_LOWER"]


@dataclass(frozen=True, eq=False)  # each format is one object: compared (`in`) by identity, not field by field
class Format:
    """A known key or token format: `pattern` is tried only on a text holding one of the `hints` (all literal)."""

    kind: str
    regex: str
    hints: tuple[str, ...]
    source: str
    sample: str  # a made-up value of the format (tests/guardrails/test_secret_values.py checks each)
    prefixed: bool = True  # its prefix is distinctive enough to look for with blanks removed
    valid: Callable[[str], bool] | None = None
    # Where the format's literal is not at its start: the match is extended back over token characters (at most this
    # many) to the first `start` found there, or dropped if none is.
    back: int = 0
    start: str = ""
    flags: int = 0
    # A format whose hint is common (`:`) is tried only where this regex, which every match satisfies, finds a place.
    gate: str = ""
    # Literals, each of characters side by side (so the text without blanks holds it too), one of which every match
    # of the gate holds: a caller that searched for them all and found none need not try the gate (`outputs._Quiet`).
    marks: tuple[str, ...] = ()

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: 20-odd patterns would cost the server's start-up tens of ms."""
        return re.compile(self.regex, self.flags)

    @functools.cached_property
    def gate_pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.gate) if self.gate else None

    @functools.cached_property
    def folded_hints(self) -> tuple[str, ...] | None:
        """The hints lower-cased when the format ignores case (None when it does not): worked out once, as testing
        `flags & re.I` on every string was half the cost of the output filter's value scan."""
        return tuple(hint.lower() for hint in self.hints) if self.flags & re.I else None


def _jwt_valid(token: str) -> bool:
    """Header and payload are base64url JSON objects (detect-secrets' `JwtTokenDetector.is_formally_valid`)."""
    parts = token.split(".")
    if len(parts) < 2:
        return False
    try:
        for part in parts[:2]:
            if len(part) % 4 == 1:
                return False
            if not isinstance(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))), dict):
                return False
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return True


def _f(kind: str, pattern: str, hints: str | tuple[str, ...], source: str, sample: str, *, flags: int = 0,
       prefixed: bool = True, valid: Callable[[str], bool] | None = None, back: int = 0, start: str = "",
       gate: str = "", marks: tuple[str, ...] = ()) -> Format:
    return Format(kind, pattern, (hints,) if isinstance(hints, str) else hints, source, sample, prefixed, valid, back,
                  start, flags, gate, marks)


_DS = "detect-secrets plugins/"
# Left out on purpose: basic auth (the URL rule below also finds a token without a colon), Twilio's "AC..." rule
# (an account SID, a CxEngage destination, not a secret), Artifactory ("AP" + 9 letters/digits also matches ordinary
# codes), the keyword, IP and vendor-keyword plugins (they read assignments in source files), and AWSKeyDetector's
# `aws...key = '<40 characters>'` assignment (its nested lazy repetitions cost thousands of steps per "aws"; a
# secret key is found by its look instead: `_AWS_SECRET`).
# A format whose body can hold its own prefix starts only where no token character stands before it: otherwise a
# run of repeated prefixes (`eyJeyJeyJ...`) is scanned again from each of them.
KNOWN_FORMATS: tuple[Format, ...] = (
    _f("AWS Access Key", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}", ("A3T", "ABIA", "ACCA", "AKIA", "ASIA"),
       _DS + "aws.py; AWS IAM unique id prefixes", "AKIAIOSFODNN7EXAMPLE", prefixed=False),
    _f("Azure Storage Account access key", r"AccountKey=[a-zA-Z0-9+/=]{88}", "AccountKey=",
       _DS + "azure_storage_key.py", "AccountKey=" + "Zm9vYmFy" * 11),
    # Gated on its middle part (every match holds it): a dot alone is in nearly every text.
    _f("Discord Bot Token", r"[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}", ".",
       _DS + "discord.py", "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs", prefixed=False,
       gate=r"\.[a-zA-Z\d_-]{6}\."),
    _f("GitHub Token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
       _DS + "github_token.py", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    _f("GitHub Token", r"github_pat_[A-Za-z0-9_]{82}", "github_pat_",
       "GitHub docs: fine-grained personal access tokens", "github_pat_" + "11ABCDEFG0" * 8 + "ab"),
    _f("GitLab Token", r"(?<![A-Za-z0-9_-])(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-"
       r"[A-Za-z0-9_-]{20,1024}(?!\w)",
       "gl", _DS + "gitlab_token.py; GitLab docs: token prefixes", "glpat-xYz12AbC34dEf56GhI78"),
    _f("GitLab Token", r"(?<![A-Za-z0-9_-])GR1348941[A-Za-z0-9_-]{20,50}(?!\w)", "GR1348941", _DS + "gitlab_token.py",
       "GR1348941xYz12AbC34dEf56GhI78"),
    _f("JSON Web Token", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{1,4096}={0,2}\.[A-Za-z0-9_=-]+\.?[A-Za-z0-9_.+/=-]*",
       "eyJ", _DS + "jwt.py; RFC 7519",
       "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
       valid=_jwt_valid),
    _f("Mailchimp Access Key", r"(?<![0-9a-z])[0-9a-z]{32}-us[0-9]{1,2}", "-us", _DS + "mailchimp.py",
       "2a4c6e8f0b1d3f5a7c9e1b3d5f7a9c1e-us12", prefixed=False),
    _f("NPM tokens", r"npm_[A-Za-z0-9]{36}", "npm_", _DS + "npm.py; npm docs: access tokens",
       "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    _f("NPM tokens", r":_authToken=[ \t]{0,16}[A-Fa-f0-9-]{36}", ":_authToken=", _DS + "npm.py",
       "//registry.npmjs.org/:_authToken=1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e"),
    # The literal in the middle comes first here: OpenAIToken's `sk-[...]*` would rescan each run for every "sk-".
    _f("OpenAI Token", r"T3BlbkFJ[A-Za-z0-9_-]{20,}", "T3BlbkFJ", _DS + "openai.py",
       "sk-proj-a1B2c3D4e5F6g7H8i9J0T3BlbkFJk1L2m3N4o5P6q7R8s9T0", back=200, start="sk-"),
    _f("Private Key", r"PuTTY-User-Key-File-[23]", "PuTTY-User-Key-File-", _DS + "private_key.py",
       "PuTTY-User-Key-File-3"),
    _f("Private Key", r"-----BEGIN [A-Z0-9 ]{0,20}?(?:PRIVATE KEY|SECRET)[A-Z ]{0,10}-----"
       r"[\s\S]*?(?:-----END [A-Z0-9 ]{0,60}-----|\Z)", "-----BEGIN ", _DS + "private_key.py; RFC 7468",
       "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----"),
    _f("PyPI Token", r"pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{70,}", "pypi-Ag",
       _DS + "pypi_token.py", "pypi-AgEIcHlwaS5vcmc" + "A1b2C3d4E5" * 7),
    _f("SendGrid API Key", r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}", "SG.", _DS + "sendgrid.py",
       "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"),
    _f("Slack Token", r"xox[abposr]-(?:[0-9]{1,32}-){1,8}[a-z0-9]{1,255}", "xox", _DS + "slack.py",
       "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", flags=re.I),
    _f("Slack Token", r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]{1,64}/B[a-zA-Z0-9_]{1,64}/[a-zA-Z0-9_]{1,64}",
       "hooks.slack.com", _DS + "slack.py", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXX",
       flags=re.I),
    _f("Square OAuth Secret", r"sq0csp-[0-9A-Za-z\\_-]{43}", "sq0csp-", _DS + "square_oauth.py",
       "sq0csp-" + "a1B2c3D4e5" * 4 + "xyz"),
    _f("Stripe Access Key", r"[rs]k_live_[0-9a-zA-Z]{24,247}", "k_live_", _DS + "stripe.py; Stripe docs: API keys",
       "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    # Gated on what every match holds around its colon (8 digits before, 35 token characters after): the colon alone
    # is in nearly every text, and a digit before it in every row of a list of UUIDs (`<uuid>: name`). Written digit
    # first (`(?<![0-9])[0-9]{8,10}` as a digit not after a digit, then 7-9 more), so `re` skips to each digit
    # instead of trying the lookbehind at every place.
    _f("Telegram Bot Token", r"[0-9](?<![0-9][0-9])[0-9]{7,9}:[0-9A-Za-z_-]{35}", ":", _DS + "telegram_token.py",
       "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX", prefixed=False, gate=r":(?<=[0-9]{8}:)[0-9A-Za-z_-]{35}",
       marks=tuple(f"{digit}:" for digit in string.digits)),
)

_AUTH_SCHEME = re.compile(r"\b(?P<scheme>bearer|basic|token|digest)(?:[ \t]{0,8}[:=])?[ \t]{1,8}"
                          r"(?P<value>[A-Za-z0-9._~+/=-]{12,})", re.I)
# _AUTH_SCHEME's schemes, and what must follow one there (a blank, or `:`/`=`).
_AUTH_WORDS = ("bearer", "basic", "token", "digest")
_AUTH_AFTER = frozenset(" \t:=")


def _has_auth_word(lowered: str) -> bool:
    """A scheme's word followed by a blank, `:` or `=`: each word found by `str.find` (four searches in C, where a test
    per word and following character was sixteen)."""
    for word in _AUTH_WORDS:
        at = lowered.find(word)
        while at >= 0:
            after = at + len(word)
            if after < len(lowered) and lowered[after] in _AUTH_AFTER:
                return True
            at = lowered.find(word, after)
    return False
# The scheme is bounded: `[A-Za-z][A-Za-z0-9+.-]*://` scanned each run of letters once per letter (quadratic).
_URL = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s\"'<>]+")
_TOKEN = re.compile(r"[A-Za-z0-9_+=-]{20,}")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z_-])[0-9a-fA-F]{32,64}(?![0-9A-Za-z_-])")
_HEX_LENGTHS = (32, 40, 64)  # MD5-sized (a Twilio auth token), SHA-1-sized and SHA-256-sized secrets
_SEPARATORS = re.compile(r"[-_+=]+")
_LOWER_RUN = re.compile(r"[a-z]{8}")
_DIGIT, _UPPER, _LOWER = re.compile(r"\d"), re.compile(r"[A-Z]"), re.compile(r"[a-z]")
_NOT_ALNUM = re.compile(r"[\W_]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F_-]+")
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]*")
# Query parameters that carry a credential when they have a value (compared after fold_key).
_SECRET_PARAMS = frozenset({"apikey", "key", "token", "accesstoken", "authtoken", "refreshtoken", "idtoken",
                            "secret", "clientsecret", "password", "passwd", "pwd", "pass", "sig", "signature",
                            "auth", "authorization", "sessionid", "session", "privatekey", "apisecret", "xapikey",
                            "code", "jwt", "bearer", "credential", "credentials"})


@dataclass(frozen=True)
class Finding:
    """A secret inside a text: what kind (never the value) and where it stands."""

    kind: str
    start: int
    end: int


# Short texts found to hold nothing (keys, type names, dates: the same few in every record) are not scanned again:
# per set of rules, at most CLEAN_MAX_TEXTS (emptied when full), each of them a text judged free of secrets.
CLEAN_MAX_CHARS = 64
CLEAN_MAX_TEXTS = 2048
_CLEAN: dict[tuple[bool, bool], dict[str, None]] = {(e, h): {} for e in (False, True) for h in (False, True)}


# A text clean under more rules is clean under fewer: the entropy and hex rules only add findings, to the text and to
# its canonical form alike (so `_hidden_kinds` finds nothing either). A vendor's name or description masked for a view
# (entropy rule on) is then not scanned again by the output filter (off).
# The same rules' set first.
_STRICTER = {(e, h): [_CLEAN[e, h], *(_CLEAN[e2, h2] for e2 in (False, True) for h2 in (False, True)
                                      if e2 >= e and h2 >= h and (e2, h2) != (e, h))]
             for e in (False, True) for h in (False, True)}


def _known_clean(text: str, entropy: bool, hex_tokens: bool) -> bool:
    if len(text) > CLEAN_MAX_CHARS:
        return False
    for clean in _STRICTER[bool(entropy), bool(hex_tokens)]:  # noqa: SIM110 (a loop: no generator per text)
        if text in clean:
            return True
    return False


def _note_clean(text: str, entropy: bool, hex_tokens: bool) -> None:
    if len(text) <= CLEAN_MAX_CHARS:
        clean = _CLEAN[bool(entropy), bool(hex_tokens)]
        if len(clean) >= CLEAN_MAX_TEXTS:
            clean.clear()
        clean[text] = None


def secret_kinds(text: str, *, entropy: bool = True, hex_tokens: bool = False) -> list[str]:
    """The kinds of secret `text` holds ([] when none), in the text as given or in its canonical form. With
    `hex_tokens` (where a credential belongs: an integration's properties, a typed option value), a bare 32-, 40- or
    64-digit hex token counts too (a Twilio auth token is 32 hex); elsewhere such a token is a hash or a record id."""
    if _known_clean(text, entropy, hex_tokens):
        return []
    hints = _format_hints(text)
    kinds = sorted({f.kind for f in _findings(text, entropy=entropy, hex_tokens=hex_tokens, hints=hints)}
                   | _hidden_kinds(text, entropy=entropy, hex_tokens=hex_tokens, hints=hints))
    if not kinds:
        _note_clean(text, entropy, hex_tokens)
    return kinds


def mask_secret_values(text: str, mask: str = "[redacted]", *, entropy: bool = True) -> str:
    """`text` with every recognised secret replaced by `mask` (for outputs: a vendor record, an error, a log). A
    secret disguised by invisible or full-width characters is masked in the canonical form of the text, which is
    then what is returned."""
    if _known_clean(text, entropy, False):
        return text
    hints = _format_hints(text)
    hidden = _hidden_kinds(text, entropy=entropy, hints=hints)
    if hidden:
        text = canonical_chars(text)  # (an ASCII text, the only one with `hints`, is its own canonical form)
    findings = sorted(_findings(text, entropy=entropy, hints=hints), key=lambda f: (f.start, -f.end))
    if not hidden and not findings:
        _note_clean(text, entropy, False)
        return text
    if hidden - {f.kind for f in findings}:
        return mask  # a key split by blanks: where it stands is lost with the blanks, so the whole text goes
    out, at = [], 0
    for f in findings:
        if f.start <= at and out:  # overlapping or touching (a JWT's parts): one mask
            at = max(at, f.end)
            continue
        out += [text[at:f.start], mask]
        at = f.end
    return "".join(out) + text[at:] if findings else text


def find_secret_values(value: Any, *, path: str = "", entropy: bool = True, hex_tokens: bool = False,
                       random_keys: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(path, kind) for every string, at any depth, that holds a recognised secret. Values under keys that name an
    id (`integration_id`, `secure_form_id`, `accountSid`) or under `random_keys` (folded names of public values
    that are random by design, such as an OAuth consumer key) are checked for known formats only."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            random = names_random(key, random_keys)
            yield from find_secret_values(item, path=here, entropy=entropy and not random,
                                          hex_tokens=hex_tokens and not random, random_keys=random_keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_secret_values(item, path=f"{path}[{index}]", entropy=entropy, hex_tokens=hex_tokens,
                                          random_keys=random_keys)
    elif isinstance(value, str):
        kinds = secret_kinds(value, entropy=entropy, hex_tokens=hex_tokens)
        if kinds:
            yield path, ", ".join(kinds)


def names_random(key: object, random_keys: frozenset[str] = frozenset()) -> bool:
    """Whether values under `key` are random by design: an id (`integration_id`, `accountSid`), or a folded name in
    `random_keys`."""
    k = fold_key(str(key))
    return k.endswith(("id", "ids")) or k in random_keys


def _hidden_kinds(text: str, *, entropy: bool, hex_tokens: bool = False, hints: _Hints | None = None) -> set[str]:
    """Kinds found only once the text is canonical (a zero-width or full-width character inside a key) or only with
    its blanks removed (a key split by spaces or line breaks; formats with a distinctive prefix only). `hints`: the
    text's `_format_hints` (None: looked for here)."""
    if len(text) < 8 or hints is not None and not hints.compact_rules:
        return set()
    kinds: set[str] = set()
    seen = canonical_chars(text)
    if seen != text:
        kinds |= {f.kind for f in _findings(seen, entropy=entropy, hex_tokens=hex_tokens)} \
            - {f.kind for f in _findings(text, entropy=entropy, hex_tokens=hex_tokens)}
    compact = without_blanks(seen)  # every blank removed (str.isspace, the same characters as the regex `\s`)
    if compact != seen:
        rules = _triggers(True)(compact) if hints is None else hints.compact_rules
        # A digit in the joined match: words of prose joined after a prefix (`use sk_live_ keys for ...`) are not.
        joined = {f.kind for f in _rules_findings(rules, compact) if _DIGIT.search(compact, f.start, f.end)}
        if joined:  # nearly never: the text with its blanks is scanned only then
            kinds |= joined - {f.kind for f in _prefixed_findings(seen)}
    return kinds


class _Hints(NamedTuple):
    """The formats an ASCII text may hold (`_format_hints`)."""

    rules: Sequence[Format]  # those `_findings` would try on the text
    compact_rules: Sequence[Format]  # the prefixed ones it would try on the text without its blanks (`_hidden_kinds`)


_NO_HINTS = _Hints((), ())  # nearly every text (one object, made once)


def _format_hints(text: str) -> _Hints | None:
    """The formats worth trying on `text` (`_Hints`): the same as the scans find for themselves, found by searching
    an ASCII text with its blanks removed once for every format's hint longer than a character (`_hint_literals`, one
    Aho-Corasick pass case kept and one lower-cased), where they searched the text and that one each. A hint without
    blanks in the text is in it without blanks too; the few hints with a blank (`-----BEGIN `) are checked in the
    text. Only when one is there are both searched as the scans search;
    otherwise only the one-character hints (`.`, `:`) can be there: the formats of those found (and their gates).
    None for a text that is not ASCII: its canonical form may differ (`canonical_chars`), the scans decide."""
    if len(text) < 8:
        return _NO_HINTS  # neither scan looks at a text this short
    if not text.isascii():
        return None
    triggers, prefixed = _triggers(False), _triggers(True)
    raw = text.encode("ascii").translate(None, ASCII_BLANKS)
    compact = raw.decode("ascii")
    kept, lowered = triggers.hint_searches
    if kept.found(raw, text) or lowered.found(raw.translate(ASCII_LOWER), text):
        return _Hints(triggers(text), prefixed(compact) if compact != text else ())
    rules, compact_rules = triggers.singles(text), prefixed.singles(compact) if compact != text else ()
    return _Hints(rules, compact_rules) if rules or compact_rules else _NO_HINTS


# The ASCII characters `str.split()` cuts at (`str.isspace`: blanks, line breaks and the four separators \x1c-\x1f),
# for `bytes.translate` to delete; and its table from ASCII upper case to lower case (`str.lower` of ASCII text).
ASCII_BLANKS = bytes(code for code in range(128) if chr(code).isspace())
ASCII_LOWER = bytes.maketrans(string.ascii_uppercase.encode(), string.ascii_lowercase.encode())


def without_blanks(text: str) -> str:
    """`"".join(text.split())`; an ASCII text's blanks are deleted by one `bytes.translate`, in a fifth of the time
    (`split` first makes a list of the words)."""
    if text.isascii():
        return text.encode("ascii").translate(None, ASCII_BLANKS).decode("ascii")
    return "".join(text.split())


# A literal's check (`filter_literals`): None when finding the literal is finding what the scan looks for, else what
# must hold of the text too (the literal was reduced: a blank or the case of the text dropped).
LiteralCheck = Callable[[str], bool] | None


def filter_literals() -> tuple[dict[str, LiteralCheck], dict[str, LiteralCheck]]:
    """What `mask_secret_values(text, entropy=False)` looks for in an ASCII text, besides the formats of one-character
    hints (`one_char_formats_quiet`), as literals of the text without its blanks: (case kept, lower-cased), each with
    its check. The scan finds nothing where none is found whose check holds (`outputs._Quiet`): the hints longer than
    a character (`_hint_literals`), `://` (the URL rule's, checked in the text) and the auth schemes' words, lower-cased
    (checked as `_findings` does: followed by a blank, `:` or `=`)."""
    kept, lowered = _hint_literals(_triggers(False))
    return {**kept, "://": _has_url_marker}, {**lowered, **dict.fromkeys(_AUTH_WORDS, _has_lowered_auth_word)}


def _hint_literals(triggers: _Triggers) -> tuple[dict[str, LiteralCheck], dict[str, LiteralCheck]]:
    """The hints `_format_hints` looks for before the one-character ones, as literals of the text without blanks:
    case kept, and lower-cased for the case-insensitive formats. A hint with a blank is that literal without it,
    checked in the text (lower-cased); removing blanks and lower-casing keep an occurrence."""
    kept: dict[str, list[LiteralCheck]] = {}
    for hint in {h for f in triggers.rest for h in f.hints}:
        joined = "".join(hint.split())
        kept.setdefault(joined, []).append(None if joined == hint else functools.partial(_holds, hint))
    lowered: dict[str, list[LiteralCheck]] = {}
    for hint, _ in triggers.folded:
        joined = "".join(hint.split())
        lowered.setdefault(joined, []).append(None if joined == hint else functools.partial(_holds_lowered, hint))
    return {k: _any_check(v) for k, v in kept.items()}, {k: _any_check(v) for k, v in lowered.items()}


class LiteralSearch:
    """Whether a text holds one of a set of literals whose check holds (`LiteralCheck`), asked of a reduced form of
    it (`haystack`, bytes): one Aho-Corasick pass in C for all of them (`ahocorasick-rs`), where one `in` each cost
    ~60 instructions a character for the 30 hints. Every occurrence is looked at, overlapping: a false alarm must not
    hide a literal it overlaps."""

    def __init__(self, literals: dict[str, LiteralCheck]) -> None:
        import ahocorasick_rs  # imported on first use: a server that only lists its tools never loads it

        ordered = sorted(literals)
        self.finder = ahocorasick_rs.BytesAhoCorasick([literal.encode() for literal in ordered])
        self.checks = [literals[literal] for literal in ordered]

    def found(self, haystack: bytes, text: str) -> bool:
        for index, _, _ in self.finder.find_matches_as_indexes(haystack, overlapping=True):
            check = self.checks[index]
            if check is None or check(text):
                return True
        return False


def _any_check(checks: list[LiteralCheck]) -> LiteralCheck:
    if None in checks:
        return None
    return checks[0] if len(checks) == 1 else lambda text: any(check(text) for check in checks)  # type: ignore[misc]


def _holds(literal: str, text: str) -> bool:
    return literal in text


def _holds_lowered(literal: str, text: str) -> bool:
    return literal in text.lower()


def _has_url_marker(text: str) -> bool:
    return "://" in text  # what `_urls` starts from


def _has_lowered_auth_word(text: str) -> bool:
    return _has_auth_word(text.lower())


def one_char_formats_quiet(text: str, unmarked: tuple[Format, ...] = ()) -> bool:
    """No format of a one-character hint (`.`, `:`) is worth trying on `text` or on it without blanks: the hint or
    its gate is not there (`_Triggers.singles`). A gate is a positive pattern (no anchor, no negative look-around): a
    text holding one where it matches matches too, so this holds of the parts of a text it holds of. `unmarked`:
    formats none of whose gate marks (`Format.marks`) the caller found in the text without blanks (their gates
    cannot match)."""
    if _triggers(False).singles(text, unmarked):
        return False
    prefixed = _triggers(True)
    return not prefixed.single or not prefixed.singles(without_blanks(text))


def gate_marks() -> dict[str, list[Format]]:
    """Each gate mark (`Format.marks`) of the formats of one-character hints, with the formats it marks."""
    marks: dict[str, list[Format]] = {}
    for _, rule in _triggers(False).single:
        for mark in rule.marks:
            if rule not in marks.setdefault(mark, []):
                marks[mark].append(rule)
    return marks


def one_char_gate_starts(text: str, unmarked: tuple[Format, ...] = ()) -> list[int] | None:
    """Where in `text` a format of a one-character hint is worth trying (`one_char_formats_quiet` asks whether there
    is any such place): every place where its gate (the hint itself, for a format without one) matches, each place
    tried (a match does not hide one starting inside it); `unmarked` as there. None when a format of the text
    without blanks has a one-character hint (none has today)."""
    if _triggers(True).single:
        return None
    starts: list[int] = []
    for hint, rule in _triggers(False).single:
        if hint in text and rule not in unmarked:
            pattern = rule.gate_pattern or re.compile(re.escape(hint))
            at = 0
            while (match := pattern.search(text, at)) is not None:
                starts.append(match.start())
                at = match.start() + 1
    return starts


def _prefixed_findings(text: str) -> Iterator[Finding]:
    return _rules_findings(_triggers(True)(text), text)


class _Triggers:
    """Which formats a text may hold, found with one search instead of a test per format: the formats whose hints
    are single characters (`.`, `:`) are tested alone (then on their `gate`, which every match satisfies), the
    case-insensitive ones on the lower-cased text as before, and every other hint is one alternation; only when it
    matches are those formats' hints tested one by one. The alternation finds every text one of its hints is in and
    a gate every text a match is in, so every format that could match is tried."""

    def __init__(self, formats: tuple[Format, ...]) -> None:
        single = tuple(f for f in formats if not f.flags & re.I and all(len(h) == 1 for h in f.hints))
        folded = tuple(f for f in formats if f.flags & re.I)
        self.rest = tuple(f for f in formats if f not in single and f not in folded)
        # (hint, format) pairs: a format is tried once, however many of its hints the text holds.
        self.single = tuple((h, f) for f in single for h in f.hints)
        self.folded = tuple((h, f) for f in folded for h in f.folded_hints or ())
        hints = {h for f in self.rest for h in f.hints}
        self.any = re.compile(literal_alternation(hints)) if hints else None

    @functools.cached_property
    def hint_searches(self) -> tuple[LiteralSearch, LiteralSearch]:
        """`_format_hints`' search for every hint longer than a character: (case kept, lower-cased)."""
        kept, lowered = _hint_literals(self)
        return LiteralSearch(kept), LiteralSearch(lowered)

    def singles(self, text: str, unmarked: tuple[Format, ...] = ()) -> list[Format]:
        """The formats of the one-character hints in `text` whose gate is there too (`unmarked`: formats whose gate
        is known not to be there: `one_char_formats_quiet`)."""
        rules: list[Format] = []
        for hint, rule in self.single:  # (none for the prefixed formats today)
            if hint in text and rule not in rules and rule not in unmarked \
                    and (rule.gate_pattern is None or rule.gate_pattern.search(text)):
                rules.append(rule)
        return rules

    def __call__(self, text: str) -> list[Format]:
        rules = self.singles(text)
        if self.folded:
            lowered = text.lower()
            for hint, rule in self.folded:
                if hint in lowered and rule not in rules:
                    rules.append(rule)
        if self.any is not None and self.any.search(text) is not None:
            rules += [f for f in self.rest if any(hint in text for hint in f.hints)]
        return rules


def literal_alternation(words: Iterable[str]) -> str:
    """A regex that matches where any of `words` (non-empty literals) starts, as a trie (`gh(?:o_|p_)|AKIA`): `re`
    tries a flat alternation's words one by one at every place, a trie's branches only past their shared start."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + emit(rest) if char else "" for char, rest in sorted(node.items())]
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return emit(tree)


@functools.cache
def _triggers(prefixed_only: bool) -> _Triggers:
    """Built on first use (start-up does not compile them)."""
    return _Triggers(tuple(f for f in KNOWN_FORMATS if f.prefixed or not prefixed_only))


def _rules_findings(rules: Iterable[Format], text: str) -> Iterator[Finding]:
    """The matches of each of `rules` in `text`."""
    for rule in rules:
        for match in rule.pattern.finditer(text):
            start = match.start()
            if rule.back:
                run = _TOKEN_RUN.match(text[max(0, start - rule.back):start][::-1])  # read backwards, anchored
                at = text.find(rule.start, start - run.end(), start)
                if at < 0:
                    continue
                start = at
            if rule.valid is None or rule.valid(text[start:match.end()]):
                yield Finding(rule.kind, start, match.end())


def _findings(text: str, *, entropy: bool = True, hex_tokens: bool = False,
              hints: _Hints | None = None) -> Iterator[Finding]:
    """`hints`: the text's `_format_hints`, the formats tried (None: looked for here)."""
    if len(text) < 8:
        return
    if hints is None or hints.rules:
        yield from _rules_findings(_triggers(False)(text) if hints is None else hints.rules, text)
    # An ASCII text without a scheme's word cannot match (IGNORECASE matches an ASCII letter only with ASCII letters
    # and the Kelvin sign, long s and dotted/dotless i, none of them ASCII).
    auth = not text.isascii() or _has_auth_word(text.lower())
    for match in _AUTH_SCHEME.finditer(text) if auth else ():
        if _auth_value_is_secret(match["scheme"].lower(), match["value"]):
            yield Finding(f"{match['scheme'].capitalize()} credentials", match.start("value"), match.end("value"))
    for match in _urls(text):
        yield from _url_findings(match.group(0), match.start())
    if entropy:
        for match in _AWS_SECRET.finditer(text):
            if looks_random(match.group(0)):
                yield Finding("AWS secret key", match.start(), match.end())
        for match in _TOKEN.finditer(text):
            # Joined words (`CANARY-7f3a9c-not-a-value`) are not random: one segment must be random on its own.
            if any(looks_random(part, min_length=16) for part in _SEPARATORS.split(match.group(0))):
                yield Finding("high-entropy token", match.start(), match.end())
    if hex_tokens:
        for match in _HEX_TOKEN.finditer(text):
            token = match.group(0)
            if len(token) in _HEX_LENGTHS and not token.isdigit() and not token.isalpha():
                yield Finding("hex token", match.start(), match.end())


def _urls(text: str) -> Iterator[re.Match[str]]:
    """`_URL.finditer(text)`, each search started where a match can start: at most 32 characters (its scheme) before
    the next `://`, which every match holds; `_URL` tried at every letter of the text otherwise, and after the last
    URL to its end. (A search started there sees the characters before it: its lookbehind is unchanged.)"""
    at = 0
    while (scheme_end := text.find("://", at)) >= 0:
        match = _URL.search(text, max(at, scheme_end - 32))
        if match is None:
            return
        yield match
        at = match.end()


def _auth_value_is_secret(scheme: str, value: str) -> bool:
    if scheme == "basic":
        try:
            return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError):
            return False
    # "Bearer", "Token": a value with digits or mixed case, not a plain word ("token based authentication").
    return any(c.isdigit() for c in value) or (value != value.lower() and value != value.capitalize())


def _url_findings(url: str, offset: int) -> Iterator[Finding]:
    """The password or token in the userinfo, and secret-named query parameters, found in one pass (each parameter's
    place is counted, not searched for: a search per parameter is quadratic in their number)."""
    rest = url.split("://", 1)[1]
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and userinfo:
        user, colon, password = userinfo.partition(":")
        secret = password if colon else user
        # A password always; a user name alone only when it is a token (https://ghp_...@github.com).
        if secret and (colon or looks_random(user, min_length=16) or secret_kinds(user)):
            start = offset + url.index("://") + 3 + (len(user) + 1 if colon else 0)
            yield Finding("password in the URL" if colon else "token in the URL", start, start + len(secret))
    query_at = url.find("?")
    if query_at < 0:
        return
    pos = offset + query_at + 1
    for part in url[query_at + 1:].split("#", 1)[0].split("&"):
        name, eq, value = part.partition("=")
        if eq and value and len(name) <= 64 and fold_key(unquote(name)) in _SECRET_PARAMS:
            start = pos + len(name) + 1
            yield Finding(f"secret in URL parameter {unquote(name)[:64]!r}", start, start + len(value))
        pos += len(part) + 1


def looks_random(token: str, *, min_length: int = 20) -> bool:
    """A long token of mixed letters and digits whose characters are close to uniformly random. Not: UUIDs, hex
    strings (record ids, hashes), words joined with `_`/`-` or in camelCase (`ThirdPartyIntegrationForShop2024`),
    which repeat letters and have long lower-case runs."""
    if len(token) < min_length or _UUID.fullmatch(token) or _HEX.fullmatch(token):
        return False
    if not (_DIGIT.search(token) and _UPPER.search(token) and _LOWER.search(token)):
        return False
    if _LOWER_RUN.search(token):
        return False  # an ordinary word in it: random base62 rarely has 8 lower-case letters in a row
    letters_digits = _NOT_ALNUM.sub("", token)
    n = len(letters_digits)
    entropy = -sum(k / n * math.log2(k / n) for k in Counter(letters_digits).values())
    return entropy >= 0.85 * math.log2(min(n, 62))
