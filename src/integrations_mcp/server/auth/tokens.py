"""Static bearer tokens: `INTEGRATIONS_AUTH_TOKENS_FILE` (one `name token [scope ...]` a line, `#` comments) and
`INTEGRATIONS_AUTH_TOKEN` (principal `default`, every scope). The name is the principal; a token is never logged,
printed or echoed in an error (errors name the file's line instead)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mcp.server.auth.provider import AccessToken

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.toolkit.access import READ_SCOPE, SCOPES, WRITE_SCOPE
from integrations_mcp.vendors.base import is_placeholder

__all__ = ["MIN_TOKEN_LENGTH", "StaticToken", "StaticTokenVerifier", "parse_tokens", "single_token"]

MIN_TOKEN_LENGTH = 24
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII without spaces: what fits in an Authorization header
_HOW = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@dataclass(frozen=True)
class StaticToken:
    name: str
    secret: str = field(repr=False)
    scopes: tuple[str, ...] = SCOPES

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.secret.encode()).digest()


def single_token(secret: str, variable: str = "INTEGRATIONS_AUTH_TOKEN") -> StaticToken:
    _check_secret(secret, variable)
    return StaticToken("default", secret)


def parse_tokens(text: str, source: str) -> tuple[StaticToken, ...]:
    """The tokens of a tokens file; `source` names the file in errors (which never quote a token)."""
    tokens: list[StaticToken] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{source} line {number}"
        if len(words) < 2:
            raise ConfigurationError(f"{where}: expected `name token [scope ...]`.")
        name, secret, scopes = words[0], words[1], tuple(words[2:]) or SCOPES
        if not _NAME.match(name):
            raise ConfigurationError(f"{where}: the name must be letters, digits, '_', '.', '@' or '-'.")
        _check_secret(secret, where)
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ConfigurationError(f"{where}: unknown scope(s) {', '.join(unknown)}; valid: {', '.join(SCOPES)}.")
        if WRITE_SCOPE in scopes and READ_SCOPE not in scopes:
            scopes = (READ_SCOPE, *scopes)  # writing includes reading
        tokens.append(StaticToken(name, secret, scopes))
    return tokens_checked(tokens, source)


def tokens_checked(tokens: Iterable[StaticToken], source: str) -> tuple[StaticToken, ...]:
    """No two tokens share a name (the principal) or a secret."""
    tokens = tuple(tokens)
    names = [t.name for t in tokens]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigurationError(f"{source}: the name(s) {', '.join(twice)} appear more than once; each token "
                                 "needs its own name (it is the principal forms and approvals bind to).")
    if len({t.digest for t in tokens}) != len(tokens):
        raise ConfigurationError(f"{source}: the same token is given twice; give each principal its own token.")
    return tokens


def _check_secret(secret: str, where: str) -> None:
    if len(secret) < MIN_TOKEN_LENGTH or not _TOKEN.match(secret):
        raise ConfigurationError(f"{where}: a token must be at least {MIN_TOKEN_LENGTH} printable characters "
                                 f"without spaces; {_HOW}")
    if is_placeholder(secret):  # a snippet's `your-token-here` would be a guessable credential
        raise ConfigurationError(f"{where}: the token is still a placeholder from an example; {_HOW}")


class StaticTokenVerifier:
    """The SDK's `TokenVerifier` for static tokens. Every configured token is compared (constant time, on SHA-256
    digests so the length of a guess tells nothing), so the time taken does not say which one matched.

    A static token's verdict never changes (no expiry, no revocation short of a restart), so each token's
    `AccessToken` is made on its first match and handed out again (the SDK and the tools only read it): at most one
    per configured token, nothing kept for a guess."""

    def __init__(self, tokens: Iterable[StaticToken]) -> None:
        self._tokens = tuple(tokens)
        self._digests = tuple((token, token.digest) for token in self._tokens)  # made once, not per request
        self._granted: dict[str, AccessToken] = {}  # a configured token's name -> its AccessToken

    def __repr__(self) -> str:
        return f"StaticTokenVerifier(principals={[t.name for t in self._tokens]})"

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: StaticToken | None = None
        for candidate, digest in self._digests:
            if hmac.compare_digest(offered, digest):
                found = candidate
        if found is None:
            return None
        granted = self._granted.get(found.name)
        if granted is None:
            granted = self._granted[found.name] = AccessToken(token=token, client_id=found.name,
                                                              scopes=list(found.scopes),
                                                              claims={"iss": "integrations-mcp:static-token"})
        return granted
