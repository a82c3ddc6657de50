"""What integrations-mcp knows of each CxEngage integration type: its properties, which are required, which secret.

Source: the vendor's configuration UI and its API examples (the project's vendor research). The API's own
validation is undocumented, so "required" here is the UI's rule [I]; change a row here and every tool follows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from integrations_mcp.guardrails.secrets import COMMON_SECRET_FRAGMENTS, COMMON_SECRET_NAMES, SecretKeys

__all__ = ["RANDOM_BY_DESIGN", "SECRET_KEYS", "SECRET_PROPERTY_NAMES", "TYPES", "UI_INITIAL_PROPERTIES", "PropertySpec",
           "TypeSpec", "normalise_type"]

Kind = Literal["string", "boolean", "object", "any", "port"]


@dataclass(frozen=True)
class PropertySpec:
    name: str
    kind: Kind = "string"
    required: bool = False
    secret: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""
    pattern: str = ""  # a regular expression a non-empty string value must match in full
    pattern_hint: str = ""
    destination: bool = False  # says where the type's secrets are used (endpoint, host, account): see below

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class TypeSpec:
    name: str  # as on the wire
    title: str
    properties: tuple[PropertySpec, ...]

    def prop(self, name: str) -> PropertySpec | None:
        return next((p for p in self.properties if p.name == name), None)

    @functools.cached_property  # read on every view of an integration
    def secrets(self) -> tuple[PropertySpec, ...]:
        return tuple(p for p in self.properties if p.secret)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.properties]

    @property
    def destinations(self) -> tuple[PropertySpec, ...]:
        """The properties that say where the secrets go. A secure form names them and its secrets work only with
        those values; moving them on an integration that holds secrets needs the person."""
        return tuple(p for p in self.properties if p.destination)


def _s(name: str, label: str, *, required: bool = False, secret: bool = False, choices: tuple[str, ...] = (),
       pattern: str = "", pattern_hint: str = "", dest: bool = False) -> PropertySpec:
    return PropertySpec(name, "string", required, secret, choices, label, pattern, pattern_hint, dest)


def _b(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, "boolean", label=label)


TWILIO_REGIONS = ("gll", "au1", "br1", "de1", "ie1", "jp1", "sg1", "us1", "au1-ix", "de1-ix", "ie1-tnx", "jp1-ix",
                  "sg1-ix", "us1-ix", "us2-ix")

_TYPES = (
    # REST: which of username/password/token matter depends on the auth style; none is required.
    TypeSpec("rest", "REST API", (
        _s("endpointPrefix", "Endpoint prefix", dest=True), _s("username", "Username", dest=True),
        _s("password", "Password", secret=True), _s("token", "Token", secret=True))),
    TypeSpec("salesforce", "Salesforce", (
        _s("username", "Username", required=True, dest=True),
        _s("password", "Password", required=True, secret=True),
        _s("consumerKey", "Consumer key", required=True, dest=True),
        _s("consumerSecret", "Consumer secret", required=True, secret=True),
        _s("securityToken", "Security token", required=True, secret=True),
        _s("loginUrl", "Login URL", dest=True), _b("pushEnabled", "Activity records"))),
    TypeSpec("zendesk", "Zendesk", (
        _s("endpointPrefix", "API URI", required=True, dest=True), _s("username", "Username", required=True, dest=True),
        _s("password", "Password", required=True, secret=True), _b("workItems", "Work items"),
        _s("interactionFieldId", "Interaction field id"))),
    TypeSpec("twilio", "Twilio", (
        _s("accountSid", "Account SID", required=True, dest=True),
        _s("authToken", "Auth token", required=True, secret=True),
        _s("region", "Twilio region", required=True, choices=TWILIO_REGIONS, dest=True),
        _b("forceRegion", "Force region"),
        _b("webRtc", "WebRTC"),
        _s("extensionPrefix", "Extension prefix (5 digits)", pattern=r"\d{5}", pattern_hint="exactly 5 digits"),
        PropertySpec("globalDialParams", "object", label="Global dial parameters"))),
    TypeSpec("email", "Email", (
        _s("incomingType", "Incoming type", required=True), _s("imapServer", "IMAP server", required=True, dest=True),
        _s("smtpHost", "SMTP host", required=True, dest=True),
        PropertySpec("smtpPort", "port", required=True, label="SMTP port", destination=True),
        _s("smtpEncryptionType", "SMTP encryption", required=True, choices=("ssl/tls", "starttls")),
        _s("smtpUser", "SMTP user", required=True, dest=True),
        _s("smtpPassword", "SMTP password", required=True, secret=True))),
    TypeSpec("calabrio", "Calabrio", (
        _s("username", "Username", required=True, dest=True), _s("password", "Password", required=True, secret=True),
        _b("ctiEnabled", "CTI enabled"), _s("ctiEndpoint", "CTI endpoint", dest=True), _b("rtaEnabled", "RTA enabled"),
        _s("rtaUrl", "RTA URL", dest=True))),
    TypeSpec("monet", "Monet", (
        _s("monetUrl", "Monet URL", required=True, pattern=r"https?://\S+", pattern_hint="an http(s) URL", dest=True),
        _s("username", "Username", required=True, dest=True),
        _s("password", "Password", required=True, secret=True),
        _s("usernameAsAgentId", "Username as agent id", choices=("true", "false")))),
    # The access key is only half of a key pair, but it is treated as a secret: conservative costs nothing here.
    TypeSpec("client", "Client (AWS)", (
        _s("accessKey", "Access key", required=True, secret=True),
        _s("secretKey", "Secret key", required=True, secret=True))),
    TypeSpec("lambda", "Lambda (AWS)", (
        _s("accessKey", "Access key", required=True, secret=True),
        _s("secretKey", "Secret key", required=True, secret=True))),
    TypeSpec("serenovaVoice", "Serenova Voice", (
        _s("accountSid", "Account SID", required=True, dest=True),
        _s("apiKey", "API key", required=True, secret=True))),
    # Teleopti, Verint, Birst: the UI marks these `*` (Types/teleopti.js, verint.js, birst.js labels).
    TypeSpec("teleopti", "Teleopti", (
        _s("protocol", "Protocol", required=True, choices=("none", "ftp")), _s("ftpUrl", "FTP URL", dest=True),
        _s("ftpUsername", "FTP username", dest=True), _s("ftpPassword", "FTP password", secret=True),
        _s("authKey", "Auth key", secret=True), _s("teleoptiUrl", "Teleopti URL", dest=True),
        _s("platformTypeId", "Platform type id"), _s("sourceId", "Source id"),
        _b("multipleTenants", "Multiple tenants"))),
    TypeSpec("verint", "Verint", (
        PropertySpec("sftpPort", "port", required=True, label="SFTP port", destination=True),
        _s("sftpHost", "SFTP host", required=True, dest=True),
        _s("sftpUsername", "SFTP username", required=True, dest=True),
        _s("sftpPassword", "SFTP password", required=True, secret=True),
        _s("orgName", "Organisation name", required=True),
        _b("multipleTenants", "Multiple tenants"), _s("dataSourceName", "Data source name", required=True),
        _b("scorecardsEnabled", "Scorecards enabled"), _b("historicalEnabled", "Historical enabled"))),
    TypeSpec("birst", "Birst", (
        _s("birstBaseUrl", "Base URL", required=True, dest=True),
        _s("birstAdminUsername", "Admin username", required=True, dest=True),
        _s("birstAdminPassword", "Admin password", required=True, secret=True),
        _s("birstDashboardVersion", "Dashboard version", required=True),
        _s("birstSpaceId", "Space id", required=True),
        _s("birstSsoPassword", "SSO password", required=True, secret=True))),
)

TYPES: dict[str, TypeSpec] = {t.name: t for t in _TYPES}

# The configuration UI's `initialProperties` (redux/modules/entities/integrations/utilities.js): the UI creates
# these types with every one of these keys, and the vendor's Zendesk example answer holds them all, secrets too. A
# read of one of them without a secret key shows that CxEngage leaves secrets out of its answers.
UI_INITIAL_PROPERTIES: dict[str, tuple[str, ...]] = {
    "rest": ("endpointPrefix", "password", "token", "username"),
    "salesforce": ("consumerKey", "consumerSecret", "password", "securityToken", "username"),
    "zendesk": ("endpointPrefix", "interactionFieldId", "password", "username", "workItems"),
}

# Every property name that holds a secret in any type, plus generic spellings a vendor might echo: redaction
# works by field name, whatever the integration type.
SECRET_PROPERTY_NAMES: frozenset[str] = frozenset(
    {p.name for t in _TYPES for p in t.secrets} | set(COMMON_SECRET_NAMES))
# Fragments only secret names carry, for properties the catalog does not know (new types, vendor extras, keys of
# object properties such as twilio globalDialParams).
SECRET_KEYS = SecretKeys.of(SECRET_PROPERTY_NAMES, COMMON_SECRET_FRAGMENTS)
# Public values that are random by design: not refused for looking like a token (ids are exempt anyway).
RANDOM_BY_DESIGN = ("consumerKey",)


def _key(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


# The docs call the types "Salesforce", "REST API" and "Zendesk"; the wire uses lowercase names.
_ALIASES = {_key(t.name): t.name for t in _TYPES} | {_key(t.title): t.name for t in _TYPES}


def normalise_type(value: str) -> str | None:
    """'Zendesk', 'REST API', 'serenova-voice' -> the wire name; None when it is no known type."""
    return _normalised(value) if len(value) <= 64 else _ALIASES.get(_key(value))


@functools.lru_cache(maxsize=1024)  # a record's type is normalised on every read of it, a list's on every row
def _normalised(value: str) -> str | None:
    return _ALIASES.get(_key(value))
