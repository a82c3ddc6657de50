"""The CxEngage /v1 integrations contract as the emulator plays it: documented facts, each inferred choice named.

Labels: [C] confirmed by the vendor's documents, [I] inferred from them, [?] unknown (a choice made here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from integrations_mcp.vendors.cxengage.emulator.fixtures import SANDBOX_API_KEY, SANDBOX_API_SECRET

__all__ = [
    "ACCEPT_STRING_BOOLEANS",
    "ACCEPT_TRAILING_SLASH",
    "ACCEPT_WRAPPED_BODY",
    "ACTIVE_DEFAULT",
    "API_PREFIX",
    "CREATE_STATUS",
    "DEFAULT_PROPERTIES",
    "DEFAULT_TOKEN_TTL",
    "FILL_DEFAULT_PROPERTIES",
    "INTEGRATION_TYPES",
    "LIST_PAGE_SIZE",
    "MALFORMED_ID_STATUS",
    "MANAGE_PERMISSION",
    "MAX_TOKEN_TTL",
    "MSG_DUPLICATE_NAME",
    "MSG_DUPLICATE_NAME_ATTRIBUTE",
    "MSG_EMPTY_UPDATE",
    "MSG_FORBIDDEN_TENANT",
    "MSG_INVALID",
    "MSG_MANAGE_REQUIRED",
    "MSG_NOT_FOUND",
    "MSG_TENANT_NOT_FOUND",
    "MSG_UNAUTHORIZED",
    "MSG_TOKEN_EXPIRED",
    "MSG_TOKEN_ONLY",
    "NORMALISE_TYPE_CASE",
    "REJECT_EMPTY_UPDATE",
    "REJECT_UNKNOWN_FIELDS",
    "REJECT_UNKNOWN_PROPERTIES",
    "REQUIRE_PROPERTIES_ON_CREATE",
    "SANDBOX_API_KEY",
    "SANDBOX_API_SECRET",
    "SECRET_PROPERTIES",
    "SMTP_ENCRYPTION_TYPES",
    "TELEOPTI_PROTOCOLS",
    "TIMESTAMP_FORMAT",
    "TOKEN_SCHEME",
    "TYPE_TITLES",
    "TWILIO_REGIONS",
    "TYPE_CHANGE_ALLOWED",
    "UNKNOWN_TENANT_STATUS",
    "UPDATABLE_FIELDS",
    "UUID_RE",
    "WRITABLE_FIELDS",
    "GUIDE_CONTRACT",
    "INFERRED",
    "MASK",
    "ApiError",
    "Contract",
    "Prop",
    "canonical_type",
    "name_key",
]


API_PREFIX = "/v1"  # [C] paths are /v1/tenants/<tenantId>/...
TOKEN_SCHEME = "Token"  # [C] SDK api_utils: `Authorization: Token <t>`, not Bearer (Bearer is refused)
DEFAULT_TOKEN_TTL = 3600  # [?] the SDK always sends `ttl`; what the API does without one is unknown
MAX_TOKEN_TTL = 86400 * 7  # [?] no documented ceiling; larger ttl values are refused with 400
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # [C] docs example: "2017-04-18T18:04:38Z"
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MANAGE_PERMISSION = "MANAGE_ALL_PROVIDERS"  # [C] needed to create (and, [I], update) integrations

CREATE_STATUS = 200  # default of Contract.create_status
ACTIVE_DEFAULT = False  # [C] SDK default and the docs example response
MALFORMED_ID_STATUS = 404  # [I] a tenant or integration id that is not a UUID matches no resource: 404 (not 400)
UNKNOWN_TENANT_STATUS = 403  # [I] a well-formed tenant id the key has no role on is 403 whether it exists or not
NORMALISE_TYPE_CASE = True  # [I] docs examples send "Zendesk", the answer says "zendesk": match case-insensitively
ACCEPT_WRAPPED_BODY = True  # [I] docs curl examples wrap the body in "attribute(s)"; the SDK's flat form is real
ACCEPT_TRAILING_SLASH = True  # [I] docs POST to ".../integrations/"; treated like ".../integrations"
REQUIRE_PROPERTIES_ON_CREATE = True  # docs table marks `properties` required [C]; whether the API enforces it [?]
REJECT_UNKNOWN_FIELDS = True  # [I] top-level keys other than WRITABLE_FIELDS are refused, not ignored
REJECT_UNKNOWN_PROPERTIES = True  # [I] property keys not known for the type are refused, not stored
FILL_DEFAULT_PROPERTIES = True  # [I] the docs example answer holds every UI `initialProperties` key
REJECT_EMPTY_UPDATE = True  # [I] a PUT that names no updatable field is a 400, not a silent no-op
TYPE_CHANGE_ALLOWED = False  # [I] PUT may repeat the current type but not change it (the SDK never sends it)

WRITABLE_FIELDS = ("name", "description", "active", "type", "properties")  # [C] SDK create body
UPDATABLE_FIELDS = ("name", "description", "active", "properties")  # [C] SDK update body

# Error messages. The body shape is [I] (config-ui errorManager); the wording is ours.
MSG_UNAUTHORIZED = "Authentication required: send Basic <key:secret> or Token <token>."
MSG_TOKEN_EXPIRED = "The token has expired; request a new one from /v1/tokens."
MSG_TOKEN_ONLY = "Basic authentication is not accepted here: get a token from /v1/tokens."
MSG_FORBIDDEN_TENANT = "The API key is not permitted on tenant '{tenant_id}'."
MSG_TENANT_NOT_FOUND = "Tenant '{tenant_id}' was not found."  # used only if UNKNOWN_TENANT_STATUS is 404
MSG_MANAGE_REQUIRED = f"The API key's role lacks {MANAGE_PERMISSION} on tenant '{{tenant_id}}'."
MSG_NOT_FOUND = "Integration '{integration_id}' was not found on tenant '{tenant_id}'."
MSG_INVALID = "The request is invalid; see attribute for the fields at fault."
MSG_DUPLICATE_NAME = "An integration named '{name}' already exists on this tenant."  # "already exist" [C] phrase
MSG_DUPLICATE_NAME_ATTRIBUTE = "An integration with this name already exists."
MSG_EMPTY_UPDATE = f"Send at least one of {', '.join(UPDATABLE_FIELDS)} to update."


MASK = "********"  # what a masking API would answer for a stored secret (Contract.secrets_on_read "mask") [?]
LIST_PAGE_SIZE = 25  # [?] rows per page when Contract.list_paging pages or caps the list
# [C] the Create page's sample request sends `"active": "true"` (a string) although its table says boolean: the
# strings "true"/"false" are taken as booleans on writes; anything else but a JSON boolean is a 400.
ACCEPT_STRING_BOOLEANS = True
# [C] the Create page's table names the types "Salesforce", "REST API", "Zendesk": those titles name the wire types.
TYPE_TITLES = {"rest api": "rest"}


@dataclass(frozen=True)
class Contract:
    """Every behaviour the documents do not state that changes what the server must do, as one named [I] switch.
    Defaults follow the documents (the Create page and its examples) and, where they are silent, the reading the
    server relies on (`vendors/cxengage/facts.py`). `INFERRED` lists each switch's other settings (tests run them)."""

    # [I] the config UI's rules (required `*` properties, formats): "never" enforced by the API (the documents state
    # none, and their own example creates a Zendesk integration with empty properties), "active" only for an active
    # integration, "always".
    ui_rules: Literal["never", "active", "always"] = "never"
    # [I] PUT `properties`: "merge" key-wise into the stored ones, or "replace" the stored object wholesale.
    properties_edit: Literal["merge", "replace"] = "merge"
    # [I] reads return stored secrets as stored ("echo": the docs' example echoes empty ones), "mask" them (MASK),
    # or "omit" them (the key is left out of `properties`).
    secrets_on_read: Literal["echo", "mask", "omit"] = "echo"
    # [I] reads answer `active` and boolean properties as JSON booleans (the response table and example), or as the
    # strings "true"/"false" (as the Create page's sample request sends `active`).
    booleans_on_read: Literal["json", "string"] = "json"
    # [I] the list is one unpaged array ("none": neither the SDK nor the UI pages it); "paged": `page`/`limit` query
    # parameters (1-based) and `page`, `limit`, `total` beside `result`; "capped": the first LIST_PAGE_SIZE rows and
    # `total`, with no way to read the rest.
    list_paging: Literal["none", "paged", "capped"] = "none"
    # [I] Basic auth with the API key and secret works on every call ("basic+token", the tutorial's -u), or only
    # tokens do ("token": Basic is refused except to get a token).
    auth_schemes: Literal["basic+token", "token"] = "basic+token"
    # [I] errors are {"error": {code, message, attribute}} ("object"), or "error" is a string or a list of strings
    # (config-ui errorManager reads all three).
    error_shape: Literal["object", "string", "list"] = "object"
    # [I] a create answers 200 (the SDK fails anything else) or 201 (the generic docs' status for a POST that
    # created something).
    create_status: Literal[200, 201] = CREATE_STATUS


INFERRED: dict[str, tuple[object, ...]] = {
    "ui_rules": ("active", "always"),
    "properties_edit": ("replace",),
    "secrets_on_read": ("mask", "omit"),
    "booleans_on_read": ("string",),
    "list_paging": ("paged", "capped"),
    "auth_schemes": ("token",),
    "error_shape": ("string", "list"),
    "create_status": (201,),
}
GUIDE_CONTRACT = Contract()  # kept for symmetry with RevCent: the documents' reading is the default here


@dataclass(frozen=True)
class Prop:
    """One property of an integration type. kind: string | boolean | object | port | boolstring."""

    kind: str = "string"
    required: bool = False  # the UI's `*` (enforced only as Contract.ui_rules says)
    secret: bool = False  # echoed by the API as stored; marked so callers know what to redact


_S, _REQ, _SECRET, _REQ_SECRET = Prop(), Prop(required=True), Prop(secret=True), Prop(required=True, secret=True)
_BOOL = Prop("boolean")

# [C] config-ui Types/*.js and the docs examples (table B3). Kinds beyond string/boolean are [I].
INTEGRATION_TYPES: dict[str, dict[str, Prop]] = {
    "rest": {"endpointPrefix": _S, "username": _S, "password": _SECRET, "token": _SECRET},
    "salesforce": {"username": _REQ, "password": _REQ_SECRET, "consumerKey": _REQ, "consumerSecret": _REQ_SECRET,
                   "securityToken": _REQ_SECRET, "loginUrl": _S, "pushEnabled": _BOOL},
    "zendesk": {"endpointPrefix": _REQ, "username": _REQ, "password": _REQ_SECRET, "workItems": _BOOL,
                "interactionFieldId": _S},
    "twilio": {"accountSid": _REQ, "authToken": _REQ_SECRET, "region": _REQ, "forceRegion": _BOOL, "webRtc": _BOOL,
               "extensionPrefix": _S, "globalDialParams": Prop("object")},
    "email": {"incomingType": _REQ, "imapServer": _REQ, "smtpHost": _REQ, "smtpPort": Prop("port", required=True),
              "smtpEncryptionType": _REQ, "smtpUser": _REQ, "smtpPassword": _REQ_SECRET},
    "calabrio": {"username": _REQ, "password": _REQ_SECRET, "ctiEnabled": _BOOL, "ctiEndpoint": _S,
                 "rtaEnabled": _BOOL, "rtaUrl": _S},
    "monet": {"monetUrl": _REQ, "username": _REQ, "password": _REQ_SECRET, "usernameAsAgentId": Prop("boolstring")},
    # [I] accessKey is half a credential pair: marked secret so it is redacted too.
    "client": {"accessKey": _REQ_SECRET, "secretKey": _REQ_SECRET},
    "lambda": {"accessKey": _REQ_SECRET, "secretKey": _REQ_SECRET},
    "serenovaVoice": {"accountSid": _REQ, "apiKey": _REQ_SECRET},
    # [C] config-ui Types/teleopti.js `label="Protocol *"`; verint.js and birst.js mark the fields below `*`.
    "teleopti": {"protocol": _REQ, "ftpUrl": _S, "ftpUsername": _S, "ftpPassword": _SECRET, "authKey": _SECRET,
                 "teleoptiUrl": _S, "platformTypeId": _S, "sourceId": _S, "multipleTenants": _BOOL},
    "verint": {"sftpPort": Prop("port", required=True), "sftpHost": _REQ, "sftpUsername": _REQ,
               "sftpPassword": _REQ_SECRET, "orgName": _REQ, "multipleTenants": _BOOL, "dataSourceName": _REQ,
               "scorecardsEnabled": _BOOL,
               "historicalEnabled": _BOOL},
    "birst": {"birstBaseUrl": _REQ, "birstAdminUsername": _REQ, "birstAdminPassword": _REQ_SECRET,
              "birstDashboardVersion": _REQ, "birstSpaceId": _REQ, "birstSsoPassword": _REQ_SECRET},
    # `plivo` exists on some tenants but its properties are unknown [?]: not accepted.
}

SECRET_PROPERTIES: frozenset[str] = frozenset(k for props in INTEGRATION_TYPES.values()
                                              for k, p in props.items() if p.secret)

# [C] the UI's `initialProperties`; filling them in on create is [I] (FILL_DEFAULT_PROPERTIES).
DEFAULT_PROPERTIES: dict[str, dict[str, Any]] = {
    "rest": {"endpointPrefix": "", "password": "", "token": "", "username": ""},
    "salesforce": {"consumerKey": "", "consumerSecret": "", "password": "", "securityToken": "", "username": ""},
    "zendesk": {"endpointPrefix": "", "interactionFieldId": "", "password": "", "username": "", "workItems": False},
}

# Value rules from the UI [C], applied only as Contract.ui_rules says.
TWILIO_REGIONS = ("gll", "au1", "br1", "de1", "ie1", "jp1", "sg1", "us1", "au1-ix", "de1-ix", "ie1-tnx", "jp1-ix",
                  "sg1-ix", "us1-ix", "us2-ix")
SMTP_ENCRYPTION_TYPES = ("ssl/tls", "starttls")
TELEOPTI_PROTOCOLS = ("none", "ftp")


class ApiError(Exception):
    """An error answer: `{"error": {"code": status, "message": ..., "attribute": {...}}}`."""

    def __init__(self, status: int, message: str, attribute: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.attribute = attribute
        self.headers = headers

    def body(self, shape: str = "object") -> dict[str, Any]:
        """Contract.error_shape: the object config-ui's errorManager reads first, or its string or list forms."""
        details = [f"{k}: {v}" for k, v in (self.attribute or {}).items()]
        if shape == "string":
            return {"error": "; ".join([self.message, *details])}
        if shape == "list":
            return {"error": [self.message, *details]}
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.attribute:
            error["attribute"] = dict(self.attribute)
        return {"error": error}


def canonical_type(value: str) -> str | None:
    """The wire spelling of a known type ("Zendesk" -> "zendesk" while NORMALISE_TYPE_CASE), else None."""
    if value in INTEGRATION_TYPES:
        return value
    if value.strip().casefold() in TYPE_TITLES:
        return TYPE_TITLES[value.strip().casefold()]
    if NORMALISE_TYPE_CASE:
        folded = {t.casefold(): t for t in INTEGRATION_TYPES}
        return folded.get(value.strip().casefold())
    return None


def name_key(name: str) -> str:
    # [I] uniqueness within a tenant ignores case and surrounding spaces (the stricter reading).
    return name.strip().casefold()
