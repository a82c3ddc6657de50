"""Secrets recognised by what they look like, wherever they are (a name, a description, an option value).

Known key and token formats come from the rules of Yelp's `detect-secrets` scanner (its regex plugins: AWS, GitHub,
GitLab, Stripe, Slack, JWT, private keys, SendGrid, OpenAI, Discord, ...), kept up to date there rather than copied
here. Around them, what a scanner of source files does not look for in free text: Bearer/Basic values, URL userinfo
(with or without a colon), secret-named query parameters, and long high-entropy tokens. The entropy rule is tuned
to let ordinary values through (UUIDs, hex ids, words joined in camelCase, URLs): see `looks_random`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from integrations_mcp.guardrails.text import fold_key

__all__ = ["Finding", "find_secret_values", "looks_random", "mask_secret_values", "names_random", "secret_kinds"]

# Left out on purpose: basic auth (the URL rule below also finds a token without a colon), Twilio (its "AC..."
# pattern is an account SID, a CxEngage destination, not a secret), Artifactory ("AP" + 9 letters/digits also
# matches ordinary codes), the keyword, IP and vendor-keyword plugins (they read assignments in source files).
_PLUGINS = ("aws.AWSKeyDetector", "azure_storage_key.AzureStorageKeyDetector", "discord.DiscordBotTokenDetector",
            "github_token.GitHubTokenDetector", "gitlab_token.GitLabTokenDetector", "jwt.JwtTokenDetector",
            "mailchimp.MailchimpDetector", "npm.NpmDetector", "openai.OpenAIDetector",
            "private_key.PrivateKeyDetector", "pypi_token.PypiTokenDetector", "sendgrid.SendGridDetector",
            "slack.SlackDetector", "square_oauth.SquareOAuthDetector", "stripe.StripeDetector",
            "telegram_token.TelegramBotTokenDetector")


@functools.cache
def _detectors() -> tuple[tuple[str, re.Pattern[str], bool], ...]:
    """(secret type, regex, is a JWT) of each plugin rule. Imported on first use: detect-secrets' package import
    costs about 0.2 s, which a server start should not pay."""
    rules = []
    for plugin in _PLUGINS:
        module, name = plugin.rsplit(".", 1)
        detector = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)()
        rules += [(detector.secret_type, regex, name == "JwtTokenDetector") for regex in detector.denylist]
    return tuple(rules)


def _formally_valid_jwt(token: str) -> bool:
    from detect_secrets.plugins.jwt import JwtTokenDetector

    return JwtTokenDetector.is_formally_valid(token)

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|SECRET)[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*-----|$)", re.S)
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>bearer|basic|token|digest)\s*[:=]?\s+(?P<value>[A-Za-z0-9._~+/=-]{12,})",
                          re.I)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_TOKEN = re.compile(r"[A-Za-z0-9_+=-]{20,}")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_SEPARATORS = re.compile(r"[-_+=]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F_-]+")
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


def secret_kinds(text: str) -> list[str]:
    """The kinds of secret `text` holds ([] when none)."""
    return sorted({f.kind for f in _findings(text)})


def mask_secret_values(text: str, mask: str = "[redacted]", *, entropy: bool = True) -> str:
    """`text` with every recognised secret replaced by `mask` (for outputs: a vendor record, an error, a log)."""
    findings = sorted(_findings(text, entropy=entropy), key=lambda f: (f.start, -f.end))
    out, at = [], 0
    for f in findings:
        if f.start <= at and out:  # overlapping or touching (a JWT's parts): one mask
            at = max(at, f.end)
            continue
        out += [text[at:f.start], mask]
        at = f.end
    return "".join(out) + text[at:] if findings else text


def find_secret_values(value: Any, *, path: str = "", entropy: bool = True,
                       random_keys: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(path, kind) for every string, at any depth, that holds a recognised secret. Values under keys that name an
    id (`integration_id`, `secure_form_id`, `accountSid`) or under `random_keys` (folded names of public values
    that are random by design, such as an OAuth consumer key) are checked for known formats only."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            random = names_random(key, random_keys)
            yield from find_secret_values(item, path=here, entropy=entropy and not random, random_keys=random_keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_secret_values(item, path=f"{path}[{index}]", entropy=entropy, random_keys=random_keys)
    elif isinstance(value, str):
        kinds = sorted({f.kind for f in _findings(value, entropy=entropy)})
        if kinds:
            yield path, ", ".join(kinds)


def names_random(key: object, random_keys: frozenset[str] = frozenset()) -> bool:
    """Whether values under `key` are random by design: an id (`integration_id`, `accountSid`), or a folded name in
    `random_keys`."""
    k = fold_key(str(key))
    return k.endswith(("id", "ids")) or k in random_keys


def _findings(text: str, *, entropy: bool = True) -> Iterator[Finding]:
    if len(text) < 8:
        return
    for secret_type, regex, jwt in _detectors():
        for match in regex.finditer(text):
            if jwt and not _formally_valid_jwt(match.group(0)):
                continue
            yield Finding(secret_type, match.start(), match.end())
    for match in _PEM.finditer(text):
        yield Finding("Private Key", match.start(), match.end())
    for match in _AUTH_SCHEME.finditer(text):
        if _auth_value_is_secret(match["scheme"].lower(), match["value"]):
            yield Finding(f"{match['scheme'].capitalize()} credentials", match.start("value"), match.end("value"))
    for match in _URL.finditer(text):
        yield from _url_findings(match.group(0), match.start())
    if entropy:
        for match in _AWS_SECRET.finditer(text):
            if looks_random(match.group(0)):
                yield Finding("AWS secret key", match.start(), match.end())
        for match in _TOKEN.finditer(text):
            # Joined words (`CANARY-7f3a9c-not-a-value`) are not random: one segment must be random on its own.
            if any(looks_random(part, min_length=16) for part in _SEPARATORS.split(match.group(0))):
                yield Finding("high-entropy token", match.start(), match.end())


def _auth_value_is_secret(scheme: str, value: str) -> bool:
    if scheme == "basic":
        try:
            return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError):
            return False
    # "Bearer", "Token": a value with digits or mixed case, not a plain word ("token based authentication").
    return any(c.isdigit() for c in value) or (value != value.lower() and value != value.capitalize())


def _url_findings(url: str, offset: int) -> Iterator[Finding]:
    try:
        parts = urlsplit(url)
        userinfo, _, _ = parts.netloc.rpartition("@")
    except ValueError:
        return
    if userinfo:
        user, colon, password = userinfo.partition(":")
        secret = password if colon else user
        # A password always; a user name alone only when it is a token (https://ghp_...@github.com).
        if secret and (colon or looks_random(user, min_length=16) or secret_kinds(user)):
            start = offset + url.index(userinfo) + (len(user) + 1 if colon else 0)
            yield Finding("password in the URL" if colon else "token in the URL", start, start + len(secret))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if fold_key(name) in _SECRET_PARAMS and value:
            at = url.find(value, url.find("?"))
            if at >= 0:
                yield Finding(f"secret in URL parameter {name!r}", offset + at, offset + at + len(value))


def looks_random(token: str, *, min_length: int = 20) -> bool:
    """A long token of mixed letters and digits whose characters are close to uniformly random. Not: UUIDs, hex
    strings (record ids, hashes), words joined with `_`/`-` or in camelCase (`ThirdPartyIntegrationForShop2024`),
    which repeat letters and have long lower-case runs."""
    if len(token) < min_length or _UUID.fullmatch(token) or _HEX.fullmatch(token):
        return False
    letters_digits = [c for c in token if c.isalnum()]
    if not (any(c.isdigit() for c in token) and any(c.isupper() for c in token) and any(c.islower() for c in token)):
        return False
    if max((len(run) for run in re.findall(r"[a-z]+", token)), default=0) > 7:
        return False  # an ordinary word in it: random base62 rarely has 8 lower-case letters in a row
    counts = Counter(letters_digits)
    entropy = -sum(n / len(letters_digits) * math.log2(n / len(letters_digits)) for n in counts.values())
    return entropy >= 0.85 * math.log2(min(len(letters_digits), 62))
