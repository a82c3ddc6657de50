"""Every refusal of the RevCent tools, one function per guardrail, and the confirmations a change needs.

The `refuse_*`, `require_*` and `validate_*` functions raise GuardrailError (nothing has been sent) or return. The
`*_confirmation` functions only say what needs the person; the confirm stage (`pipeline.confirm.Confirmer`,
within `run_write`) decides and asks.

tool                              guardrails, in the order they run
--------------------------------  --------------------------------------------------------------------------------
every tool                        unknown arguments (refused by the server), refuse_raw_credentials (argument guard)
CreateUserThirdPartyIntegration   require_unique_name, require_usable_form / require_usable_server_form (given a
                                  form), refuse_enabling_with_new_credentials, require_complete_to_enable
                                  (enabled=true); nothing to confirm
EditUserThirdPartyIntegration     require_something_to_change (before the record is read),
                                  require_unique_name (a rename), require_usable_form / require_usable_server_form
                                  (given a form), validate_options (given options), require_an_actual_change,
                                  refuse_enabling_with_new_credentials, require_complete_to_enable (enabled=true);
                                  to confirm: overwrite_confirmation, rename_confirmation (enabled),
                                  disable_confirmation
CreateSecureForm, the reads       only those of every tool

A secure form is also spent atomically with the write that uses it (`SpentForms.spend`, in `writes.py`): one that a
parallel call used meanwhile is refused there, with the same "already used" message as require_usable_form.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from integrations_mcp.errors import GuardrailError, VendorError
from integrations_mcp.guardrails.secret_values import secret_kinds
from integrations_mcp.guardrails.secrets import MAX_LISTED, listing, secret_paths
from integrations_mcp.guardrails.text import name_key
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.secure_forms.single_use import SpentForms
from integrations_mcp.secure_forms.store import SecureFormStatus
from integrations_mcp.vendors.revcent.models import OptionInput, Readiness
from integrations_mcp.vendors.revcent.plans import EditPlan, EditRequest
from integrations_mcp.vendors.revcent.records import (
    OptionFieldSpec,
    SecureFormRecord,
    SiteIntegration,
    UserIntegrationSummary,
)
from integrations_mcp.vendors.revcent.views import CREDENTIAL_KEYS, SavedValues, is_secret_option, non_empty

__all__ = ["CREDENTIAL_KEYS", "DEPENDENT_FEATURES", "dependent_features", "disable_confirmation",
           "edit_confirmations", "is_secret_option", "overwrite_confirmation", "refuse_enabling_with_new_credentials",
           "refuse_raw_credentials", "rename_confirmation", "require_usable_server_form",
           "require_an_actual_change", "require_complete_to_enable", "require_something_to_change",
           "require_unique_name", "require_usable_form", "validate_options"]

SECURE_FORM_WAY = ("Credentials are never taken in chat. Call CreateSecureForm with the site integration id, ask "
                   "the user to open form_url and enter the credentials there, then pass secure_form_id.")

# What stops working, or changes, when an integration of each type is disabled or edited.
DEPENDENT_FEATURES = {
    "tax": "Tax Profiles (tax calculated on renewals, trials and other sales)",
    "shipping": "shipment tracking and delivery-status updates",
    "offline_payment": "alternate (pay-later) payment flows and their refunds",
    "ai": "AI Assistants and AI chat",
    "ai_voice": "live AI Voice Agents (calls in progress and new calls)",
}


def dependent_features(integration_type: str) -> str:
    return DEPENDENT_FEATURES.get(integration_type, f"features that use this {integration_type} integration")


# --- refusals ------------------------------------------------------------------------------------------------------

def refuse_raw_credentials(arguments: dict[str, Any]) -> None:
    """A credential by name (any depth, look-alike spellings too) or by value (a token, a key, a password in a URL)
    anywhere. Option values are checked for random-looking tokens later (validate_options), for input fields
    only: select values are the provider's asset ids."""
    paths = secret_paths(arguments, CREDENTIAL_KEYS, has_value=lambda _: True, no_entropy=("third_party_options",),
                         random_keys=("site_third_party_integration",))  # a 20-character RevCent id
    if paths:
        raise GuardrailError(f"Refused: raw credential fields in the arguments ({listing(paths)}). "
                             f"Nothing was sent. {SECURE_FORM_WAY} Guide: GetIntegrationGuide common/guardrails.")


def require_something_to_change(edit: EditRequest) -> None:
    if not edit.given():
        raise GuardrailError("Refused: nothing to change. Give at least one of name, description, enabled, "
                             "secure_form_id, third_party_options.")


def require_an_actual_change(plan: EditPlan) -> None:
    if not plan.body:
        raise GuardrailError("Refused: this edit changes nothing; every value given is already saved. "
                             "Nothing was sent.")


def require_unique_name(name: str, existing: Iterable[UserIntegrationSummary], *,
                        exclude_id: str | None = None) -> None:
    """Names that look the same are the same (guardrails.text.name_key); `exclude_id` is the one being renamed."""
    wanted = name_key(name)
    for row in existing:
        if row.id != exclude_id and name_key(row.name) == wanted:
            raise GuardrailError(f"Refused: the name {name!r} is already used by integration {row.id}. "
                                 "Names must be unique; choose another. Nothing was sent.")


def refuse_enabling_with_new_credentials(enabling: bool, form_id: str | None, enabled_now: bool) -> None:
    """The Edit guide: enable only once credentials are saved. Credentials a form sends are saved only if RevCent
    can use them, which a read-back shows; so enabling waits for that read-back (a second call)."""
    if enabling and form_id and not enabled_now:
        raise GuardrailError("Refused: enabled=true together with new credentials. Send the credentials first "
                             "(leave enabled unset), check that GetUserThirdPartyIntegration shows them saved "
                             "(readiness.credentials_saved), then enable with EditUserThirdPartyIntegration"
                             "(enabled=true). Nothing was sent.")


def require_usable_server_form(status: SecureFormStatus, site_id: str) -> None:
    """A form of this server's page (server-form path): made for this site integration, saved, not used."""
    made = status.purpose.get("site")
    if status.purpose.get("vendor") != "revcent" or made != site_id:
        raise GuardrailError(f"Refused: secure form {status.form_id} was made for {made or 'another integration'}, "
                             f"not site integration {site_id}. Create one with CreateSecureForm"
                             f"(site_third_party_integration_id={site_id!r}). Nothing was sent.")
    if status.used:
        raise GuardrailError("Refused: this secure form was already used (a form works once, and its values were "
                             "deleted). Create a new one with CreateSecureForm. Nothing was sent.")
    if not status.completed:
        raise GuardrailError("Refused: the user has not saved the secure form yet. Ask them to open form_url, fill "
                             "it in and press Save, then call again. Nothing was sent.")


async def require_usable_form(form_id: str, site_id: str, *, spent: SpentForms,
                              read: Callable[[str], Awaitable[SecureFormRecord]], now: float | None = None,
                              made_for: str | None = None) -> None:
    """A form not yet used here, known to RevCent, made for this site integration, unexpired and completed.
    `made_for`: the site this server created the form for, used when GetSecureForm does not report
    form_source_id ([I] fact revcent.form_source_id)."""
    await spent.require_unspent(form_id)
    try:
        form = await read(form_id)
    except VendorError as exc:
        if exc.error_code or (exc.status is not None and exc.status < 500):
            raise GuardrailError(f"Refused: secure form {form_id} cannot be used ({exc.error_code or exc.status}: "
                                 "it does not exist or has expired). Create a new one with CreateSecureForm. "
                                 "Nothing was sent.") from None
        raise
    if form.form_source_id is None and made_for is not None:
        form = form.model_copy(update={"form_source": "third_party_integration", "form_source_id": made_for})
    if form.form_source_id is None:
        raise GuardrailError(f"Refused: RevCent's GetSecureForm does not say which integration form {form_id} is for "
                             "(no form_source_id), and this server did not create it. Create the form with this "
                             "server's CreateSecureForm. Nothing was sent.")
    reason = _form_unusable(form, site_id, time.time() if now is None else now)
    if reason:
        raise GuardrailError(f"Refused: secure form {form_id} cannot be used: {reason}. Nothing was sent.")


def _form_unusable(form: SecureFormRecord, site_id: str, now: float) -> str | None:
    if form.form_source != "third_party_integration" or form.form_source_id != site_id:
        return (f"it belongs to {form.form_source} {form.form_source_id}, not to site integration {site_id}. "
                f"Create a form for {site_id}")
    if form.expiration_date_unix and form.expiration_date_unix <= now:
        return "it has expired (forms last one hour). Create a new one with CreateSecureForm"
    if not form.completed:
        return "the user has not completed it yet. Ask them to open its form_url and submit it, then call again"
    return None


def require_complete_to_enable(readiness: Readiness) -> None:
    """`readiness` of the state the write leaves."""
    if not readiness.can_enable:
        raise GuardrailError("Refused: cannot enable an incomplete integration. Missing: "
                             + "; ".join(readiness.blockers)
                             + ". Save what is missing first (leave enabled unset), then enable. Nothing was sent.")


def validate_options(site: SiteIntegration, proposal: list[OptionInput], saved: SavedValues) -> None:
    """Refuse ids, fields or values that the site schema and the account's assets do not offer."""
    options = {o.id: o for o in site.third_party_options}
    problems: list[str] = []
    seen: set[str] = set()
    for item in proposal:
        if item.id in seen:
            problems.append(f"option {item.id} is given twice; merge its fields into one entry.")
            continue
        seen.add(item.id)
        spec = options.get(item.id)
        if spec is None:
            valid = listing(list(options)) or "none (this site integration has no options)"
            problems.append(f"option id {item.id!r} does not exist. Valid option ids: {valid}.")
            continue
        fields = {f.id: f for f in spec.fields}
        given = set()
        for field in item.fields:
            f = fields.get(field.id)
            if f is None:
                problems.append(f"{item.id}: field id {field.id!r} does not exist. Valid: {listing(list(fields))}.")
                continue
            if is_secret_option(item.id, field.id):
                problems.append(f"{item.id}.{field.id} holds a secret (its id names one): this server takes secrets "
                                "only through a secure form, which covers credentials only. Ask the user to enter it "
                                "in RevCent itself.")
                continue
            if field.id in given:
                problems.append(f"{item.id}.{field.id} is given twice.")
            given.add(field.id)
            problems += _check_values(item.id, f.id, f, field.value)
        for f in spec.fields:
            proposed = next((x.value for x in item.fields if x.id == f.id), None)
            value = proposed if proposed is not None else saved.get((item.id, f.id))
            if f.required and not non_empty(value):
                problems.append(f"{item.id}.{f.id} is required for option {item.id}; include it.")
    if problems:
        raise GuardrailError("Refused: third_party_options do not match the site integration. Nothing was sent.\n"
                             + "\n".join(f"- {p}" for p in problems[:MAX_LISTED])
                             + (f"\n- and {len(problems) - MAX_LISTED} more problems" if len(problems) > MAX_LISTED
                                else ""))


def _check_values(option_id: str, field_id: str, f: OptionFieldSpec, values: list[str]) -> list[str]:
    where = f"{option_id}.{field_id}"
    if f.field_type == "input":
        if len(values) != 1 or not values[0].strip():
            return [f"{where} is an input field: give exactly one non-empty value."]
        kinds = secret_kinds(values[0])  # with the random-token rule: an input is typed, never a provider's id
        if kinds:
            return [f"{where} looks like a secret ({', '.join(kinds)}); it was not sent. {SECURE_FORM_WAY}"]
        return []
    settings = f.select_settings
    allowed = list(settings.options) if settings else []
    multiple = bool(settings and settings.multiple)
    problems = []
    if not values:
        problems.append(f"{where}: choose at least one value.")
    elif not multiple and len(values) != 1:
        problems.append(f"{where} takes exactly one value (multiple: false); got {len(values)}.")
    if len(set(values)) != len(values):
        problems.append(f"{where}: values repeat.")
    invalid = [v for v in values if v not in allowed]
    if invalid:
        if settings and settings.third_party_asset and not allowed:
            problems.append(f"{where} lists the provider account's assets, and none are available: save the "
                            "credentials first (secure form), then read the integration again.")
        else:
            problems.append(f"{where}: {listing([repr(v) for v in invalid])} not offered. "
                            f"Valid values: {listing(allowed) or 'none'}. Ask the user to choose.")
    return problems


# --- what needs the person (decided and asked by the confirm stage) ---------------------------------------------

def _is_setting(change: FieldChange) -> bool:
    return change.field == "credentials" or change.field.startswith("third_party_options.")


def overwrite_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    """Replacing saved credentials or option values needs the person; a rename or a new description does not."""
    replaced = [c for c in plan.changes if c.overwrites and _is_setting(c)]
    if not replaced:
        return None
    return ConfirmationRequest(
        flag="confirm_overwrite", reason="this edit replaces saved credentials or option values.", changes=replaced,
        consequence=f"These settings may drive {dependent_features(plan.site.integration_type)}.",
        title="Replace saved settings of {target}?")


def disable_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    if not plan.disabling:
        return None
    kind = plan.site.integration_type
    return ConfirmationRequest(
        flag="confirm_disable", reason=f"disabling {plan.current.name!r} stops what depends on it.",
        consequence=f"Live features of this {kind} integration that stop or fail: {dependent_features(kind)}.",
        title="Turn off {target}?")


def rename_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    """Renaming an enabled integration needs the person: whoever finds it by name in RevCent must know."""
    if plan.new_name is None or not plan.current.enabled:
        return None
    return ConfirmationRequest(
        flag="confirm_overwrite", reason=f"this edit renames the enabled integration {plan.current.name!r}.",
        changes=[c for c in plan.changes if c.field == "name"],
        consequence="People and reports that know it by its name will see the new one.",
        title="Rename {target}?")


def edit_confirmations(plan: EditPlan) -> list[ConfirmationRequest]:
    """In the order the person is asked."""
    requests = (overwrite_confirmation(plan), rename_confirmation(plan), disable_confirmation(plan))
    return [request for request in requests if request is not None]
