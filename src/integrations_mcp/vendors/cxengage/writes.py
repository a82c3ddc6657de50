"""CxEngage's writes as `pipeline.write.WriteStages`: create and edit an integration. Each stage is one method;
`run_write` runs them in order (plan → check → confirm → send → verify)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations_mcp.errors import VendorError
from integrations_mcp.guardrails.text import name_key
from integrations_mcp.pipeline.changes import is_set
from integrations_mcp.pipeline.confirm import ConfirmationPolicy, ConfirmationRequest, dry_run_steps
from integrations_mcp.pipeline.journal import Planned, Written
from integrations_mcp.secure_forms.single_use import spending
from integrations_mcp.secure_forms.store import SecureFormStatus, SecureFormStore
from integrations_mcp.vendors.cxengage import rules
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS
from integrations_mcp.vendors.cxengage.client import CxEngageClient
from integrations_mcp.vendors.cxengage.facts import MASK_CHARACTERS, VENDOR_ECHOES_SECRETS
from integrations_mcp.vendors.cxengage.models import IntegrationView, WriteResult
from integrations_mcp.vendors.cxengage.plans import (
    CreateArgs,
    CreatePlan,
    EditArgs,
    EditPlan,
    WritePlan,
    plan_create,
    plan_edit,
)
from integrations_mcp.vendors.cxengage.records import IntegrationRecord
from integrations_mcp.vendors.cxengage.views import (
    PROPERTY,
    journal_image,
    redact_properties,
    redacted_body,
    secret_changes,
    secret_values_in,
    view,
)

__all__ = ["CreateIntegration", "EditIntegration", "Sent"]


@dataclass(frozen=True)
class Sent:
    integration_id: str
    body: dict[str, Any]  # as sent, secrets included: compared with the read-back here, never returned


class _Write:
    """What both writes share: the client, the secure forms of the asking session, and the verify stage."""

    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, tenant_id: str,
                 policy: ConfirmationPolicy) -> None:
        self.api, self.forms, self.owner, self.tenant_id, self.policy = api, forms, owner, tenant_id, policy

    def labels(self, plan: WritePlan) -> dict[str, str]:
        """What the person reads for each field: the type's property titles."""
        return {"name": "Name", "description": "Description", "active": "Active", "type": "Type",
                **{PROPERTY + p.name: p.title for p in plan.spec.properties}}

    def _keys(self, *, name: str | None, form_id: str | None) -> list[str]:
        """Two writers with one name in the tenant, or with one form, must not both pass their checks."""
        keys = [f"cxengage:{self.tenant_id}:name:{name_key(name)}"] if name else []
        return keys + ([f"cxengage:form:{form_id}"] if form_id else [])

    def form(self, form_id: str | None) -> SecureFormStatus | None:
        return self.forms.status(form_id, owner=self.owner) if form_id else None

    async def with_form_values(self, form_id: str | None, purpose: dict[str, str],
                               call: Callable[[dict[str, str]], Awaitable[Sent]]) -> Sent:
        """Take the form's values (if any) just before the vendor call. If CxEngage refused the write (a 4xx:
        nothing was written) give them back, so the person need not type them again. After a timeout, a 5xx or an
        unreadable answer the write may have happened, and a form works once: it stays spent."""
        if not form_id:
            return await call({})
        secrets = self.forms.take(form_id, owner=self.owner, purpose=purpose)
        return await spending(lambda: call(secrets),
                              give_back=lambda: self.forms.restore(form_id, owner=self.owner, values=secrets))

    def journal_result(self, result: WriteResult) -> Written:
        after = journal_image(result.verified.integration, self.tenant_id) if result.verified else None
        return Written(result.integration_id, after, result.mismatches)

    async def verify(self, plan: WritePlan, sent: Sent) -> WriteResult:
        """The result of a write that CxEngage accepted, verified by reading it back. A failed read-back is reported
        as such: the write itself happened and must not look like a failure."""
        result = WriteResult(dry_run=False, integration_id=sent.integration_id, sent=redacted_body(sent.body),
                             changes=plan.changes)
        try:
            record = await self.api.get_integration(self.tenant_id, sent.integration_id)
        except VendorError as exc:
            result.mismatches = [f"The write succeeded, but reading it back failed: {exc}"]
            result.next_steps = ["Read it with GetCxEngageIntegration to check the saved state before anything else."]
            return result
        result.verified = view(record)
        result.mismatches = mismatches(record, sent.body, plan.saved)
        result.next_steps = next_steps(result.verified, result.mismatches)
        return result


class CreateIntegration(_Write):
    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, policy: ConfirmationPolicy,
                 args: CreateArgs) -> None:
        super().__init__(api, forms, owner, args.tenant_id, policy)
        self.args = args

    def lock_keys(self) -> list[str]:
        return self._keys(name=self.args.name, form_id=self.args.secure_form_id)

    async def reconcile(self, plan: CreatePlan) -> Sent | None:
        """The new integration, if it exists under the planned name (names are unique in a tenant). Its secrets,
        spent with the lost call, are not compared."""
        wanted = name_key(plan.name)
        rows = await self.api.list_integrations(self.tenant_id)
        return next((Sent(row.id, plan.body) for row in rows if name_key(row.name) == wanted), None)

    def settle(self, plan: CreatePlan) -> str:
        return (f"list the integrations (GetCxEngageIntegrations) and look for {plan.name!r}; the secure form, if "
                "any, is spent")

    def target(self, plan: CreatePlan) -> str:
        return f"a new {plan.spec.name} integration {plan.name!r} (tenant {self.tenant_id})"

    def journal_plan(self, plan: CreatePlan) -> Planned:
        return Planned(None, None, plan.changes, secret_changes(plan.changes))

    def fingerprint(self, plan: CreatePlan) -> Any:
        return {"body": plan.shown(), "changes": [c.model_dump(mode="json") for c in plan.changes]}

    async def plan(self) -> CreatePlan:
        return plan_create(rules.resolve_type(self.args.type), self.args, self.form(self.args.secure_form_id))

    async def check(self, plan: CreatePlan) -> None:
        rules.check_properties(plan.spec, plan.given, ui_rules=self.args.active)
        if plan.form:
            rules.require_usable_form(plan.form, plan.purpose)
        if self.args.active:
            rules.require_complete(plan.spec, plan.after)
        rules.require_unique_name(await self.api.list_integrations(self.tenant_id), plan.name)

    def confirmations(self, plan: CreatePlan) -> list[ConfirmationRequest]:
        return []

    def preview(self, plan: CreatePlan, needed: list[ConfirmationRequest]) -> WriteResult:
        return WriteResult(dry_run=True, sent=plan.shown(), changes=plan.changes,
                           next_steps=dry_run_steps(needed, "to create it", self.policy))

    async def send(self, plan: CreatePlan) -> Sent:
        async def call(secrets: dict[str, str]) -> Sent:
            full = {**plan.body, "properties": {**plan.body["properties"], **secrets}}
            created = await self.api.create_integration(self.tenant_id, full, scrub=secrets.values())
            return Sent(created.id, full)

        return await self.with_form_values(self.args.secure_form_id, plan.purpose, call)


class EditIntegration(_Write):
    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, policy: ConfirmationPolicy,
                 args: EditArgs) -> None:
        super().__init__(api, forms, owner, args.tenant_id, policy)
        self.args = args

    async def reconcile(self, plan: EditPlan) -> Sent | None:
        return None  # an edit's outcome is not told by a read alone (the values may have been there already)

    def settle(self, plan: EditPlan) -> str:
        return (f"read it with GetCxEngageIntegration(integration_id={self.args.integration_id!r}) and compare with "
                "the change")

    def lock_keys(self) -> list[str]:
        own = f"cxengage:{self.tenant_id}:integration:{self.args.integration_id}"
        return [own, *self._keys(name=self.args.name, form_id=self.args.secure_form_id)]

    def target(self, plan: EditPlan) -> str:
        return (f"the CxEngage {plan.spec.title} integration {plan.current.name!r} ({plan.current.id}, tenant "
                f"{self.tenant_id})")

    def journal_plan(self, plan: EditPlan) -> Planned:
        before = journal_image(plan.current, self.tenant_id)
        return Planned(plan.current.id, before, plan.changes, secret_changes(plan.changes))

    def fingerprint(self, plan: EditPlan) -> Any:
        """The approval covers these changes to this saved state (secrets included: the digest is keyed and never
        shown): any other change to it voids the approval."""
        return {"body": plan.shown(), "changes": [c.model_dump(mode="json") for c in plan.changes],
                "saved": plan.current.model_dump(mode="json")}

    async def plan(self) -> EditPlan:
        current = await self.api.get_integration(self.tenant_id, self.args.integration_id)
        return plan_edit(rules.resolve_type(current.type), current, self.args, self.form(self.args.secure_form_id))

    async def check(self, plan: EditPlan) -> None:
        active_after = plan.new_active if plan.new_active is not None else plan.current.active
        rules.check_properties(plan.spec, plan.given, ui_rules=active_after)
        if plan.new_active is True:  # activating: the UI's formats apply to what stays saved too
            rules.check_properties(plan.spec, {**plan.saved, **plan.given}, ui_rules=True)
        if plan.form:
            rules.require_usable_form(plan.form, plan.purpose)
        rules.require_something_to_change(plan.changes)
        if plan.new_name is not None:
            rows = await self.api.list_integrations(self.tenant_id)
            rules.require_unique_name(rows, plan.new_name, exclude_id=self.args.integration_id)
        rules.refuse_emptying_required(plan.before, plan.after, active=active_after)
        rules.require_complete_if_active(plan.after, activating=plan.new_active is True,
                                         stays_active=plan.new_active is None and plan.current.active,
                                         touches_properties=plan.touches_properties)

    def confirmations(self, plan: EditPlan) -> list[ConfirmationRequest]:
        replaced = plan.form.filled_fields if plan.form else []
        requests = (rules.overwrite_confirmation(plan.changes, plan.saved),
                    rules.destination_confirmation(plan.spec, plan.changes, plan.saved, replaced),
                    rules.rename_confirmation(plan.current.name, plan.new_name, plan.current.active),
                    rules.deactivation_confirmation(plan.current.name, plan.new_active))
        return [request for request in requests if request is not None]

    def preview(self, plan: EditPlan, needed: list[ConfirmationRequest]) -> WriteResult:
        return WriteResult(dry_run=True, integration_id=self.args.integration_id, sent=plan.shown(),
                           changes=plan.changes, next_steps=dry_run_steps(needed, "to save the edit", self.policy))

    async def send(self, plan: EditPlan) -> Sent:
        async def call(secrets: dict[str, str]) -> Sent:
            body = plan.body
            if secrets:
                body = {**body, "properties": {**body["properties"], **secrets}}
            await self.api.update_integration(self.tenant_id, self.args.integration_id, body,
                                              scrub=[*secrets.values(), *secret_values_in(plan.saved)])
            return Sent(self.args.integration_id, body)

        return await self.with_form_values(self.args.secure_form_id, plan.purpose, call)


def mismatches(record: IntegrationRecord, sent: Mapping[str, Any], before: Mapping[str, Any]) -> list[str]:
    """Where the read-back differs from what was sent, or from what was saved before and not sent: the latter
    first (a property lost or changed although the edit did not name it, e.g. if PUT replaced `properties`).
    Secrets are compared here, server-side, and never shown; one read back masked is compared by presence only
    ([I] fact cxengage.secrets_echoed)."""
    untouched: list[str] = []
    found = [f"{k}: sent {v!r}, read back {getattr(record, k)!r}" for k, v in sent.items()
             if k not in ("properties", "type") and getattr(record, k) != v]
    saved = record.properties
    sent_properties: Mapping[str, Any] = sent.get("properties") or {}
    for key, value in {**before, **sent_properties}.items():
        secret = SECRET_KEYS(key)
        if _same(saved.get(key), value, secret=secret):
            continue
        if key not in sent_properties:
            untouched.append(f"properties.{key}: changed although this edit did not touch it"
                             + ("" if secret else f" (was {_shown(value)!r})"))
        elif secret:
            found.append(f"properties.{key}: the secret sent was not read back")
        else:
            found.append(f"properties.{key}: sent {_shown(value)!r}, read back {_shown(saved.get(key))!r}")
    return untouched + found


def _same(read: Any, expected: Any, *, secret: bool) -> bool:
    if read == expected:
        return True
    masked = isinstance(read, str) and len(read) >= 3 and set(read) <= MASK_CHARACTERS
    return secret and (masked or not VENDOR_ECHOES_SECRETS) and is_set(read) == is_set(expected)


def next_steps(verified: IntegrationView, found: list[str] | None = None) -> list[str]:
    r, record = verified.readiness, verified.integration
    steps = [f"The saved state differs from what this write should have left: {found[0]}. Tell the user first; "
             "put back anything lost only with their agreement."] if found else []
    if r.blockers:
        return steps + [f"Still needed: {b}." for b in r.blockers]
    if found:
        return steps
    if not record.active:
        return ["Complete and inactive. Activate it with EditCxEngageIntegration(active=true) only when the user "
                "asks for it."]
    return ["Complete and active."]


def _shown(value: Any) -> Any:
    return redact_properties({"v": value})["v"]
