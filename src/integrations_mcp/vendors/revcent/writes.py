"""The stages (`pipeline.write.WriteStages`) of the two RevCent writes, create and edit, run by `run_write`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from integrations_mcp.errors import VendorError
from integrations_mcp.guardrails.text import name_key
from integrations_mcp.pipeline.confirm import ConfirmationPolicy, ConfirmationRequest, dry_run_steps
from integrations_mcp.pipeline.journal import Planned, Written
from integrations_mcp.secure_forms.single_use import SpentForms, spending
from integrations_mcp.vendors.revcent import rules
from integrations_mcp.vendors.revcent.client import RevCentClient
from integrations_mcp.vendors.revcent.models import UserIntegrationView, WriteResult
from integrations_mcp.vendors.revcent.plans import (
    CreatePlan,
    CreateRequest,
    EditPlan,
    EditRequest,
    WritePlan,
    plan_create,
    plan_edit,
)
from integrations_mcp.vendors.revcent.records import UserIntegration
from integrations_mcp.vendors.revcent.views import journal_image, saved_values, view

__all__ = ["CreateWrite", "EditWrite"]

T = TypeVar("T")


def name_lock(name: str) -> str:
    """Names that look the same are one name (guardrails.text): so is the lock that keeps two writers from both
    taking it."""
    return f"revcent:name:{name_key(name)}"


class _RevCentWrite:
    """What both writes share: the client, the forms already spent, and verifying by reading the record back."""

    def __init__(self, api: RevCentClient, spent: SpentForms, policy: ConfirmationPolicy) -> None:
        self.api, self.spent, self.policy = api, spent, policy

    def _form_keys(self, form_id: str | None) -> list[str]:
        return [f"revcent:form:{form_id}"] if form_id else []

    async def _require_usable_form(self, plan: WritePlan) -> None:
        if plan.secure_form_id:
            await rules.require_usable_form(plan.secure_form_id, plan.site.id, spent=self.spent,
                                            read=self.api.get_secure_form)

    async def _with_form(self, form_id: str | None, send: Callable[[], Awaitable[T]]) -> T:
        """Spend the form with the write (the one rule: secure_forms/single_use.py)."""
        if not form_id:
            return await send()
        await self.spent.spend(form_id)
        return await spending(send, give_back=lambda: self.spent.give_back(form_id))

    def journal_result(self, result: WriteResult) -> Written:
        after = journal_image(result.verified.integration) if result.verified else None
        return Written(result.user_third_party_integration_id, after, result.mismatches)

    async def verify(self, plan: WritePlan, sent: str) -> WriteResult:
        """`sent` is the integration's id. A failed read-back is reported as such: the write itself happened and
        must not look like a failure."""
        result = WriteResult(dry_run=False, user_third_party_integration_id=sent, sent=plan.body,
                             changes=plan.changes)
        try:
            result.verified = view(await self.api.get_user_integration(sent))
        except VendorError as exc:
            result.mismatches = [f"The write succeeded, but reading it back failed: {exc}"]
            result.next_steps = ["Read it with GetUserThirdPartyIntegration to check the saved state first."]
            return result
        result.mismatches = mismatches(result.verified.integration, plan)
        result.next_steps = next_steps(result.verified)
        return result


class CreateWrite(_RevCentWrite):
    def __init__(self, api: RevCentClient, spent: SpentForms, policy: ConfirmationPolicy,
                 request: CreateRequest) -> None:
        super().__init__(api, spent, policy)
        self.request = request

    async def reconcile(self, plan: CreatePlan) -> str | None:
        """The new integration, if it exists under the planned name (names are unique)."""
        wanted = name_key(self.request.name)
        return next((row.id for row in await self.api.all_user_integrations() if name_key(row.name) == wanted), None)

    def settle(self, plan: CreatePlan) -> str:
        return (f"list the integrations (GetUserThirdPartyIntegrations) and look for {self.request.name!r}; the "
                "secure form, if any, is spent")

    def lock_keys(self) -> list[str]:
        # Two creates with one name, or with one form, must not both pass their checks.
        return [name_lock(self.request.name), *self._form_keys(self.request.secure_form_id)]

    def target(self, plan: CreatePlan) -> str:
        return f"a new integration {self.request.name!r}"

    def journal_plan(self, plan: CreatePlan) -> Planned:
        return Planned(None, None, plan.changes, ["credentials"] if plan.secure_form_id else [])

    def fingerprint(self, plan: CreatePlan) -> Any:
        return {"body": plan.body, "site": plan.site.model_dump(mode="json")}

    async def plan(self) -> CreatePlan:
        return plan_create(await self.api.get_site_integration(self.request.site_id), self.request)

    async def check(self, plan: CreatePlan) -> None:
        rules.require_unique_name(self.request.name, await self.api.all_user_integrations())
        await self._require_usable_form(plan)
        if plan.enabling:
            rules.require_complete_to_enable(plan.readiness_after())

    def confirmations(self, plan: CreatePlan) -> list[ConfirmationRequest]:
        return []  # a new integration replaces nothing, and is enabled only when complete

    def preview(self, plan: CreatePlan, needed: list[ConfirmationRequest]) -> WriteResult:
        return WriteResult(dry_run=True, sent=plan.body, changes=plan.changes,
                           next_steps=dry_run_steps(needed, "to create it", self.policy))

    async def send(self, plan: CreatePlan) -> str:
        created = await self._with_form(plan.secure_form_id, lambda: self.api.create_user_integration(plan.body))
        return created.id


class EditWrite(_RevCentWrite):
    def __init__(self, api: RevCentClient, spent: SpentForms, policy: ConfirmationPolicy, edit: EditRequest) -> None:
        super().__init__(api, spent, policy)
        self.edit = edit

    async def reconcile(self, plan: EditPlan) -> str | None:
        return None  # an edit's outcome is not told by a read alone (the values may have been there already)

    def settle(self, plan: EditPlan) -> str:
        return (f"read it with GetUserThirdPartyIntegration(user_third_party_integration_id={plan.current.id!r}) "
                "and compare with the change")

    def lock_keys(self) -> list[str]:
        keys = [f"revcent:integration:{self.edit.integration_id}", *self._form_keys(self.edit.secure_form_id)]
        return keys + ([name_lock(self.edit.name)] if self.edit.name else [])

    def target(self, plan: EditPlan) -> str:
        return f"the RevCent integration {plan.current.name!r} ({plan.current.id})"

    def journal_plan(self, plan: EditPlan) -> Planned:
        secrets = ["credentials"] if plan.secure_form_id else []
        return Planned(plan.current.id, journal_image(plan.current), plan.changes, secrets)

    def fingerprint(self, plan: EditPlan) -> Any:
        """The approval covers these changes to this saved state: any other change to it voids the approval."""
        return {"body": plan.body, "changes": [c.model_dump(mode="json") for c in plan.changes],
                "saved": plan.current.model_dump(mode="json")}

    async def plan(self) -> EditPlan:
        return plan_edit(await self.api.get_user_integration(self.edit.integration_id), self.edit)

    async def check(self, plan: EditPlan) -> None:
        if plan.new_name is not None:
            rules.require_unique_name(plan.new_name, await self.api.all_user_integrations(),
                                      exclude_id=plan.current.id)
        await self._require_usable_form(plan)
        if plan.options:
            rules.validate_options(plan.site, plan.options, plan.saved)
        rules.require_an_actual_change(plan)
        if plan.enabling:
            rules.require_complete_to_enable(plan.readiness_after())

    def confirmations(self, plan: EditPlan) -> list[ConfirmationRequest]:
        return rules.edit_confirmations(plan)

    def preview(self, plan: EditPlan, needed: list[ConfirmationRequest]) -> WriteResult:
        return WriteResult(dry_run=True, user_third_party_integration_id=plan.current.id, sent=plan.body,
                           changes=plan.changes, next_steps=dry_run_steps(needed, "to save the edit", self.policy))

    async def send(self, plan: EditPlan) -> str:
        await self._with_form(plan.secure_form_id, lambda: self.api.edit_user_integration(plan.current.id, plan.body))
        return plan.current.id


def mismatches(record: UserIntegration, plan: WritePlan) -> list[str]:
    """Every field sent (the changed ones and the siblings re-sent with them) must read back as sent."""
    found = [f"{k}: sent {v!r}, read back {getattr(record, k)!r}" for k, v in plan.expected.items()
             if getattr(record, k) != v]
    saved = saved_values(record.third_party_options_saved)
    found += [f"third_party_options.{o}.{f}: sent {v}, read back {saved.get((o, f), [])}"
              for (o, f), v in plan.expected_options.items() if saved.get((o, f), []) != v]
    creds = record.site_third_party_integration.third_party_credentials
    if plan.secure_form_id and creds is not None and creds.id not in record.third_party_credentials_saved:
        found.append("credentials: the secure form was sent but RevCent reports no saved credentials "
                     "(it may not have been able to connect with them); ask the user to check them.")
    return found


def next_steps(verified: UserIntegrationView) -> list[str]:
    r, record = verified.readiness, verified.integration
    if r.blockers:
        return [f"Still needed: {b}." for b in r.blockers] + [
            "Ask the user to choose option values from readiness.choices; never pick for them."]
    if not record.enabled:
        return ["Complete. Enable it with EditUserThirdPartyIntegration(enabled=true) once the user agrees."]
    return ["Complete and enabled."]
