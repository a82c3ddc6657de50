"""CxEngage's writes as `pipeline.write.WriteStages`: create and edit an integration. Each stage is one method;
`run_write` runs them in order (plan → check → confirm → send → verify). What a write is (target, fingerprint,
journal image, preview) the plan says itself (`plans.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations_mcp.errors import VendorError
from integrations_mcp.guardrails.text import name_key
from integrations_mcp.pipeline.changes import is_set
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.pipeline.journal import Written
from integrations_mcp.secure_forms.single_use import spending
from integrations_mcp.secure_forms.store import SecureFormStatus, SecureFormStore
from integrations_mcp.vendors.cxengage import rules
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS
from integrations_mcp.vendors.cxengage.client import CxEngageClient
from integrations_mcp.vendors.cxengage.learned import Learned, looks_masked
from integrations_mcp.vendors.cxengage.models import IntegrationView, WriteResult
from integrations_mcp.vendors.cxengage.plans import (
    CreateArgs,
    CreatePlan,
    EditArgs,
    EditPlan,
    WritePlan,
    destination_of,
    plan_create,
    plan_edit,
)
from integrations_mcp.vendors.cxengage.records import IntegrationRecord
from integrations_mcp.vendors.cxengage.views import (
    PROPERTY,
    journal_image,
    redact_properties,
    redacted_body,
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

    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, tenant_id: str) -> None:
        self.api, self.forms, self.owner, self.tenant_id = api, forms, owner, tenant_id

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
        learned, notes = self.api.learned, []
        sent_properties: Mapping[str, Any] = sent.body.get("properties") or {}
        sent_secrets = {k for k, v in sent_properties.items() if SECRET_KEYS(k) and is_set(v)}
        omitted = bool(sent_secrets) and all(k not in record.properties for k in sent_secrets)
        if note := learned.note_secrets_read({k: record.properties.get(k) for k in sent_secrets}, omitted=omitted):
            notes.append(note)
        found = mismatches(record, sent.body, plan.saved, learned)
        if any(m.startswith(PROPERTY) and UNTOUCHED in m for m in found) and (note := learned.note_replace()):
            notes.append(note)
        found = _unseen_secret_losses(plan, record, sent_properties, learned, self.tenant_id) + found
        learned.secrets_written(self.tenant_id, sent.integration_id,
                                {k for k in sent_secrets if not any(m.startswith(PROPERTY + k + ":") for m in found)})
        learned.secrets_cleared(self.tenant_id, sent.integration_id,
                                {k for k, v in sent_properties.items() if SECRET_KEYS(k) and not is_set(v)})
        result.verified = view(record, learned, self.tenant_id)
        result.verified.learned[:0] = notes
        result.mismatches = found
        result.next_steps = [f"Learned: {note}" for note in notes] + next_steps(result.verified, found,
                                                                                 repair=repair(plan, record, found))
        return result


class CreateIntegration(_Write):
    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, args: CreateArgs) -> None:
        super().__init__(api, forms, owner, args.tenant_id)
        self.args = args

    def lock_keys(self) -> list[str]:
        return self._keys(name=self.args.name, form_id=self.args.secure_form_id)

    async def reconcile(self, plan: CreatePlan) -> Sent | None:
        """The new integration, if it exists under the planned name (names are unique in a tenant). Its secrets,
        spent with the lost call, are not compared."""
        wanted = name_key(plan.name)
        rows = await self.api.list_integrations(self.tenant_id)
        return next((Sent(row["id"], plan.body) for row in rows if name_key(row["name"]) == wanted), None)

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

    async def send(self, plan: CreatePlan) -> Sent:
        async def call(secrets: dict[str, str]) -> Sent:
            full = {**plan.body, "properties": {**plan.body["properties"], **secrets}}
            created = await self.api.create_integration(self.tenant_id, full, scrub=secrets.values())
            return Sent(created.id, full)

        return await self.with_form_values(self.args.secure_form_id, plan.purpose, call)


class EditIntegration(_Write):
    def __init__(self, api: CxEngageClient, forms: SecureFormStore, owner: str, args: EditArgs) -> None:
        super().__init__(api, forms, owner, args.tenant_id)
        self.args = args

    async def reconcile(self, plan: EditPlan) -> Sent | None:
        return None  # an edit's outcome is not told by a read alone (the values may have been there already)

    def lock_keys(self) -> list[str]:
        own = f"cxengage:{self.tenant_id}:integration:{self.args.integration_id}"
        return [own, *self._keys(name=self.args.name, form_id=self.args.secure_form_id)]

    async def plan(self) -> EditPlan:
        current = await self.api.get_integration(self.tenant_id, self.args.integration_id)
        view(current, self.api.learned, self.tenant_id)  # a read can show that secrets come back masked or left out
        return plan_edit(rules.resolve_type(current.type), current, self.args, self.form(self.args.secure_form_id),
                         self.api.learned)

    async def check(self, plan: EditPlan) -> None:
        active_after = plan.new_active if plan.new_active is not None else plan.current.active
        rules.check_properties(plan.spec, plan.given, ui_rules=active_after)
        if plan.new_active is True:  # activating: the UI's formats apply to what stays saved too
            rules.check_properties(plan.spec, {**plan.saved, **plan.given}, ui_rules=True)
        if plan.form:
            rules.require_usable_form(plan.form, plan.purpose)
        rules.require_an_actual_change(plan.changes)
        if plan.new_name is not None:
            rows = await self.api.list_integrations(self.tenant_id)
            rules.require_unique_name(rows, plan.new_name, exclude_id=self.args.integration_id)
        rules.refuse_emptying_required(plan.before, plan.after, active=active_after, erased=plan.erased,
                                       type_name=plan.spec.name)
        rules.require_complete_if_active(plan.after, activating=plan.new_active is True,
                                         stays_active=plan.new_active is None and plan.current.active,
                                         touches_properties=plan.touches_properties)

    def confirmations(self, plan: EditPlan) -> list[ConfirmationRequest]:
        replaced = plan.form.filled_fields if plan.form else []
        requests = (rules.overwrite_confirmation(plan.changes, plan.saved),
                    rules.destination_confirmation(plan.spec, plan.changes, plan.saved, replaced),
                    rules.rename_confirmation(plan.current.name, plan.new_name, plan.current.active),
                    rules.deactivation_confirmation(plan.current.name, plan.new_active),
                    rules.erase_confirmation(plan.erased, plan.spec.name))
        return [request for request in requests if request is not None]

    async def send(self, plan: EditPlan) -> Sent:
        async def call(secrets: dict[str, str]) -> Sent:
            body = plan.body
            if secrets:
                body = {**body, "properties": {**body["properties"], **secrets}}
            await self.api.update_integration(self.tenant_id, self.args.integration_id, body,
                                              scrub=[*secrets.values(), *secret_values_in(plan.saved)])
            return Sent(self.args.integration_id, body)

        return await self.with_form_values(self.args.secure_form_id, plan.purpose, call)


UNTOUCHED = "changed although this edit did not touch it"


def mismatches(record: IntegrationRecord, sent: Mapping[str, Any], before: Mapping[str, Any],
               learned: Learned | None = None) -> list[str]:
    """Where the read-back differs from what was sent, or from what was saved before and not sent: the latter
    first (a property lost or changed although the edit did not name it, e.g. if PUT replaced `properties`).
    Secrets are compared here, server-side, and never shown; one read back masked is compared by presence only,
    and one left out of the read (when CxEngage omits secrets) is not compared (fact cxengage.secrets_echoed)."""
    omitting = learned is not None and learned.secrets_on_read == "omit"
    untouched: list[str] = []
    found = [f"{k}: sent {v!r}, read back {getattr(record, k)!r}" for k, v in sent.items()
             if k not in ("properties", "type") and getattr(record, k) != v]
    saved = record.properties
    sent_properties: Mapping[str, Any] = sent.get("properties") or {}
    for key, value in {**before, **sent_properties}.items():
        secret = SECRET_KEYS(key)
        if _same(saved.get(key), value, secret=secret) or (secret and omitting and key not in saved):
            continue
        if key not in sent_properties:
            untouched.append(f"properties.{key}: {UNTOUCHED}" + ("" if secret else f" (was {_shown(value)!r})"))
        elif secret:
            found.append(f"properties.{key}: the secret sent was not read back")
        else:
            found.append(f"properties.{key}: sent {_shown(value)!r}, read back {_shown(saved.get(key))!r}")
    return untouched + found


def _same(read: Any, expected: Any, *, secret: bool) -> bool:
    if read == expected:
        return True
    return secret and (looks_masked(read) or looks_masked(expected)) and is_set(read) == is_set(expected)


def _unseen_secret_losses(plan: WritePlan, record: IntegrationRecord, sent: Mapping[str, Any], learned: Learned,
                          tenant_id: str) -> list[str]:
    """Secrets this process set that a replacing PUT erased although the edit did not touch them, which a read
    cannot show when CxEngage leaves secrets out: reported like any other loss (and no longer counted as set).
    Secrets the person agreed to erase (`plan.erased`) are no loss."""
    if learned.properties_edit != "replace" or not sent or not isinstance(plan, EditPlan):
        return []
    written = learned.written_secrets.get((tenant_id, record.id), set())
    lost = sorted(k for k in written if k not in sent and k not in record.properties and k not in plan.erased)
    learned.secrets_cleared(tenant_id, record.id, set(lost) | set(plan.erased))
    return [f"{PROPERTY}{k}: {UNTOUCHED} (CxEngage does not return secrets; it replaced the properties)"
            for k in lost]


def repair(plan: WritePlan, record: IntegrationRecord, found: list[str]) -> str:
    """The one call that puts back what a write lost from untouched properties (e.g. PUT replaced them), so that
    the repair converges: the lost plain values, and a form (naming the destination it restores) for lost secrets."""
    lost = [m.split(":", 1)[0].removeprefix(PROPERTY) for m in found if m.startswith(PROPERTY) and UNTOUCHED in m]
    if not lost:
        return ""
    plain = {k: plan.saved[k] for k in lost if not SECRET_KEYS(k) and k in plan.saved}
    secrets = [k for k in lost if SECRET_KEYS(k)]
    steps = f"EditCxEngageIntegration(integration_id={record.id!r}, properties={_shown(plain)!r}"
    if secrets:
        where = destination_of(plan.spec, {**record.properties, **plain})
        form = (f"CreateCxEngageSecureForm(type={plan.spec.name!r}, integration_id={record.id!r}, "
                f"fields={secrets!r}, destination={_shown(where)!r})")
        return f"To put back what was lost (with the user's agreement): {form}, then {steps}, secure_form_id=...)."
    return f"To put back what was lost (with the user's agreement): {steps})."


def next_steps(verified: IntegrationView, found: list[str] | None = None, repair: str = "") -> list[str]:
    r, record = verified.readiness, verified.integration
    steps = [f"The saved state differs from what this write should have left: {found[0]}. Tell the user first; "
             "put back anything lost only with their agreement."] if found else []
    steps += [repair] if repair else []
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
