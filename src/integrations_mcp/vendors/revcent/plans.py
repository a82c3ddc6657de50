"""The plan stage of the RevCent writes: pure functions from the tool's arguments and the saved record to the exact
change (the body to send, each field's saved → proposed, what must read back afterwards)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from integrations_mcp.pipeline.changes import FieldChange, is_set
from integrations_mcp.pipeline.confirm import ConfirmationPolicy, ConfirmationRequest, dry_run_steps
from integrations_mcp.pipeline.journal import Planned
from integrations_mcp.vendors.revcent.facts import OPTIONS_EDIT, SECURE_FORM_FIELD, CredentialsVia, OptionsEdit
from integrations_mcp.vendors.revcent.models import OptionInput, Readiness, WriteResult
from integrations_mcp.vendors.revcent.records import SiteIntegration, UserIntegration
from integrations_mcp.vendors.revcent.server_forms import credentials_body
from integrations_mcp.vendors.revcent.views import (
    SavedValues,
    is_secret_option,
    journal_image,
    looks_masked,
    missing_credentials,
    readiness,
    saved_values,
)

__all__ = ["CreatePlan", "CreateRequest", "EditPlan", "EditRequest", "WritePlan", "option_changes", "options_body",
           "plan_create", "plan_edit", "project_values"]

DRAFT_ID = "-" * 20  # stands in for the id RevCent has not assigned yet
GUIDE_ORDER = ("name/description", "credentials", "options", "enabled state")  # the Edit guide's "Edit 1..4"


@dataclass(frozen=True)
class CreateRequest:
    name: str
    site_id: str
    secure_form_id: str | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class EditRequest:
    """The edit tool's arguments; None leaves a field as saved."""

    integration_id: str
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    secure_form_id: str | None = None
    third_party_options: list[OptionInput] | None = None

    def given(self) -> list[str]:
        return [key for key in ("name", "description", "enabled", "secure_form_id", "third_party_options")
                if getattr(self, key) is not None]


@dataclass(frozen=True, kw_only=True)
class WritePlan:
    """What one write sends, and what must read back as sent."""

    site: SiteIntegration
    body: dict[str, Any]
    changes: list[FieldChange]
    secure_form_id: str | None  # credentials are sent through this form
    via: CredentialsVia  # whose form: RevCent's (its id is sent) or the server's (its values are sent)
    expected: dict[str, Any]  # name, description, enabled as sent
    expected_options: SavedValues  # every option field sent

    @property
    def enabling(self) -> bool:
        return self.body.get("enabled") is True

    @property
    def disabling(self) -> bool:
        return self.body.get("enabled") is False

    @property
    def new_name(self) -> str | None:
        return self.body.get("name")

    def readiness_after(self) -> Readiness:
        raise NotImplementedError

    # What the plan says about its write (`pipeline.write.Described`).

    @property
    def labels(self) -> dict[str, str]:
        """What the person reads for each field (the site's own names, never option or field ids)."""
        return {"name": "Name", "description": "Description", "enabled": "Enabled", "credentials": "Credentials",
                "site_third_party_integration": "Native integration",
                **{f"third_party_options.{o.id}.{f.id}": f"{o.name or o.id}: {f.name or f.id}"
                   for o in self.site.third_party_options for f in o.fields}}

    @property
    def secrets(self) -> list[str]:
        return ["credentials"] if self.secure_form_id else []


@dataclass(frozen=True, kw_only=True)
class CreatePlan(WritePlan):
    def readiness_after(self) -> Readiness:
        """Credentials a form sends count only once a read-back shows them saved, so not here."""
        draft = UserIntegration(id=DRAFT_ID, name=self.body["name"], site_third_party_integration=self.site)
        return readiness(draft, values={})

    @property
    def target(self) -> str:
        return f"a new integration {self.body['name']!r}"

    @property
    def fingerprint(self) -> Any:
        return {"body": self.body, "site": self.site.model_dump(mode="json")}

    @property
    def journal(self) -> Planned:
        return Planned(None, None, self.changes, self.secrets)

    @property
    def settle(self) -> str:
        return (f"list the integrations (GetUserThirdPartyIntegrations) and look for {self.body['name']!r}; the "
                "secure form, if any, is spent")

    def preview(self, needed: list[ConfirmationRequest], policy: ConfirmationPolicy) -> WriteResult:
        return WriteResult(dry_run=True, sent=self.body, changes=self.changes,
                           next_steps=dry_run_steps(needed, "to create it", policy))


@dataclass(frozen=True, kw_only=True)
class EditPlan(WritePlan):
    current: UserIntegration
    options: list[OptionInput]  # as given, checked against the site's schema by rules.check_options
    saved: SavedValues  # the option values saved before the edit
    options_edit: OptionsEdit = OPTIONS_EDIT  # what RevCent does with option fields not sent, as far as known
    # Saved fields sent again only because options_edit needs it; secret fields RevCent would drop (never re-sent).
    resent: SavedValues = dataclass_field(default_factory=dict)
    unsent: list[tuple[str, str]] = dataclass_field(default_factory=list)
    options_edit_seen: bool = False  # whether a write here has shown options_edit (else it is the fact's reading)

    @property
    def touched_secrets(self) -> list[tuple[str, str]]:
        """Secret fields of the options this edit sends: at risk while RevCent's edit behaviour is unseen."""
        sent = {o["id"] for o in self.body.get("third_party_options", [])}
        return [(o.id, f.id) for o in self.site.third_party_options if o.id in sent for f in o.fields
                if is_secret_option(o.id, f.id)]

    @property
    def groups(self) -> list[str]:
        """The kinds of change this edit makes, as the Edit guide separates risky ones ("Edit 1: name / description,
        Edit 2: credentials, Edit 3: options/assets, Edit 4: enabled state")."""
        kinds = {"name": "name/description", "description": "name/description", "enabled": "enabled state",
                 "third_party_options": "options"}
        found = {kinds.get(key, "credentials") for key in self.body}
        return [kind for kind in GUIDE_ORDER if kind in found]

    def readiness_after(self) -> Readiness:
        """Readiness of the state this edit leaves. Credentials a form sends count only once a read-back shows them
        saved."""
        credentials = not missing_credentials(self.site, self.current.third_party_credentials_saved)
        return readiness(self.current, values=project_values(self.options, self.saved), credentials_saved=credentials)

    @property
    def target(self) -> str:
        return f"the RevCent {self.site.integration_type} integration {self.current.name!r} ({self.current.id})"

    @property
    def fingerprint(self) -> Any:
        """The approval covers these changes to this saved state: any other change to it voids the approval."""
        return {"body": self.body, "changes": [c.model_dump(mode="json") for c in self.changes],
                "saved": self.current.model_dump(mode="json")}

    @property
    def journal(self) -> Planned:
        return Planned(self.current.id, journal_image(self.current), self.changes, self.secrets)

    @property
    def settle(self) -> str:
        return (f"read it with GetUserThirdPartyIntegration(user_third_party_integration_id={self.current.id!r}) "
                "and compare with the change")

    def preview(self, needed: list[ConfirmationRequest], policy: ConfirmationPolicy) -> WriteResult:
        return WriteResult(dry_run=True, user_third_party_integration_id=self.current.id, sent=self.body,
                           changes=self.changes, next_steps=dry_run_steps(needed, "to save the edit", policy))


def _credentials_field(site: SiteIntegration, form_id: str, via: CredentialsVia) -> tuple[str, Any]:
    """What carries the credentials: RevCent's form id, or (server form) the documented third_party_credentials,
    shown here with placeholders; the values are filled in only when the write is sent."""
    if via == "revcent-form":
        return SECURE_FORM_FIELD, form_id
    return "third_party_credentials", credentials_body(site)


def plan_create(site: SiteIntegration, request: CreateRequest, via: CredentialsVia = "revcent-form") -> CreatePlan:
    body: dict[str, Any] = {"name": request.name, "site_third_party_integration": site.id}
    if request.description is not None:
        body["description"] = request.description
    if request.secure_form_id:
        key, value = _credentials_field(site, request.secure_form_id, via)
        body[key] = value
    if request.enabled is not None:
        body["enabled"] = request.enabled
    credentials = ("third_party_credentials", SECURE_FORM_FIELD)  # shown as one line, never as a form id
    changes = [FieldChange(field=k, proposed=v) for k, v in body.items() if k not in credentials]
    if request.secure_form_id:
        changes.append(FieldChange(field="credentials", proposed="from the secure form"))
    return CreatePlan(site=site, body=body, changes=changes, secure_form_id=request.secure_form_id or None, via=via,
                      expected=_expected(body), expected_options={})


def plan_edit(current: UserIntegration, edit: EditRequest, via: CredentialsVia = "revcent-form",
              options_edit: OptionsEdit = OPTIONS_EDIT, options_edit_seen: bool = False) -> EditPlan:
    """Only what differs from the saved record is sent (the Edit guide: "do not include fields that should remain
    unchanged"). Of the options, what RevCent's edit behaviour ([I] revcent.options_edit) needs so that nothing saved
    is lost: the fields that change ("field"), the whole of each option that changes ("option"), or every saved
    option ("replace"). Fields that hold a secret are never sent back; the rules refuse an edit that would have to."""
    saved = saved_values(current.third_party_options_saved)
    body: dict[str, Any] = {}
    changes: list[FieldChange] = []
    for key in ("name", "description", "enabled"):
        value, before = getattr(edit, key), getattr(current, key)
        if value is not None and value != before:
            body[key] = value
            changes.append(FieldChange.of(key, before, value))
    if edit.secure_form_id:
        key, value = _credentials_field(current.site_third_party_integration, edit.secure_form_id, via)
        body[key] = value
        changes.append(_credentials_change(current))
    options = edit.third_party_options or []
    changed = [item for item in options if option_changes([item], saved)]
    sent_options, resent = options_body(changed, saved, options_edit), {}
    if sent_options:
        body["third_party_options"] = sent_options
        changes += option_changes(changed, saved)
        given = {(o.id, f.id) for o in changed for f in o.fields}
        resent = {(o["id"], f["id"]): f["value"] for o in sent_options for f in o["fields"]
                  if (o["id"], f["id"]) not in given}
    site = current.site_third_party_integration
    scope = {o["id"] for o in sent_options} if options_edit != "replace" or not sent_options else \
        {o.id for o in site.third_party_options}
    projected = project_values(changed, saved)
    unsent = [(o.id, f.id) for o in site.third_party_options if o.id in scope and options_edit != "field"
              for f in o.fields if is_secret_option(o.id, f.id)
              or _never_resent(o.id, f.id, projected.get((o.id, f.id)) or [])] if sent_options else []
    return EditPlan(site=site, body=body, changes=changes, secure_form_id=edit.secure_form_id or None, via=via,
                    expected=_expected(body),
                    expected_options={(o["id"], f["id"]): f["value"] for o in sent_options for f in o["fields"]},
                    current=current, options=options, saved=saved, options_edit=options_edit, resent=resent,
                    unsent=unsent, options_edit_seen=options_edit_seen)


def _expected(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("name", "description", "enabled") if k in body}


def _credentials_change(current: UserIntegration) -> FieldChange:
    # Credentials are never shown, only whether some are saved.
    saved = bool(current.third_party_credentials_saved)
    return FieldChange(field="credentials", saved="saved" if saved else None,
                       proposed="replaced from the secure form" if saved else "from the secure form", overwrites=saved)


def option_changes(proposal: list[OptionInput], saved: SavedValues) -> list[FieldChange]:
    """One FieldChange per proposed field whose value differs from what is saved."""
    changes = []
    for item in proposal:
        for field in item.fields:
            before = saved.get((item.id, field.id)) or []
            if list(field.value) != before:
                changes.append(FieldChange(field=f"third_party_options.{item.id}.{field.id}", saved=before or None,
                                           proposed=list(field.value), overwrites=is_set(before)))
    return changes


def options_body(proposal: list[OptionInput], saved: SavedValues,
                 options_edit: OptionsEdit = OPTIONS_EDIT) -> list[dict[str, Any]]:
    """Wire form of the options to send (`proposal`: the options that change). "field": of each, only the fields
    whose value changes; "option": each one whole (its saved fields with the proposal over them); "replace": every
    option saved or proposed, whole. Secret fields are left out (never sent back); `EditPlan.unsent` names them."""
    if options_edit == "field":
        body = []
        for item in proposal:
            fields = [{"id": f.id, "value": list(f.value)} for f in item.fields
                      if list(f.value) != (saved.get((item.id, f.id)) or [])]
            if fields:
                body.append({"id": item.id, "fields": fields})
        return body
    if not proposal:
        return []
    projected = project_values(proposal, saved)
    touched = {item.id for item in proposal}
    order = [item.id for item in proposal] + sorted({o for o, _ in saved} - touched)
    scope = order if options_edit == "replace" else [item.id for item in proposal]
    body = []
    for option_id in scope:
        fields = [{"id": f, "value": list(v)} for (o, f), v in projected.items()
                  if o == option_id and v and not _never_resent(o, f, v)]
        if fields:
            body.append({"id": option_id, "fields": fields})
    return body


def _never_resent(option_id: str, field_id: str, value: list[str]) -> bool:
    """A secret (by its id) or a value RevCent masked: never sent back."""
    return is_secret_option(option_id, field_id) or any(looks_masked(v) for v in value)


def project_values(proposal: list[OptionInput], saved: SavedValues) -> SavedValues:
    projected = dict(saved)
    for item in proposal:
        for field in item.fields:
            projected[(item.id, field.id)] = list(field.value)
    return projected
