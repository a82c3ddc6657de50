"""Every setting, read in one place: the environment (INTEGRATIONS_*, and each vendor's own variables through its
`settings_from_env`) with the command line's flags on top. A bad value is a `ConfigurationError` naming the
variable; the CLI prints it on one line and exits with code 2."""

from __future__ import annotations

import importlib.util
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from integrations_mcp.approvals.kinds import DEFAULT_APPROVER_ROLE, ChangeKind
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.limits import Limits
from integrations_mcp.loopback import is_loopback
from integrations_mcp.pipeline.policy import ConfirmationPolicy
from integrations_mcp.server.auth.tokens import StaticToken, parse_tokens, single_token, tokens_checked
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.state import default_url
from integrations_mcp.state.keys import MIN_KEY_CHARS
from integrations_mcp.state.store import checked_url
from integrations_mcp.vendors.base import is_placeholder

__all__ = ["LOG_LEVELS", "SANDBOX_STATE_URL", "Settings", "load_settings"]

SANDBOX_STATE_URL = "sqlite+aiosqlite:///:memory:"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRANSPORTS = ("stdio", "http")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    vendors: Mapping[str, Any] = field(default_factory=dict)  # vendor name -> its settings, configured ones only
    read_only: bool = False
    timeout_seconds: float = 20.0
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # The operator's view (docs/operations.md): JSON log lines, /metrics on the HTTP listener, OTLP export (from the
    # standard OTEL_* variables).
    log_format: str = "text"
    metrics: bool = False
    otlp_traces: bool = False
    otlp_metrics: bool = False
    allowed_hosts: tuple[str, ...] = ()  # extra Host values accepted over HTTP (loopback always is)
    allowed_origins: tuple[str, ...] = ()
    public_url: str | None = None  # where people open the server's own pages, when not the listener itself
    # stdio: where the server's own page listener binds (0: any free port); HTTP serves the pages on its listener.
    forms_host: str = "127.0.0.1"
    forms_port: int = 0
    sandbox: bool = False
    confirmation: ConfirmationPolicy = ConfirmationPolicy.PERSON  # who confirms risky changes
    approval_minutes: float = 10.0  # how long an approval (or a confirmation token) stays valid
    # How long a tool waits for a secure form or approval page the client opened (progress notifications meanwhile);
    # after that it answers that the form is not completed yet. Clients time tool calls out, so keep it short.
    form_wait_seconds: float = 120.0
    # Vendor variables that still hold a snippet's placeholder ("…", "your-…", "<…>", "${…}"): read as not set.
    placeholders: tuple[str, ...] = ()
    # HTTP transport: who may call (server/auth/), and which proxies' X-Forwarded-* headers are believed.
    auth_tokens: tuple[StaticToken, ...] = ()
    oauth_issuer: str | None = None
    oauth_jwks_url: str | None = None
    oauth_audience: str | None = None
    allow_unauthenticated_remote: bool = False
    trusted_proxies: tuple[str, ...] = ()  # IP addresses or networks
    # Capacity and fair shares at the edges (limits.py): INTEGRATIONS_MAX_IN_FLIGHT, _MAX_CONNECTIONS,
    # _HEADER_TIMEOUT, _MAX_BODY_BYTES, _CLIENT_MAX_SESSIONS, _CLIENT_REQUESTS_PER_MINUTE, _CLIENT_MAX_IN_FLIGHT,
    # _MAX_OPEN_FORMS, _MAX_PENDING_APPROVALS (LIMIT_VARIABLES).
    limits: Limits = field(default_factory=Limits)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_tokens) or self.oauth_issuer is not None
    # Approvers sign in on the approval and form pages (pages/signin/): the methods, who may approve, for how long.
    signin: tuple[str, ...] = ()  # "oidc", "passkey"; () = the pages count any decision sent from them
    approver_role: str = DEFAULT_APPROVER_ROLE
    separate_approver: tuple[str, ...] = ()  # kinds of change the person who asked may not approve (approvals.kinds)
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_roles_claim: str = "roles"  # the ID token's (or userinfo's) claim holding roles, groups or scopes
    signin_minutes: float = 30.0  # how long a sign-in lasts on the pages
    # The state database (journal, spent forms). Settings() keeps it in memory; load_settings defaults to a file.
    state_url: str = "sqlite+aiosqlite:///:memory:"
    journal_days: float = 90.0  # how long the change journal keeps a change
    # Shared by replicas: approvals' digest key, the HTTP session binding and secrets at rest derive from it.
    state_key: str | None = field(default=None, repr=False)

    @property
    def configured_vendors(self) -> list[str]:
        return [vendor.name for vendor in VENDORS if self.vendors.get(vendor.name) is not None]


def load_settings(env: Mapping[str, str], **flags: Any) -> Settings:
    """Settings from `env`, overridden by the command-line `flags` that were given (None means not given)."""
    given = {key: value for key, value in flags.items() if value is not None}
    sandbox = bool(given.get("sandbox"))
    return _checked(Settings(
        # Under --sandbox the emulators provide the vendor settings (server/sandbox.py), not the environment.
        vendors={} if sandbox else _vendors(env),
        read_only=bool(given.get("read_only")) or _boolean(env, "INTEGRATIONS_READ_ONLY"),
        timeout_seconds=_number(env, "INTEGRATIONS_HTTP_TIMEOUT", 20.0),
        transport=_choice(given.get("transport") or env.get("INTEGRATIONS_TRANSPORT", "").strip().lower() or "stdio",
                          TRANSPORTS, "INTEGRATIONS_TRANSPORT (--transport)"),
        host=given.get("host") or env.get("INTEGRATIONS_HOST", "").strip() or "127.0.0.1",
        port=given["port"] if "port" in given else _port(env),
        log_level=_choice((given.get("log_level") or env.get("INTEGRATIONS_LOG_LEVEL", "").strip() or "INFO").upper(),
                          LOG_LEVELS, "INTEGRATIONS_LOG_LEVEL (--log-level)"),
        **_telemetry(env),
        allowed_hosts=_list(env, "INTEGRATIONS_ALLOWED_HOSTS"),
        allowed_origins=_list(env, "INTEGRATIONS_ALLOWED_ORIGINS"),
        public_url=_public_url(env),
        **_forms_listener(env),
        sandbox=sandbox,
        confirmation=ConfirmationPolicy(_choice(env.get("INTEGRATIONS_CONFIRMATION", "").strip().lower() or "person",
                                                tuple(ConfirmationPolicy), "INTEGRATIONS_CONFIRMATION")),
        approval_minutes=_number(env, "INTEGRATIONS_APPROVAL_MINUTES", 10.0, unit="minutes"),
        form_wait_seconds=_number(env, "INTEGRATIONS_FORM_WAIT_SECONDS", 120.0),
        placeholders=() if sandbox else _placeholders(env),
        auth_tokens=_auth_tokens(env),
        **_oauth(env),
        allow_unauthenticated_remote=bool(given.get("allow_unauthenticated_remote"))
        or _boolean(env, "INTEGRATIONS_ALLOW_UNAUTHENTICATED_REMOTE"),
        trusted_proxies=_networks(env, "INTEGRATIONS_TRUSTED_PROXIES"),
        limits=_limits(env),
        journal_days=_number(env, "INTEGRATIONS_JOURNAL_DAYS", 90.0, unit="days"),
        **_signin(env),
        **_state(env, sandbox=sandbox),
    ))


def _checked(settings: Settings) -> Settings:
    if settings.metrics and settings.transport != "http":
        raise ConfigurationError("INTEGRATIONS_METRICS serves /metrics on the HTTP listener: use it with "
                                 "INTEGRATIONS_TRANSPORT=http, or export by OTLP under stdio "
                                 "(OTEL_EXPORTER_OTLP_ENDPOINT).")
    if settings.transport == "stdio" and settings.public_url and not settings.forms_port:
        raise ConfigurationError(
            "INTEGRATIONS_PUBLIC_URL under stdio links the secure form and approval pages to that address, which "
            "must lead to the page listener: set INTEGRATIONS_FORMS_PORT (and INTEGRATIONS_FORMS_HOST=0.0.0.0 in "
            "a container) to the port it reaches, or unset INTEGRATIONS_PUBLIC_URL.")
    if "oidc" in settings.signin:
        if settings.transport != "http" or settings.oauth_issuer is None:
            raise ConfigurationError("INTEGRATIONS_SIGNIN=oidc signs approvers in at the deployment's OAuth issuer: "
                                     "use it with INTEGRATIONS_TRANSPORT=http and INTEGRATIONS_OAUTH_ISSUER.")
        if settings.oidc_client_id is None:
            raise ConfigurationError("INTEGRATIONS_SIGNIN=oidc needs INTEGRATIONS_OIDC_CLIENT_ID (and, for a "
                                     "confidential client, INTEGRATIONS_OIDC_CLIENT_SECRET): the client registered at "
                                     "the issuer for the pages, with redirect URI <public URL>/secure-forms/signin/"
                                     "oidc/callback.")
    if settings.signin and settings.public_url and urlsplit(settings.public_url).path:
        # The sign-in links, its cookies' paths, the OIDC redirect URI and the passkey script are addressed from the
        # origin's root (/secure-forms/signin/…): under a path they would miss it, and no one could sign in.
        raise ConfigurationError(f"INTEGRATIONS_SIGNIN needs the pages at the root of their address, not under the "
                                 f"path of {settings.public_url}: serve them at an origin of their own (e.g. "
                                 f"https://mcp.example.com) and set INTEGRATIONS_PUBLIC_URL to it.")
    if "passkey" in settings.signin:
        _passkeys_usable(settings)
    if "oidc" not in settings.signin and (settings.oidc_client_id or settings.oidc_client_secret):
        raise ConfigurationError("INTEGRATIONS_OIDC_CLIENT_ID and INTEGRATIONS_OIDC_CLIENT_SECRET are for sign-in on "
                                 "the pages: add oidc to INTEGRATIONS_SIGNIN, or unset them.")
    return settings


def _passkeys_usable(settings: Settings) -> None:
    """Browsers make and use passkeys only on a page at a domain in a secure context (https, or http://localhost:
    a loopback listener is linked as localhost), and the operator's `approvers enrol` must reach the same state."""
    from integrations_mcp.pages.signin.relying_party import relying_party

    if settings.public_url and relying_party(settings.public_url) is None:
        raise ConfigurationError(f"INTEGRATIONS_SIGNIN=passkey: passkeys work only on pages at an https:// address or "
                                 f"at http://localhost, not {settings.public_url}: set INTEGRATIONS_PUBLIC_URL to the "
                                 "https:// address people open.")
    if settings.transport == "http" and not settings.public_url and not is_loopback(settings.host):
        raise ConfigurationError("INTEGRATIONS_SIGNIN=passkey on a listener other machines reach needs "
                                 "INTEGRATIONS_PUBLIC_URL: the https:// address people open the pages at (passkeys "
                                 "are made for that domain).")
    if settings.state_url.startswith("sqlite") and ":memory:" in settings.state_url:
        raise ConfigurationError("INTEGRATIONS_SIGNIN=passkey keeps passkeys in the state database, which is in "
                                 "memory here: set INTEGRATIONS_STATE_URL to a file or PostgreSQL database that "
                                 "`integrations-mcp approvers enrol` can reach too.")


SIGNIN_METHODS = ("oidc", "passkey")


def _signin(env: Mapping[str, str]) -> dict[str, Any]:
    words = [w.lower() for w in _list(env, "INTEGRATIONS_SIGNIN")]
    methods = tuple(dict.fromkeys(w for w in words if w != "none"))
    if "none" in words and methods:
        raise ConfigurationError("INTEGRATIONS_SIGNIN is either none or a list of methods (oidc, passkey), not both.")
    for method in methods:
        _choice(method, SIGNIN_METHODS, "INTEGRATIONS_SIGNIN (comma separated)")
    kinds = tuple(dict.fromkeys(w.lower() for w in _list(env, "INTEGRATIONS_SEPARATE_APPROVER")))
    for kind in kinds:
        _choice(kind, tuple(ChangeKind), "INTEGRATIONS_SEPARATE_APPROVER (comma separated kinds of change)")
    if kinds and not methods:
        raise ConfigurationError("INTEGRATIONS_SEPARATE_APPROVER needs approvers who sign in: set INTEGRATIONS_SIGNIN "
                                 "(oidc or passkey).")
    role = env.get("INTEGRATIONS_APPROVER_ROLE", "").strip() or DEFAULT_APPROVER_ROLE
    claim = env.get("INTEGRATIONS_OIDC_ROLES_CLAIM", "").strip() or "roles"
    for name, value in (("INTEGRATIONS_APPROVER_ROLE", role), ("INTEGRATIONS_OIDC_ROLES_CLAIM", claim)):
        if len(value) > 200 or not value.isprintable() or " " in value:
            raise ConfigurationError(f"{name} must be one word of at most 200 printable characters.")
    client_id = env.get("INTEGRATIONS_OIDC_CLIENT_ID", "").strip() or None
    if client_id is not None and (len(client_id) > 500 or not client_id.isprintable()):
        raise ConfigurationError("INTEGRATIONS_OIDC_CLIENT_ID must be at most 500 printable characters.")
    return {"signin": methods, "approver_role": role, "separate_approver": kinds,
            "oidc_client_id": client_id,
            "oidc_client_secret": env.get("INTEGRATIONS_OIDC_CLIENT_SECRET", "").strip() or None,
            "oidc_roles_claim": claim,
            "signin_minutes": _number(env, "INTEGRATIONS_SIGNIN_MINUTES", 30.0, unit="minutes")}


def _state(env: Mapping[str, str], *, sandbox: bool = False) -> dict[str, Any]:
    # The sandbox's changes are to emulators that vanish with the process: they stay out of the user's real journal
    # (and a sandbox run never migrates the user's state file).
    url = env.get("INTEGRATIONS_STATE_URL", "").strip() or (SANDBOX_STATE_URL if sandbox else default_url())
    # A URL the store cannot use is refused at start (and by `config`), not at the first write.
    if checked_url(url).startswith("postgresql") and find_spec("psycopg") is None:
        raise ConfigurationError("INTEGRATIONS_STATE_URL is PostgreSQL, whose driver is not installed: install the "
                                 "postgres extra (pip install 'integrations-mcp[postgres]').")
    key = env.get("INTEGRATIONS_STATE_KEY", "").strip() or None
    if key is not None and len(key) < MIN_KEY_CHARS:
        raise ConfigurationError(f"INTEGRATIONS_STATE_KEY must be at least {MIN_KEY_CHARS} characters (e.g. the "
                                 "output of: python -c 'import secrets; print(secrets.token_urlsafe(32))').")
    if url.startswith("postgresql") and key is None:
        raise ConfigurationError("INTEGRATIONS_STATE_URL is PostgreSQL (several replicas), so INTEGRATIONS_STATE_KEY "
                                 "is required: every replica needs the same key to agree on approvals and sessions "
                                 "and to encrypt secrets at rest. Set the same random value on each replica.")
    return {"state_url": url, "state_key": key}


LIMIT_VARIABLES = {  # Limits field -> its variable
    "max_in_flight": "INTEGRATIONS_MAX_IN_FLIGHT", "max_connections": "INTEGRATIONS_MAX_CONNECTIONS",
    "header_timeout": "INTEGRATIONS_HEADER_TIMEOUT", "max_body_bytes": "INTEGRATIONS_MAX_BODY_BYTES",
    "client_sessions": "INTEGRATIONS_CLIENT_MAX_SESSIONS",
    "client_requests_per_minute": "INTEGRATIONS_CLIENT_REQUESTS_PER_MINUTE",
    "client_in_flight": "INTEGRATIONS_CLIENT_MAX_IN_FLIGHT",
    "session_forms": "INTEGRATIONS_MAX_OPEN_FORMS", "session_approvals": "INTEGRATIONS_MAX_PENDING_APPROVALS",
}


def _limits(env: Mapping[str, str]) -> Limits:
    values: dict[str, Any] = {}
    for name, variable in LIMIT_VARIABLES.items():
        default = getattr(Limits, name)
        if isinstance(default, float):
            values[name] = _number(env, variable, default)
            continue
        value = env.get(variable, "").strip()
        if value and (not value.isdigit() or int(value) < 1):
            raise ConfigurationError(f"{variable} must be a whole number of at least 1, not {value[:40]!r}.")
        values[name] = int(value) if value else default
    return Limits(**values)


def _telemetry(env: Mapping[str, str]) -> dict[str, Any]:
    """INTEGRATIONS_LOG_FORMAT, INTEGRATIONS_METRICS, and whether OTLP export is asked for (the OpenTelemetry
    variables, read as the SDK reads them; the exporters read their endpoint, headers and timeouts themselves)."""
    on = not _boolean(env, "OTEL_SDK_DISABLED")

    def otlp(signal: str) -> bool:
        wanted = env.get(f"OTEL_{signal}_EXPORTER", "").strip().lower() or "otlp"
        endpoint = env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip() or \
            env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        return on and bool(endpoint) and wanted != "none"

    found = {"log_format": _choice(env.get("INTEGRATIONS_LOG_FORMAT", "").strip().lower() or "text", LOG_FORMATS,
                                   "INTEGRATIONS_LOG_FORMAT"),
             "metrics": _boolean(env, "INTEGRATIONS_METRICS"), "otlp_traces": otlp("TRACES"),
             "otlp_metrics": otlp("METRICS")}
    needed = {"opentelemetry.sdk": found["metrics"] or found["otlp_traces"] or found["otlp_metrics"],
              "opentelemetry.exporter.prometheus": found["metrics"]}
    if any(wanted and importlib.util.find_spec(module) is None for module, wanted in needed.items()):
        raise ConfigurationError("INTEGRATIONS_METRICS and OTEL_EXPORTER_OTLP_ENDPOINT need the telemetry extra: "
                                 "pip install 'integrations-mcp[telemetry]' (or unset them).")
    return found


def _vendors(env: Mapping[str, str]) -> dict[str, Any]:
    found = {vendor.name: vendor.settings_from_env(env) for vendor in VENDORS}
    return {name: value for name, value in found.items() if value is not None}


def _placeholders(env: Mapping[str, str]) -> tuple[str, ...]:
    prefixes = tuple(f"{vendor.name.upper()}_" for vendor in VENDORS)  # each vendor's variables: REVCENT_*, ...
    return tuple(sorted(name for name, value in env.items() if name.startswith(prefixes) and is_placeholder(value)))


def _boolean(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"{name} must be true or false, not {value!r}.")


def _number(env: Mapping[str, str], name: str, default: float, unit: str = "seconds") -> float:
    value = env.get(name, "").strip()
    try:
        number = float(value) if value else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of {unit}.") from None
    if not 0 < number < float("inf"):
        raise ConfigurationError(f"{name} must be a positive number of {unit}.")
    return number


def _port(env: Mapping[str, str], name: str = "INTEGRATIONS_PORT", default: str = "8000") -> int:
    value = env.get(name, "").strip() or default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigurationError(f"{name} must be a port number (1-65535), not {value!r}.")
    return int(value)


def _forms_listener(env: Mapping[str, str]) -> dict[str, Any]:
    """Fail closed: the pages leave loopback only when both settings say so (a random port on every interface
    could not be published, only found)."""
    host = env.get("INTEGRATIONS_FORMS_HOST", "").strip() or "127.0.0.1"
    port = _port(env, "INTEGRATIONS_FORMS_PORT", "0") if env.get("INTEGRATIONS_FORMS_PORT", "").strip() else 0
    if not is_loopback(host) and port == 0:
        raise ConfigurationError(
            f"INTEGRATIONS_FORMS_HOST={host} puts the secure form and approval pages on a non-loopback address: set "
            "INTEGRATIONS_FORMS_PORT to the port you publish (e.g. 8765 with docker run -p 127.0.0.1:8765:8765), "
            "or unset INTEGRATIONS_FORMS_HOST to keep them on 127.0.0.1.")
    return {"forms_host": host, "forms_port": port}


def _choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _public_url(env: Mapping[str, str]) -> str | None:
    value = env.get("INTEGRATIONS_PUBLIC_URL", "").strip().rstrip("/")
    if value and not value.startswith(("https://", "http://")):
        raise ConfigurationError("INTEGRATIONS_PUBLIC_URL must be an http(s) URL.")
    if value:
        parts = urlsplit(value)
        try:
            _ = parts.port
        except ValueError:  # not a port number
            parts = parts._replace(netloc="")
        if not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment or "?" in value or "#" in value:
            # Every page link starts with it: a query or fragment would cut them, a user name would show in them.
            raise ConfigurationError("INTEGRATIONS_PUBLIC_URL must be a scheme, host, optional port and optional "
                                     "path (e.g. https://mcp.example.com), without a user, query or fragment.")
    return value or None


def _auth_tokens(env: Mapping[str, str]) -> tuple[StaticToken, ...]:
    tokens: list[StaticToken] = []
    path = env.get("INTEGRATIONS_AUTH_TOKENS_FILE", "").strip()
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"INTEGRATIONS_AUTH_TOKENS_FILE: cannot read {path} "
                                     f"({getattr(exc, 'strerror', None) or type(exc).__name__}).") from None
        tokens += parse_tokens(text, "INTEGRATIONS_AUTH_TOKENS_FILE")
        if not tokens:
            raise ConfigurationError(f"INTEGRATIONS_AUTH_TOKENS_FILE: {path} holds no token (`name token [scope ...]` "
                                     "a line).")
    single = env.get("INTEGRATIONS_AUTH_TOKEN", "").strip()
    if single:
        tokens.append(single_token(single))
    return tokens_checked(tokens, "INTEGRATIONS_AUTH_TOKENS_FILE with INTEGRATIONS_AUTH_TOKEN")


def _oauth(env: Mapping[str, str]) -> dict[str, str | None]:
    issuer = env.get("INTEGRATIONS_OAUTH_ISSUER", "").strip() or None
    jwks = env.get("INTEGRATIONS_OAUTH_JWKS_URL", "").strip() or None
    audience = env.get("INTEGRATIONS_OAUTH_AUDIENCE", "").strip() or None
    if issuer is None and (jwks or audience):
        raise ConfigurationError("INTEGRATIONS_OAUTH_JWKS_URL and INTEGRATIONS_OAUTH_AUDIENCE need "
                                 "INTEGRATIONS_OAUTH_ISSUER (the authorization server's issuer URL).")
    if issuer is not None:
        _url(issuer, "INTEGRATIONS_OAUTH_ISSUER")
        if jwks is None:
            raise ConfigurationError("INTEGRATIONS_OAUTH_ISSUER needs INTEGRATIONS_OAUTH_JWKS_URL (the authorization "
                                     "server's jwks_uri, from its /.well-known/openid-configuration).")
        _url(jwks, "INTEGRATIONS_OAUTH_JWKS_URL")
    return {"oauth_issuer": issuer, "oauth_jwks_url": jwks, "oauth_audience": audience}


def _url(value: str, name: str) -> None:
    """https, or http to a loopback address (a local test IdP): keys fetched in clear could be swapped."""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    local = host == "localhost" or host.startswith("127.") or host == "::1"
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ConfigurationError(f"{name} must be an https:// URL (http:// only on a loopback address).")


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = _list(env, name)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigurationError(f"{name} must list IP addresses or networks (e.g. 10.0.0.5, 172.18.0.0/16), "
                                     f"not {item!r}.") from None
    return items
