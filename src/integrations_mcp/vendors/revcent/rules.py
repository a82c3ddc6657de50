"""Every refusal of the RevCent tools, one function per guardrail, and the confirmations a change needs. Each one is
a "Rule:" heading of a guide in guides/ (a test keeps the two lists equal); docs/revcent-guide-rules.md maps RevCent's
agent guide, rule by rule, to these functions or to the model.

The `refuse_*`, `require_*` and `validate_*` functions raise GuardrailError (nothing has been sent) or return. The
`*_confirmation` functions only say what needs the person; the confirm stage (`pipeline.confirm.Confirmer`,
within `run_write`) decides and asks.

tool                              guardrails, in the order they run
--------------------------------  --------------------------------------------------------------------------------
every tool                        unknown arguments (refused by the server), refuse_secret_arguments (argument guard)
CreateUserThirdPartyIntegration   require_unique_name, require_usable_form / require_usable_server_form (given a
                                  form), refuse_enabling_at_create; nothing to confirm
EditUserThirdPartyIntegration     require_an_edit (before the record is read),
                                  require_unique_name (a rename), require_usable_form / require_usable_server_form
                                  (given a form), check_options (given options), require_an_actual_change,
                                  refuse_combined_changes, refuse_dropping_secrets, require_offered_resent_values,
                                  require_complete_to_enable (enabled=true); to confirm: overwrite_confirmation,
                                  live_settings_confirmation, secret_at_risk_confirmation, rename_confirmation,
                                  enable_confirmation, disable_confirmation
CreateSecureForm, the reads       only those of every tool

A secure form is also spent atomically with the write that uses it (`SpentForms.spend`, in `writes.py`): one that a
parallel call used meanwhile is refused there, with the same "already used" message as require_usable_form.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from integrations_mcp.errors import GuardrailError, VendorError, quoted
from integrations_mcp.guardrails.secret_values import names_random, secret_kinds
from integrations_mcp.guardrails.secrets import MAX_LISTED, listing, secret_paths
from integrations_mcp.guardrails.text import is_blank, name_key
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
from integrations_mcp.vendors.revcent.views import (
    CREDENTIAL_KEYS,
    SavedValues,
    is_secret_option,
    looks_masked,
    non_empty,
    stale_values,
)

__all__ = ["CREDENTIAL_KEYS", "DEPENDENT_FEATURES", "check_options", "dependent_features", "disable_confirmation",
           "edit_confirmations", "enable_confirmation", "is_secret_option", "live_settings_confirmation",
           "overwrite_confirmation", "refuse_combined_changes", "refuse_dropping_secrets",
           "refuse_enabling_at_create", "refuse_secret_arguments", "rename_confirmation", "require_an_actual_change",
           "require_an_edit", "require_complete_to_enable", "require_offered_resent_values", "require_unique_name",
           "require_usable_form", "require_usable_server_form", "secret_at_risk_confirmation"]

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

def refuse_secret_arguments(arguments: dict[str, Any]) -> None:
    """A credential by name (any depth, look-alike spellings too) or by value (a token, a key, a password in a URL)
    anywhere. Option values are checked for random-looking tokens later (check_options), for input fields
    only: select values are the provider's asset ids."""
    paths = secret_paths(arguments, CREDENTIAL_KEYS, has_value=lambda _: True, no_entropy=("third_party_options",),
                         random_keys=("site_third_party_integration",))  # a 20-character RevCent id
    if paths:
        raise GuardrailError(f"Refused: raw credential fields in the arguments ({listing(paths)}). "
                             f"Nothing was sent. {SECURE_FORM_WAY} Guide: GetIntegrationGuide common/guardrails.")


def require_an_edit(edit: EditRequest) -> None:
    if not edit.given():
        raise GuardrailError("Refused: nothing to change. Give at least one of name, description, enabled, "
                             "secure_form_id, third_party_options.")


def require_an_actual_change(plan: EditPlan) -> None:
    if not plan.body:
        raise GuardrailError("Refused: this edit changes nothing; every value given is already saved. "
                             "Nothing was sent.")


def refuse_combined_changes(plan: EditPlan) -> None:
    """The Edit guide: "For safer review, separate risky changes: Edit 1: name / description, Edit 2: credentials,
    Edit 3: options/assets, Edit 4: enabled state". One kind per call, so each is approved and verified alone."""
    if len(plan.groups) > 1:
        raise GuardrailError(f"Refused: this edit combines {' + '.join(plan.groups)}. RevCent's guide keeps risky "
                             "changes apart so each is reviewed and verified on its own: send one call per kind "
                             "(name/description, credentials, options, enabled state), in that order, reading the "
                             "result of each. Nothing was sent.")


def refuse_dropping_secrets(plan: EditPlan) -> None:
    """Where RevCent replaces whole options on edit (learned from a read-back, [I] revcent.options_edit), an option
    holding a secret field cannot be edited here: the server never sends a secret back, so the edit would erase it."""
    if plan.unsent:
        where = listing([f"{o}.{f}" for o, f in plan.unsent])
        what = "every option" if plan.options_edit == "replace" else "whole options"
        raise GuardrailError(f"Refused: RevCent replaces {what} "
                             f"on edit (seen on this account: fact revcent.options_edit), and {where} holds a secret "
                             "this server never sends back, so this edit would erase it. Change these options in "
                             "RevCent itself. Nothing was sent.")


def require_offered_resent_values(plan: EditPlan) -> None:
    """Saved fields sent again only because RevCent replaces whole options must still be offered, or RevCent (and
    the person) would get a value the field no longer takes."""
    stale = stale_values(plan.site, plan.resent)
    if stale:
        raise GuardrailError(f"Refused: {listing(stale)} (saved, sent again with this option because RevCent replaces "
                             "whole options) holds a value no longer offered; include a new value the user chose for "
                             "it (readiness.choices). Nothing was sent.")


def require_unique_name(name: str, existing: Iterable[UserIntegrationSummary], *,
                        exclude_id: str | None = None) -> None:
    """Names that look the same are the same (guardrails.text.name_key); `exclude_id` is the one being renamed."""
    wanted = name_key(name)
    for row in existing:
        if row.id != exclude_id and name_key(row.name) == wanted:
            raise GuardrailError(f"Refused: the name {name!r} is already used by integration {row.id}. "
                                 "Names must be unique; choose another. Nothing was sent.")


def refuse_enabling_at_create(enabling: bool) -> None:
    """The Edit guide's set-up order: create, read back (credentials saved? options?), save options, verify, and
    "enable integration only after required settings are complete", with the user's go-ahead for live use. A create
    cannot show any of that before it happens, so enabled=true waits for an edit (enable_confirmation)."""
    if enabling:
        raise GuardrailError("Refused: enabled=true at create. Create it with enabled unset, check the read-back "
                             "(readiness: credentials saved, options chosen), then enable with "
                             "EditUserThirdPartyIntegration(enabled=true) once the user agrees. Nothing was sent.")


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
            why = quoted(exc.error_code, 100) if exc.error_code else exc.status
            raise GuardrailError(f"Refused: secure form {form_id} cannot be used ({why}: "
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


def check_options(site: SiteIntegration, proposal: list[OptionInput], saved: SavedValues) -> None:
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
            # A secret field is set in RevCent itself and may not be shown (readiness.unseen_secrets).
            if f.required and not non_empty(value) and not is_secret_option(item.id, f.id):
                problems.append(f"{item.id}.{f.id} is required for option {item.id}; include it.")
    if problems:
        raise GuardrailError("Refused: third_party_options do not match the site integration. Nothing was sent.\n"
                             + "\n".join(f"- {p}" for p in problems[:MAX_LISTED])
                             + (f"\n- and {len(problems) - MAX_LISTED} more problems" if len(problems) > MAX_LISTED
                                else ""))


def _check_values(option_id: str, field_id: str, f: OptionFieldSpec, values: list[str]) -> list[str]:
    where = f"{option_id}.{field_id}"
    if f.field_type == "input":
        if len(values) != 1 or is_blank(values[0]):
            return [f"{where} is an input field: give exactly one non-empty value."]
        if looks_masked(values[0]):
            return [f"{where}: {values[0]!r} is a masked value as RevCent shows a secret; sending it would replace the "
                    "secret with the mask. Leave the field out."]
        # With the random-token rule (an input is typed, never a provider's id) and the hex rule unless the field
        # names an id (`store_id`): a bare 32-hex value in a typed field is a pasted credential.
        kinds = secret_kinds(values[0], hex_tokens=not names_random(field_id))
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

OPTIONS_PREFIX = "third_party_options."


def _is_setting(change: FieldChange) -> bool:
    return change.field == "credentials" or change.field.startswith(OPTIONS_PREFIX)


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


def live_settings_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    """The Edit guide: "Do not edit production integration settings without explicit user confirmation". On an
    enabled integration even a first value (an empty option, credentials where none were saved) changes what live
    features do; replacing a saved value is overwrite_confirmation's."""
    if not plan.current.enabled:
        return None
    filled = [c for c in plan.changes if _is_setting(c) and not c.overwrites]
    if not filled:
        return None
    return ConfirmationRequest(
        flag="confirm_overwrite", reason=f"this edit sets new values on the enabled integration {plan.current.name!r}.",
        changes=filled,
        consequence=f"Live features use them at once: {dependent_features(plan.site.integration_type)}.")


def secret_at_risk_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    """Until a write here has shown what Edit does with option fields it is not sent ([I] revcent.options_edit), an
    edit of an option that holds a secret field may erase it if RevCent replaces whole options; a read-back may not
    show that (secrets can be left out of reads), so the person hears it before, not after."""
    if plan.options_edit_seen or plan.options_edit != "field" or not plan.touched_secrets:
        return None
    where = listing([f"{o}.{f}" for o, f in plan.touched_secrets])
    return ConfirmationRequest(
        flag="confirm_overwrite", reason=f"this edit sends an option that holds the secret {where}, which this server "
                                         "never sends.",
        changes=[c for c in plan.changes if c.field.startswith(OPTIONS_PREFIX)],
        consequence="If RevCent replaces whole options (not yet seen on this account), the secret is erased and the "
                    "user must enter it again in RevCent.")


def enable_confirmation(plan: EditPlan) -> ConfirmationRequest | None:
    """The Edit guide, before enabling: "user understands the integration may be used by live workflows". Only
    complete integrations get here (require_complete_to_enable); the person still says go. Secret option fields
    RevCent does not show are named, for the person to confirm they are set in RevCent."""
    if not plan.enabling or plan.current.enabled:
        return None
    readiness = plan.readiness_after()
    unseen = (f" The secret option field(s) {listing(readiness.unseen_secrets)} are not shown by RevCent: confirm "
              "they are set in RevCent.") if readiness.unseen_secrets else ""
    return ConfirmationRequest(
        flag="confirm_enable", reason=f"enabling {plan.current.name!r} puts it in live use.",
        changes=[c for c in plan.changes if c.field == "enabled"],
        consequence=f"From now on it drives {dependent_features(plan.site.integration_type)}.{unseen}")


def edit_confirmations(plan: EditPlan) -> list[ConfirmationRequest]:
    """In the order the person is asked."""
    requests = (overwrite_confirmation(plan), live_settings_confirmation(plan), secret_at_risk_confirmation(plan),
                rename_confirmation(plan), enable_confirmation(plan),
                disable_confirmation(plan))
    return [request for request in requests if request is not None]
