"""The plan stage of CxEngage's writes, as pure functions: from the arguments, the saved record and the secure
form's status to the exact change (the body to send, each field's saved → proposed, readiness before and after).
Nothing here refuses or does I/O; `rules.py` judges the plan and `writes.py` runs it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.pipeline.changes import FieldChange, is_set
from integrations_mcp.pipeline.confirm import ConfirmationPolicy, ConfirmationRequest, dry_run_steps
from integrations_mcp.pipeline.journal import Planned
from integrations_mcp.secure_forms.store import SecureFormStatus
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS, TypeSpec
from integrations_mcp.vendors.cxengage.learned import KNOWN_SET, Learned, looks_masked
from integrations_mcp.vendors.cxengage.models import Readiness, WriteResult
from integrations_mcp.vendors.cxengage.records import IntegrationRecord
from integrations_mcp.vendors.cxengage.views import (
    PROPERTY,
    journal_image,
    property_changes,
    readiness,
    redacted_body,
    secret_changes,
)

__all__ = ["DESTINATION", "CreateArgs", "CreatePlan", "EditArgs", "EditPlan", "WritePlan", "destination_of",
           "form_purpose", "plan_create",
           "plan_edit"]

FROM_FORM = "(from secure form)"  # stands in for a secret the form fills, when readiness is projected


DESTINATION = "at."  # purpose keys naming where the secrets are used, e.g. "at.endpointPrefix"


def destination_of(spec: TypeSpec, properties: Mapping[str, Any]) -> dict[str, str]:
    """Where secrets of this type go, in these properties: the type's destination properties that are set."""
    return {p.name: str(properties[p.name]) for p in spec.destinations if is_set(properties.get(p.name))}


def form_purpose(tenant_id: str, spec: TypeSpec, integration_id: str | None,
                 destination: Mapping[str, str]) -> dict[str, str]:
    """What a secure form is made for; a write may use only a form made for the same, destination included."""
    return {"vendor": "cxengage", "tenant": tenant_id, "type": spec.name, "integration": integration_id or "",
            **{DESTINATION + name: value for name, value in destination.items()}}


@dataclass(frozen=True)
class CreateArgs:
    tenant_id: str
    name: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    active: bool = False
    secure_form_id: str | None = None


@dataclass(frozen=True)
class EditArgs:
    tenant_id: str
    integration_id: str
    name: str | None = None
    description: str | None = None
    active: bool | None = None
    properties: dict[str, Any] | None = None
    secure_form_id: str | None = None


@dataclass(frozen=True)
class WritePlan:
    tenant_id: str
    spec: TypeSpec
    purpose: dict[str, str]  # what the secure form must have been made for
    form: SecureFormStatus | None  # the form's status when one is given; its values are taken only to send
    given: dict[str, Any]  # the properties as given, to check against the type
    body: dict[str, Any]  # what is sent, without the form's secrets
    changes: list[FieldChange]
    after: Readiness  # once written, counting the form's secrets as set

    @property
    def saved(self) -> Mapping[str, Any]:
        """The properties saved before the write (none before a create)."""
        return {}

    @property
    def filled(self) -> list[str]:
        """The secret properties the form fills."""
        return self.form.filled_fields if self.form else []

    def shown(self) -> dict[str, Any]:
        """The body as a dry run shows it: secrets redacted, the form's as [redacted] too."""
        if "properties" not in self.body:
            return redacted_body(self.body)
        return redacted_body({**self.body, "properties": {**self.body["properties"],
                                                          **{k: REDACTED for k in self.filled}}})

    # What the plan says about its write (`pipeline.write.Described`).

    @property
    def labels(self) -> dict[str, str]:
        """What the person reads for each field: the type's property titles."""
        return {"name": "Name", "description": "Description", "active": "Active", "type": "Type",
                **{PROPERTY + p.name: p.title for p in self.spec.properties}}

    @property
    def fingerprint(self) -> Any:
        """The approval covers these changes to this saved state (secrets included: the digest is keyed and never
        shown): any other change to it voids the approval."""
        return {"body": self.shown(), "changes": [c.model_dump(mode="json") for c in self.changes]}


@dataclass(frozen=True)
class CreatePlan(WritePlan):
    name: str

    @property
    def target(self) -> str:
        return f"a new {self.spec.name} integration {self.name!r} (tenant {self.tenant_id})"

    @property
    def journal(self) -> Planned:
        return Planned(None, None, self.changes, secret_changes(self.changes))

    @property
    def settle(self) -> str:
        return (f"look for {self.name!r} with GetCxEngageIntegrations(name=...) (if it answers complete=false, "
                "CxEngage's list may leave it out); the secure form, if any, is spent")

    def preview(self, needed: list[ConfirmationRequest], policy: ConfirmationPolicy) -> WriteResult:
        return WriteResult(dry_run=True, sent=self.shown(), changes=self.changes,
                           next_steps=dry_run_steps(needed, "to create it", policy))


@dataclass(frozen=True)
class EditPlan(WritePlan):
    integration_id: str  # as asked (the saved record is `current`)
    current: IntegrationRecord
    before: Readiness  # as saved
    # PUT replaces `properties` (learned): the untouched properties re-sent so that they survive, and the secrets
    # that would be erased because CxEngage does not return them in clear (a masked value is never sent back).
    resent: list[str] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)

    @property
    def saved(self) -> Mapping[str, Any]:
        return self.current.properties

    @property
    def touches_properties(self) -> bool:
        return "properties" in self.body

    @property
    def new_name(self) -> str | None:
        return self.body.get("name")

    @property
    def new_active(self) -> bool | None:
        """What the edit sets `active` to; None when it leaves it alone."""
        return self.body.get("active")

    @property
    def target(self) -> str:
        return (f"the CxEngage {self.spec.title} integration {self.current.name!r} ({self.current.id}, tenant "
                f"{self.tenant_id})")

    @property
    def fingerprint(self) -> Any:
        return {**super().fingerprint, "saved": self.current.model_dump(mode="json")}

    @property
    def journal(self) -> Planned:
        before = journal_image(self.current, self.tenant_id)
        return Planned(self.current.id, before, self.changes, secret_changes(self.changes))

    @property
    def settle(self) -> str:
        return (f"read it with GetCxEngageIntegration(integration_id={self.integration_id!r}) and compare with "
                "the change")

    def preview(self, needed: list[ConfirmationRequest], policy: ConfirmationPolicy) -> WriteResult:
        return WriteResult(dry_run=True, integration_id=self.integration_id, sent=self.shown(),
                           changes=self.changes, next_steps=dry_run_steps(needed, "to save the edit", policy))


def plan_create(spec: TypeSpec, args: CreateArgs, form: SecureFormStatus | None) -> CreatePlan:
    plain = dict(args.properties)
    filled = form.filled_fields if form else []
    body: dict[str, Any] = {"name": args.name, "type": spec.name, "active": args.active, "properties": plain}
    if args.description is not None:
        body["description"] = args.description
    changes = [FieldChange(field=k, proposed=v) for k, v in body.items() if k != "properties"]
    changes += property_changes({}, plain, filled)
    purpose = form_purpose(args.tenant_id, spec, None, destination_of(spec, plain))
    return CreatePlan(tenant_id=args.tenant_id, spec=spec, purpose=purpose, form=form, given=plain, body=body,
                      changes=changes, after=readiness(spec, {**plain, **{k: FROM_FORM for k in filled}}),
                      name=args.name)


def plan_edit(spec: TypeSpec, current: IntegrationRecord, args: EditArgs, form: SecureFormStatus | None,
              learned: Learned | None = None) -> EditPlan:
    """Only what differs from the saved record is sent: fields given with their saved value, and properties equal
    to what is saved, are left out (so untouched secrets never travel again) while PUT merges `properties` (fact
    cxengage.properties_merge). Once the process has learned that PUT replaces them, an edit of properties sends
    the whole set: every saved property but secrets that cannot be sent back (masked, or left out of reads), which
    are listed as erased unless the form fills them."""
    learned = learned if learned is not None else Learned()
    saved = learned.known(args.tenant_id, current.id, current.properties, [p.name for p in spec.secrets])
    given = dict(args.properties or {})
    plain = {k: v for k, v in given.items() if saved.get(k) != v}
    filled = form.filled_fields if form else []
    body: dict[str, Any] = {}
    changes: list[FieldChange] = []
    fields = (("name", args.name, current.name), ("description", args.description, current.description),
              ("active", args.active, current.active))
    for key, value, before in fields:
        if value is not None and value != before:
            body[key] = value
            changes.append(FieldChange.of(key, before, value))
    changes += property_changes(saved, plain, filled)
    resent: list[str] = []
    erased: list[str] = []
    if plain or filled:
        body["properties"] = plain
        if learned.properties_edit == "replace":
            keep = {k: v for k, v in saved.items() if k not in plain and k not in filled and _sendable(k, v)}
            resent = sorted(keep)
            body["properties"] = {**keep, **plain}
            erased = [p.name for p in spec.secrets if p.name not in filled and p.name not in plain
                      and p.name not in keep and _may_hold(saved.get(p.name), learned, p.name in saved)]
    unreadable = learned.secrets_on_read == "omit"
    after = readiness(spec, {**{k: v for k, v in saved.items() if k not in erased}, **plain,
                             **{k: FROM_FORM for k in filled}}, unreadable=unreadable)
    purpose = form_purpose(args.tenant_id, spec, args.integration_id, destination_of(spec, {**saved, **plain}))
    return EditPlan(tenant_id=args.tenant_id, spec=spec, purpose=purpose, form=form, given=given, body=body,
                    changes=changes, after=after, integration_id=args.integration_id, current=current,
                    before=readiness(spec, saved, unreadable=unreadable), resent=resent, erased=erased)


def _sendable(key: str, value: Any) -> bool:
    """A saved property that can be sent back as it is: not a masked secret, not a stand-in for one."""
    return not (SECRET_KEYS(key) and (looks_masked(value) or value == KNOWN_SET))


def _may_hold(value: Any, learned: Learned, present: bool) -> bool:
    """A secret that cannot be sent back may be set: masked, known set, or left out by a vendor that omits them."""
    if present:
        return is_set(value)
    return learned.secrets_on_read == "omit"

