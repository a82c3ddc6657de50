"""The stages (`pipeline.write.WriteStages`) of the two RevCent writes, create and edit, run by `run_write`; what a
write is (target, fingerprint, journal image, preview) the plan says itself (`plans.py`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from integrations_mcp.errors import VendorError
from integrations_mcp.guardrails.text import name_key
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.pipeline.journal import Written
from integrations_mcp.secure_forms.single_use import spending
from integrations_mcp.vendors.revcent import rules
from integrations_mcp.vendors.revcent.client import RevCentClient
from integrations_mcp.vendors.revcent.credentials import Credentials
from integrations_mcp.vendors.revcent.facts import OPTIONS_EDIT_MODES, SECURE_FORM_FIELD, CredentialsVia, OptionsEdit
from integrations_mcp.vendors.revcent.models import SavedIntegration, UserIntegrationView, VerifiedState, WriteResult
from integrations_mcp.vendors.revcent.plans import (
    CreatePlan,
    CreateRequest,
    EditPlan,
    EditRequest,
    WritePlan,
    plan_create,
    plan_edit,
)
from integrations_mcp.vendors.revcent.records import SecureFormRecord, UserIntegration
from integrations_mcp.vendors.revcent.server_forms import credentials_body
from integrations_mcp.vendors.revcent.views import (
    SavedValues,
    is_secret_option,
    journal_image,
    looks_masked,
    non_empty,
    saved_values,
    view,
)

__all__ = ["CreateWrite", "EditWrite"]

T = TypeVar("T")


def name_lock(name: str) -> str:
    """Names that look the same are one name (guardrails.text): so is the lock that keeps two writers from both
    taking it."""
    return f"revcent:name:{name_key(name)}"


class _RevCentWrite:
    """What both writes share: the client, the credential forms, and verifying by reading the record back."""

    def __init__(self, api: RevCentClient, credentials: Credentials, owner: str) -> None:
        self.api, self.credentials, self.owner = api, credentials, owner
        self.spent = credentials.spent

    def _form_keys(self, form_id: str | None) -> list[str]:
        return [f"revcent:form:{form_id}"] if form_id else []

    async def _require_usable_form(self, plan: WritePlan) -> None:
        form_id = plan.secure_form_id
        if not form_id:
            return
        if plan.via == "server-form":
            rules.require_usable_server_form(self.credentials.server_forms.raw_status(form_id, self.owner),
                                             plan.site.id)
            return
        revcent_id = self.credentials.handles.open(form_id, self.owner)  # only the session that made it

        async def read(_: str) -> SecureFormRecord:
            return await self.api.get_secure_form(revcent_id)

        await rules.require_usable_form(form_id, plan.site.id, spent=self.spent, read=read,
                                        made_for=self.credentials.made_for.get(form_id))

    async def _with_form(self, plan: WritePlan, send: Callable[[dict[str, Any]], Awaitable[T]]) -> T:
        """Send `plan.body`, spending its form with the write (the one rule: secure_forms/single_use.py). On the
        server-form path the form's values go into third_party_credentials only here, and come back to the form
        if RevCent refused the write."""
        form_id = plan.secure_form_id
        if not form_id:
            return await send(plan.body)
        if plan.via == "server-form":
            forms = self.credentials.server_forms
            values = forms.take(form_id, self.owner, plan.site.id)
            body = {**plan.body, "third_party_credentials": credentials_body(plan.site, values)}
            return await spending(lambda: send(body), give_back=lambda: forms.restore(form_id, self.owner, values))
        # RevCent's own id goes only into the request: plans, results and the journal show the handle.
        body = {**plan.body, SECURE_FORM_FIELD: self.credentials.handles.open(form_id, self.owner)}
        await self.spent.spend(form_id)
        return await spending(lambda: send(body), give_back=lambda: self.spent.give_back(form_id))

    def journal_result(self, result: WriteResult) -> Written:
        after = journal_image(result.verified.integration) if result.verified else None
        return Written(result.user_third_party_integration_id, after, result.mismatches)

    async def verify(self, plan: WritePlan, sent: str) -> WriteResult:
        """`sent` is the integration's id. A failed read-back is reported as such: the write itself happened and
        must not look like a failure."""
        result = WriteResult(dry_run=False, user_third_party_integration_id=sent, sent=plan.body,
                             changes=plan.changes)
        try:
            record = await self.api.get_user_integration(sent)
        except VendorError as exc:
            result.mismatches = [f"The write succeeded, but reading it back failed: {exc}"]
            result.next_steps = ["Read it with GetUserThirdPartyIntegration to check the saved state first."]
            return result
        read_back = view(record)
        # The view, not the record: option fields that name a secret are redacted there, as on every read.
        result.verified = VerifiedState(integration=SavedIntegration.of(read_back.integration),
                                        readiness=read_back.readiness)
        result.mismatches = mismatches(record, plan)
        result.next_steps = next_steps(read_back, result.mismatches)
        if isinstance(plan, EditPlan):
            self._learn(plan, record, result)
        if plan.secure_form_id:
            result.next_steps[:0] = recheck_after_credentials(record)
        return result

    def _learn(self, plan: EditPlan, record: UserIntegration, result: WriteResult) -> None:
        """[I] revcent.options_edit: what this write's read-back shows RevCent does with option fields it is not
        sent. A harsher behaviour than assumed is adopted for the rest of the process, and said, with the repair."""
        shown = options_edit_shown(plan, record)
        if shown is None:
            return
        mode, lost = shown
        self.api.options_edit_seen = True
        if RANK[mode] <= RANK[self.api.options_edit]:
            return
        self.api.options_edit = mode
        result.learned.append(f"revcent.options_edit: RevCent {LEARNED[mode]} on this edit. From now on this server "
                              f"sends {SENDS[mode]}, so later edits keep what is saved.")
        repair = [{"id": o, "fields": [{"id": f, "value": v} for (o2, f), v in lost.items() if o2 == o]}
                  for o in dict.fromkeys(o for o, _ in lost)]
        if repair:
            at = 1 if result.mismatches else 0  # after "The saved state differs ...: tell the user first"
            result.next_steps.insert(at, "To put back what RevCent dropped (with the user's agreement), call "
                                        "EditUserThirdPartyIntegration with third_party_options="
                                        f"{json.dumps(repair)}.")


class CreateWrite(_RevCentWrite):
    def __init__(self, api: RevCentClient, credentials: Credentials, owner: str, request: CreateRequest,
                 via: CredentialsVia) -> None:
        super().__init__(api, credentials, owner)
        self.request, self.via = request, via

    async def reconcile(self, plan: CreatePlan) -> str | None:
        """The new integration, if it exists under the planned name (names are unique)."""
        wanted = name_key(self.request.name)
        rows, _ = await self.api.user_integrations_for_names()
        return next((row.id for row in rows if name_key(row.name) == wanted), None)

    def lock_keys(self) -> list[str]:
        # Two creates with one name, or with one form, must not both pass their checks.
        return [name_lock(self.request.name), *self._form_keys(self.request.secure_form_id)]

    async def plan(self) -> CreatePlan:
        return plan_create(await self.api.get_site_integration(self.request.site_id), self.request, self.via)

    async def check(self, plan: CreatePlan) -> None:
        rules.require_unique_name(self.request.name, (await self.api.user_integrations_for_names())[0])
        await self._require_usable_form(plan)
        rules.refuse_enabling_at_create(plan.enabling)

    def confirmations(self, plan: CreatePlan) -> list[ConfirmationRequest]:
        return []  # a new integration replaces nothing, and is never enabled at create

    async def send(self, plan: CreatePlan) -> str:
        created = await self._with_form(plan, self.api.create_user_integration)
        return created.id


class EditWrite(_RevCentWrite):
    def __init__(self, api: RevCentClient, credentials: Credentials, owner: str, edit: EditRequest,
                 via: CredentialsVia, *, revert: bool = False) -> None:
        super().__init__(api, credentials, owner)
        self.edit, self.via = edit, via
        self.revert = revert  # restoring one journaled change (written as one edit, even from before the rule)

    async def reconcile(self, plan: EditPlan) -> str | None:
        return None  # an edit's outcome is not told by a read alone (the values may have been there already)

    def lock_keys(self) -> list[str]:
        keys = [f"revcent:integration:{self.edit.integration_id}", *self._form_keys(self.edit.secure_form_id)]
        return keys + ([name_lock(self.edit.name)] if self.edit.name else [])

    async def plan(self) -> EditPlan:
        return plan_edit(await self.api.get_user_integration(self.edit.integration_id), self.edit, self.via,
                         self.api.options_edit, self.api.options_edit_seen)

    async def check(self, plan: EditPlan) -> None:
        if plan.new_name is not None:
            rules.require_unique_name(plan.new_name, (await self.api.user_integrations_for_names())[0],
                                      exclude_id=plan.current.id)
        await self._require_usable_form(plan)
        if plan.options:
            rules.check_options(plan.site, plan.options, plan.saved)
        rules.require_an_actual_change(plan)
        if not self.revert:
            rules.refuse_combined_changes(plan)
        rules.refuse_dropping_secrets(plan)
        rules.require_offered_resent_values(plan)
        if plan.enabling:
            rules.require_complete_to_enable(plan.readiness_after())

    def confirmations(self, plan: EditPlan) -> list[ConfirmationRequest]:
        return rules.edit_confirmations(plan)

    async def send(self, plan: EditPlan) -> str:
        await self._with_form(plan, lambda body: self.api.edit_user_integration(plan.current.id, body))
        return plan.current.id


def mismatches(record: UserIntegration, plan: WritePlan) -> list[str]:
    """Every difference between the read-back and what this write should have left: first what changed although
    the write did not name it (a saved option field lost or altered, a field not sent), then what was sent and did
    not read back. Whether RevCent keeps option fields not sent is [I] (facts.OPTIONS_EDIT): this is where it shows."""
    before: SavedValues = plan.saved if isinstance(plan, EditPlan) else {}
    after = saved_values(record.third_party_options_saved)
    sent = plan.expected_options
    found = [f"third_party_options.{o}.{f}: not part of this write, but {_was(before.get((o, f)), secret)} and now "
             f"{_was(after.get((o, f)), secret)}" for (o, f) in sorted({*before, *after} - set(sent))
             if (before.get((o, f)) or []) != (after.get((o, f)) or [])
             for secret in [is_secret_option(o, f) or any(looks_masked(x) for x in before.get((o, f)) or [])]]
    if isinstance(plan, EditPlan):
        found += [f"{k}: not part of this write, but was {getattr(plan.current, k)!r} and now {getattr(record, k)!r}"
                  for k in ("name", "description", "enabled") if k not in plan.expected
                  and getattr(record, k) != getattr(plan.current, k)]
    found += [f"{k}: sent {v!r}, read back {getattr(record, k)!r}" for k, v in plan.expected.items()
              if getattr(record, k) != v]
    found += [f"third_party_options.{o}.{f}: sent {v}, read back {after.get((o, f), [])}"
              for (o, f), v in sent.items() if after.get((o, f), []) != v]
    creds = record.site_third_party_integration.third_party_credentials
    if plan.secure_form_id and creds is not None and creds.id not in record.third_party_credentials_saved:
        found.append("credentials: the secure form was sent but RevCent reports no saved credentials "
                     "(it may not have been able to connect with them); ask the user to check them.")
    return found


def _was(value: list[str] | None, secret: bool = False) -> str:
    return ("held [redacted]" if secret else f"held {value}") if value else "was empty"


RANK = {mode: rank for rank, mode in enumerate(OPTIONS_EDIT_MODES)}
LEARNED = {"option": "dropped the saved fields not sent of the option it was sent",
           "replace": "dropped every saved option it was not sent"}
SENDS = {"option": "each option it changes whole", "replace": "every saved option with each options edit"}


def options_edit_shown(plan: EditPlan, record: UserIntegration) -> tuple[OptionsEdit, SavedValues] | None:
    """What the read-back shows of [I] revcent.options_edit, and the visible non-secret values lost: None when the
    write sent no options, or nothing saved was left out of it."""
    if "third_party_options" not in plan.body:
        return None
    before, after = plan.saved, saved_values(record.third_party_options_saved)
    sent = set(plan.expected_options)
    sent_options = {o for o, _ in sent}
    unsent = [(o, f) for (o, f), v in before.items() if (o, f) not in sent and non_empty(v)]
    lost = {(o, f): before[(o, f)] for (o, f) in unsent if not non_empty(after.get((o, f)))}
    repairable = {k: v for k, v in lost.items() if not is_secret_option(*k) and not any(looks_masked(x) for x in v)}
    if any(o not in sent_options for o, _ in lost):
        return "replace", repairable
    if lost:
        return "option", repairable
    if any(o in sent_options for o, _ in unsent):
        return "field", {}
    return None  # nothing, or only other options, left out (and kept): that alone does not tell field from option


def recheck_after_credentials(record: UserIntegration) -> list[str]:
    """The Edit guide: "Re-check options/assets because changed credentials may expose different provider assets";
    "Do not assume previously saved options are still valid after credential changes"."""
    site = record.site_third_party_integration
    saved = saved_values(record.third_party_options_saved)
    # Only saved asset values can have gone stale (a create saves none: its readiness already asks for a choice).
    assets = [f"{o.id}.{f.id} (saved: {', '.join(saved[(o.id, f.id)])})"
              for o in site.third_party_options for f in o.fields
              if f.select_settings is not None and f.select_settings.third_party_asset and saved.get((o.id, f.id))]
    if not assets:
        return []
    return [f"New credentials can expose other provider assets: re-check with the user {', '.join(assets)} against "
            "readiness.choices before relying on them; saved values may no longer be valid."]


def next_steps(verified: UserIntegrationView, found: list[str] | None = None) -> list[str]:
    r, record = verified.readiness, verified.integration
    steps = [f"The saved state differs from what this write should have left: {found[0]}. Tell the user first; "
             "put back anything lost only with their agreement."] if found else []
    if r.blockers:
        return steps + [f"Still needed: {b}." for b in r.blockers] + [
            "Ask the user to choose option values from readiness.choices; never pick for them."]
    if found:
        return steps
    if not record.enabled:
        return ["Complete. Enable it with EditUserThirdPartyIntegration(enabled=true) once the user agrees."]
    return ["Complete and enabled."]
