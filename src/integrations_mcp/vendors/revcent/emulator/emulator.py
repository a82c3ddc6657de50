"""The emulator's state and its operations, independent of HTTP; `app.py` and `form_page.py` are thin over it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from integrations_mcp.emulation import FaultInjector, RecordedRequest, RecorderMiddleware
from integrations_mcp.vendors.revcent.emulator.app import build_app
from integrations_mcp.vendors.revcent.emulator.contract import (
    CREDENTIALS_REPLACE,
    FORM_SOURCES_WITH_ID,
    GENERIC_FORM_FIELDS,
    SANDBOX_API_KEY,
    SECURE_FORM_LIFETIME,
    SECURE_FORM_REUSABLE,
    ApiError,
    Contract,
    ErrorCode,
    name_key,
    new_id,
)
from integrations_mcp.vendors.revcent.emulator.fixtures import ASSET_CATALOG, SITE_IDS, site_integrations
from integrations_mcp.vendors.revcent.emulator.options import check_credentials, merge_options
from integrations_mcp.vendors.revcent.emulator.records import (
    Assets,
    SecureForm,
    UserIntegration,
    credentials_saved,
    integration_view,
)

__all__ = ["RevCentEmulator"]


class RevCentEmulator:
    """RevCent v2 third-party-integration operations, secure forms and the secure form page, in memory."""

    def __init__(self, api_key: str = SANDBOX_API_KEY, clock: Callable[[], float] = time.time, *,
                 keep_requests: int | None = None, contract: Contract | None = None) -> None:
        """`keep_requests`: record only that many, without bodies or headers (a long-running sandbox). `contract`:
        the undocumented behaviours (default: the documents, and the server's readings where they are silent)."""
        self.api_key = api_key
        self.contract = contract or Contract()
        self.clock = clock
        self.site_integrations: dict[str, dict[str, Any]] = site_integrations()
        self.user_integrations: dict[str, UserIntegration] = {}
        self.secure_forms: dict[str, SecureForm] = {}
        self.expired_form_ids: set[str] = set()  # ids only: the data is gone, the answer stays "expired"
        self.requests: list[RecordedRequest] = []
        self.faults = FaultInjector()
        self.app = RecorderMiddleware(build_app(self), self.requests, self.faults, keep=keep_requests,
                                      bodies=keep_requests is None)

    # --- test helpers ------------------------------------------------------------------------------------------

    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.startswith("/v2/")]

    def site_id(self, integration_type: str) -> str:
        return SITE_IDS[integration_type]

    def stored_credentials(self, user_integration_id: str) -> dict[str, str]:
        return dict(self.user_integrations[user_integration_id].credentials)

    def complete_secure_form(self, form_id: str, values: dict[str, str]) -> None:
        """Same effect as a person submitting the form page; raises ApiError/ValueError where the page refuses."""
        form = self.live_form(form_id)
        if form.completed:
            raise ValueError(f"secure form {form_id} is already completed, cannot be modified")
        known = {f["id"] for f in self.form_fields(form)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; the form has {sorted(known)}")
        missing = self.missing_fields(form, values)
        if missing:
            raise ValueError(f"required field(s) missing: {missing}")
        self.store_form_values(form, values)

    def add_user_integration(self, *, name: str, site_id: str, credentials: dict[str, str] | None = None,
                             options_saved: list[dict[str, Any]] | None = None, enabled: bool = False,
                             description: str = "") -> str:
        """Put an integration straight into the account (no request recorded); returns its id."""
        site = self.site(site_id)
        self.check_name(name)
        creds = credentials or {}
        check_credentials(site, {"id": site["third_party_credentials"]["id"],
                                 "fields": [{"id": k, "value": v} for k, v in creds.items()]})
        record = UserIntegration(id=self.new_id(), name=name, site_id=site_id, description=description, enabled=enabled,
                                 credentials={k: v for k, v in creds.items() if v})
        # Ids are checked, values are not: a builder may set up states the API would refuse.
        record.options = merge_options(site, {}, options_saved or [], None, check_values=False, mode="field")
        self.user_integrations[record.id] = record
        return record.id

    # --- lookups -----------------------------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def new_id(self) -> str:
        return new_id(self.contract.id_alphabet)

    def site(self, site_id: str) -> dict[str, Any]:
        site = self.site_integrations.get(site_id)
        if site is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Site third party integration '{site_id}' not found.")
        return site

    def integration(self, integration_id: str) -> UserIntegration:
        record = self.user_integrations.get(integration_id)
        if record is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"User third party integration '{integration_id}' not found.")
        return record

    def assets(self, site: dict[str, Any], credentials: dict[str, str]) -> Assets | None:
        """The provider's assets for this account, reachable only once credentials are saved."""
        return ASSET_CATALOG.get(site["id"], {}) if credentials_saved(site, credentials) else None

    def view(self, record: UserIntegration, *, with_assets: bool = True) -> dict[str, Any]:
        site = self.site_integrations[record.site_id]
        return integration_view(record, site, self.assets(site, record.credentials) if with_assets else None,
                                self.contract)

    # --- secure forms ------------------------------------------------------------------------------------------

    def _sweep(self) -> None:
        now = self.clock()
        for form_id in [f.id for f in self.secure_forms.values() if now >= f.expiration_date_unix]:
            del self.secure_forms[form_id]
            self.expired_form_ids.add(form_id)

    def create_form(self, form_source: str, form_source_id: str | None) -> SecureForm:
        self._sweep()
        if form_source == "third_party_integration":
            self.site(form_source_id or "")
        created = self.now()
        form = SecureForm(id=self.new_id(), form_source=form_source,
                          form_source_id=form_source_id if form_source in FORM_SOURCES_WITH_ID else None,
                          created_date_unix=created, expiration_date_unix=created + SECURE_FORM_LIFETIME,
                          csrf_token=secrets.token_urlsafe(32))
        self.secure_forms[form.id] = form
        return form

    def live_form(self, form_id: str) -> SecureForm:
        self._sweep()
        if form_id in self.expired_form_ids:
            raise ApiError(ErrorCode.SECURE_FORM_EXPIRED, f"Secure form '{form_id}' has expired and was deleted.")
        form = self.secure_forms.get(form_id)
        if form is None:
            raise ApiError(ErrorCode.SECURE_FORM_NOT_FOUND, f"Secure form '{form_id}' not found.")
        return form

    def form_site(self, form: SecureForm) -> dict[str, Any] | None:
        if form.form_source != "third_party_integration":
            return None
        return self.site_integrations[form.form_source_id or ""]

    def form_fields(self, form: SecureForm) -> list[dict[str, Any]]:
        site = self.form_site(form)
        fields = site["third_party_credentials"]["fields"] if site else GENERIC_FORM_FIELDS
        return [dict(f) for f in fields]

    def missing_fields(self, form: SecureForm, values: dict[str, str]) -> list[str]:
        return [f["name"] for f in self.form_fields(form) if f["required"] and not values.get(f["id"], "").strip()]

    def store_form_values(self, form: SecureForm, values: dict[str, str]) -> None:
        form.values = {f["id"]: values[f["id"]] for f in self.form_fields(form) if values.get(f["id"])}
        form.completed = True

    def form_credentials(self, form_id: str, site_id: str) -> dict[str, str]:
        """The credentials a completed secure form holds for `site_id`."""
        form = self.live_form(form_id)
        if not form.completed:
            raise ApiError(ErrorCode.SECURE_FORM_INCOMPLETE,
                           f"Secure form '{form_id}' has not been completed yet; open its form_url first.")
        if form.form_source != "third_party_integration" or form.form_source_id != site_id:
            raise ApiError(ErrorCode.SECURE_FORM_MISMATCH,
                           f"Secure form '{form_id}' was not created for site third party integration '{site_id}'.")
        values = dict(form.values)
        if not SECURE_FORM_REUSABLE:
            del self.secure_forms[form_id]
        return values

    # --- user integrations -------------------------------------------------------------------------------------

    def check_name(self, name: str, *, exclude: str | None = None) -> None:
        for record in self.user_integrations.values():
            if record.id != exclude and name_key(record.name) == name_key(name):
                raise ApiError(ErrorCode.DUPLICATE_NAME,
                               f"A user third party integration named '{record.name}' already exists.")

    def _credentials(self, site: dict[str, Any], body: dict[str, Any]) -> dict[str, str] | None:
        if "third_party_credentials" in body and "secure_form_id" in body:
            raise ApiError(ErrorCode.VALIDATION_ERROR,
                           "Send either third_party_credentials or secure_form_id, not both.")  # [I]
        if "secure_form_id" in body:
            return self.form_credentials(body["secure_form_id"], site["id"])
        if "third_party_credentials" in body:
            return check_credentials(site, body["third_party_credentials"])
        return None

    def create_integration(self, body: dict[str, Any]) -> str:
        site = self.site(body["site_third_party_integration"])
        self.check_name(body["name"])
        credentials = self._credentials(site, body) or {}
        record = UserIntegration(id=self.new_id(), name=body["name"], site_id=site["id"],
                                 description=body.get("description", ""), enabled=body.get("enabled", False),
                                 credentials=credentials)
        self.user_integrations[record.id] = record
        return record.id

    def edit_integration(self, integration_id: str, body: dict[str, Any]) -> None:
        """A partial update: only the keys sent change, and nothing changes unless all of them are valid."""
        record = self.integration(integration_id)
        site = self.site_integrations[record.site_id]
        if "name" in body:
            self.check_name(body["name"], exclude=record.id)
        credentials = record.credentials
        sent_credentials = self._credentials(site, body)
        if sent_credentials is not None:
            credentials = sent_credentials if CREDENTIALS_REPLACE else {**credentials, **sent_credentials}
        options = record.options
        if "third_party_options" in body:
            options = merge_options(site, options, body["third_party_options"], self.assets(site, credentials),
                                    mode=self.contract.options_edit)
        record.name = body.get("name", record.name)
        record.description = body.get("description", record.description)
        record.enabled = body.get("enabled", record.enabled)
        record.credentials, record.options = credentials, options
