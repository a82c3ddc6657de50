"""The emulator's state and its operations, independent of HTTP; `app.py` is a thin face over it."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from integrations_mcp.emulation import FaultInjector, RecordedRequest, RecorderMiddleware
from integrations_mcp.vendors.cxengage.emulator.app import build_app
from integrations_mcp.vendors.cxengage.emulator.contract import (
    API_PREFIX,
    DEFAULT_TOKEN_TTL,
    INTEGRATION_TYPES,
    LIST_PAGE_SIZE,
    MALFORMED_ID_STATUS,
    MASK,
    MSG_DUPLICATE_NAME,
    MSG_DUPLICATE_NAME_ATTRIBUTE,
    MSG_FORBIDDEN_TENANT,
    MSG_MANAGE_REQUIRED,
    MSG_NOT_FOUND,
    MSG_TENANT_NOT_FOUND,
    MSG_TOKEN_EXPIRED,
    MSG_UNAUTHORIZED,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SECRET_PROPERTIES,
    TIMESTAMP_FORMAT,
    UNKNOWN_TENANT_STATUS,
    UUID_RE,
    ApiError,
    Contract,
    canonical_type,
    name_key,
)
from integrations_mcp.vendors.cxengage.emulator.fixtures import (
    FIXTURE_INTEGRATIONS,
    FIXTURE_TENANTS,
    FIXTURE_TIME,
    SANDBOX_USER_ID,
)
from integrations_mcp.vendors.cxengage.emulator.records import Access, Integration, Tenant, integration_view
from integrations_mcp.vendors.cxengage.emulator.validation import check_create, check_properties, check_update

__all__ = ["CxEngageEmulator"]

_TENANTS_PREFIX = f"{API_PREFIX}/tenants/"


class CxEngageEmulator:
    """CxEngage /v1 tokens and tenant integrations (list, create, get, partial update), in memory."""

    def __init__(self, api_key: str = SANDBOX_API_KEY, api_secret: str = SANDBOX_API_SECRET,
                 clock: Callable[[], float] = time.time, *, fixtures: bool = True,
                 user_id: str = SANDBOX_USER_ID, keep_requests: int | None = None,
                 contract: Contract | None = None) -> None:
        """`keep_requests`: record only that many, without bodies or headers (a long-running sandbox). `contract`:
        the undocumented behaviours (default: the documents, and the server's readings where they are silent)."""
        self.contract = contract or Contract()
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock = clock
        self.user_id = user_id  # the user the API key acts as: createdBy / updatedBy
        self.tenants: dict[str, Tenant] = {}
        self.integrations: dict[str, dict[str, Integration]] = {}  # tenant id -> integration id -> record
        self.tokens: dict[str, float] = {}  # token -> expiry, in clock seconds
        self.requests: list[RecordedRequest] = []
        self.faults = FaultInjector()
        self.app = RecorderMiddleware(build_app(self), self.requests, self.faults, keep=keep_requests,
                                      bodies=keep_requests is None)
        if fixtures:
            self._load_fixtures()

    def _load_fixtures(self) -> None:
        for tenant_id, name, access in FIXTURE_TENANTS:
            self.add_tenant(tenant_id, name=name, access=access)  # type: ignore[arg-type]
        for spec in FIXTURE_INTEGRATIONS:
            record = Integration(**spec, created=FIXTURE_TIME, created_by=self.user_id, updated=FIXTURE_TIME,
                                 updated_by=self.user_id)
            self.integrations[record.tenant_id][record.id] = record

    # --- test helpers ------------------------------------------------------------------------------------------

    def writes(self) -> list[RecordedRequest]:
        """Requests that could change integrations: POST/PUT under /v1/tenants/ (token requests excluded)."""
        return [r for r in self.requests if r.method in ("POST", "PUT") and r.path.startswith(_TENANTS_PREFIX)]

    def add_tenant(self, tenant_id: str | None = None, *, name: str = "Extra tenant (fake)",
                   access: Access = "manage") -> str:
        """A tenant the key has `access` to: manage (read/write), view (read only) or none (403 everywhere)."""
        tenant_id = _uuid(tenant_id) if tenant_id else str(uuid.uuid4())
        self.tenants[tenant_id] = Tenant(tenant_id, name, access)
        self.integrations.setdefault(tenant_id, {})
        return tenant_id

    def add_integration(self, tenant_id: str, type: str, name: str, properties: dict[str, Any] | None = None,
                        active: bool = False, description: str | None = None) -> str:
        """Put an integration straight onto a tenant (no request recorded); returns its id.

        The type, property keys/kinds and name uniqueness are checked; the UI's required-property rules are not, so
        a test may build a state the API would refuse. Defaults are filled in as on create. Raises ValueError.
        """
        tenant = self.tenants[_uuid(tenant_id)]
        integration_type = canonical_type(type)
        if integration_type is None:
            raise ValueError(f"unknown integration type {type!r}; known: {sorted(INTEGRATION_TYPES)}")
        try:
            self.check_name(tenant.id, name)
            props = check_properties(integration_type, properties or {}, ui_rules=False)
        except ApiError as error:
            raise ValueError(f"{error.message} {error.attribute or ''}".strip()) from None
        return self._insert(tenant.id, {"name": name, "description": description, "active": active,
                                        "type": integration_type, "properties": props}).id

    def stored(self, tenant_id: str, integration_id: str) -> dict[str, Any]:
        """The stored record in wire form (a copy; secrets included). KeyError if there is none."""
        return integration_view(self.integrations[_uuid(tenant_id)][_uuid(integration_id)])

    def issue_token(self, ttl: float = DEFAULT_TOKEN_TTL) -> str:
        """A token as POST /v1/tokens would give, without a request."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + ttl
        return token

    # --- auth --------------------------------------------------------------------------------------------------

    def check_credentials(self, key: str, secret: str) -> bool:
        return (hmac.compare_digest(key.encode(), self.api_key.encode())
                and hmac.compare_digest(secret.encode(), self.api_secret.encode()))

    def check_basic(self, credentials: str) -> bool:
        try:
            key, sep, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(sep) and self.check_credentials(key, secret)

    def check_token(self, token: str) -> None:
        expiry = self.tokens.get(token)
        if expiry is None:
            raise ApiError(401, MSG_UNAUTHORIZED)
        if self.clock() >= expiry:
            del self.tokens[token]
            raise ApiError(401, MSG_TOKEN_EXPIRED)

    # --- lookups -----------------------------------------------------------------------------------------------

    def now(self) -> str:
        return time.strftime(TIMESTAMP_FORMAT, time.gmtime(self.clock()))

    def tenant(self, tenant_id: str, *, write: bool = False) -> Tenant:
        tenant = self.tenants.get(_uuid(tenant_id))
        if tenant is None:
            message = MSG_FORBIDDEN_TENANT if UNKNOWN_TENANT_STATUS == 403 else MSG_TENANT_NOT_FOUND
            raise ApiError(UNKNOWN_TENANT_STATUS, message.format(tenant_id=tenant_id))
        if tenant.access == "none":
            raise ApiError(403, MSG_FORBIDDEN_TENANT.format(tenant_id=tenant.id))
        if write and tenant.access != "manage":
            raise ApiError(403, MSG_MANAGE_REQUIRED.format(tenant_id=tenant.id))
        return tenant

    def integration(self, tenant_id: str, integration_id: str, *, write: bool = False) -> Integration:
        tenant = self.tenant(tenant_id, write=write)
        record = self.integrations[tenant.id].get(_uuid(integration_id))
        if record is None:
            raise ApiError(404, MSG_NOT_FOUND.format(integration_id=integration_id, tenant_id=tenant.id))
        return record

    def check_name(self, tenant_id: str, name: str, *, exclude: str | None = None) -> None:
        for record in self.integrations[tenant_id].values():
            if record.id != exclude and name_key(record.name) == name_key(name):
                raise ApiError(400, MSG_DUPLICATE_NAME.format(name=record.name), {"name": MSG_DUPLICATE_NAME_ATTRIBUTE})

    # --- operations (what the HTTP handlers call) --------------------------------------------------------------

    def list_integrations(self, tenant_id: str) -> list[dict[str, Any]]:
        tenant = self.tenant(tenant_id)
        return [self._shown(r) for r in self.integrations[tenant.id].values()]

    def list_answer(self, tenant_id: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        """The list's whole answer: `{"result": rows}`, paged or capped as Contract.list_paging says."""
        rows = self.list_integrations(tenant_id)
        if self.contract.list_paging == "none":
            return {"result": rows}
        page, limit = 1, LIST_PAGE_SIZE
        if self.contract.list_paging == "paged":
            page, limit = _positive(query or {}, "page", 1), _positive(query or {}, "limit", LIST_PAGE_SIZE)
        start = (page - 1) * limit
        answer: dict[str, Any] = {"result": rows[start:start + limit], "total": len(rows)}
        if self.contract.list_paging == "paged":
            answer |= {"page": page, "limit": limit}
        return answer

    def get_integration(self, tenant_id: str, integration_id: str) -> dict[str, Any]:
        return self._shown(self.integration(tenant_id, integration_id))

    def _shown(self, record: Integration) -> dict[str, Any]:
        """A read's answer: stored secrets as stored, masked or left out (Contract.secrets_on_read); booleans as
        JSON booleans or strings (Contract.booleans_on_read)."""
        view = integration_view(record)
        if self.contract.secrets_on_read == "mask":
            view["properties"] = {k: MASK if k in SECRET_PROPERTIES and v else v
                                  for k, v in view["properties"].items()}
        elif self.contract.secrets_on_read == "omit":
            view["properties"] = {k: v for k, v in view["properties"].items() if k not in SECRET_PROPERTIES}
        if self.contract.booleans_on_read == "string":
            view["active"] = "true" if view["active"] else "false"
            view["properties"] = {k: ("true" if v else "false") if isinstance(v, bool) else v
                                  for k, v in view["properties"].items()}
        return view

    def create_integration(self, tenant_id: str, body: Any) -> dict[str, Any]:
        tenant = self.tenant(tenant_id, write=True)
        fields = check_create(body, self.contract)
        self.check_name(tenant.id, fields["name"])
        return self._shown(self._insert(tenant.id, fields))

    def update_integration(self, tenant_id: str, integration_id: str, body: Any) -> dict[str, Any]:
        """A partial update: only the fields sent change (properties key-wise), and nothing unless all are valid."""
        record = self.integration(tenant_id, integration_id, write=True)
        changes = check_update(body, record, self.contract)
        if "name" in changes:
            self.check_name(record.tenant_id, changes["name"], exclude=record.id)
        for key, value in changes.items():
            setattr(record, key, value)
        record.updated, record.updated_by = self.now(), self.user_id
        return self._shown(record)

    def _insert(self, tenant_id: str, fields: dict[str, Any]) -> Integration:
        now = self.now()
        record = Integration(id=str(uuid.uuid4()), tenant_id=tenant_id, type=fields["type"], name=fields["name"],
                             description=fields["description"], active=fields["active"],
                             properties=fields["properties"], created=now, created_by=self.user_id, updated=now,
                             updated_by=self.user_id)
        self.integrations[tenant_id][record.id] = record
        return record


def _positive(query: dict[str, str], key: str, default: int) -> int:
    value = query.get(key)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ApiError(400, f"'{key}' must be a whole number from 1.", {key: "Must be a whole number from 1."})
    return int(value)


def _uuid(value: str) -> str:
    """The canonical (lowercase) form of a UUID path id; anything else matches no resource."""
    if not UUID_RE.fullmatch(value):
        raise ApiError(MALFORMED_ID_STATUS, f"'{value}' is not a valid id (a UUID is expected).")
    return value.lower()
