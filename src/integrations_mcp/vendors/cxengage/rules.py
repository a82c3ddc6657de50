"""Every refusal of the CxEngage tools, one function per guardrail, and the confirmation requests.

Each `refuse_*`/`require_*`/`check_*`/`resolve_*` function raises GuardrailError (nothing sent) or returns. The
`*_confirmation` functions only say what needs the person; the confirm stage (`pipeline.confirm.Confirmer`,
called by `run_write`) decides and asks. The catalog of types and properties is data, in `catalog.py`.

| tool                      | guardrails, in the order they apply                                             |
|---------------------------|---------------------------------------------------------------------------------|
| every tool                | refuse_secret_arguments (argument guard, before the tool runs)                  |
| CreateCxEngageSecureForm  | resolve_type, require_same_type (with integration_id), choose_secret_fields,    |
|                           | form_destination                                                                |
| CreateCxEngageIntegration | resolve_type, check_properties (UI formats only if active), require_usable_form,|
|                           | require_complete (active=true only), require_unique_name                        |
| EditCxEngageIntegration   | require_an_edit, resolve_type (the saved type), check_properties (UI formats    |
|                           | if it is or becomes active), require_usable_form, require_an_actual_change,     |
|                           | require_unique_name (rename), refuse_emptying_required (active ones),           |
|                           | require_complete_if_active;                                                     |
|                           | confirm: overwrite_confirmation, destination_confirmation (secrets kept),       |
|                           | rename_confirmation (active), erase_confirmation (PUT replaces properties),     |
|                           | deactivation_confirmation                                                       |

The secure form store adds its own refusals (unknown, expired or spent form) when the form is read or taken.

Required properties, choices and formats are the configuration UI's rules [I] (facts.py: cxengage.ui_rules): the
documents state no API validation, and their own example creates a Zendesk integration with empty properties. So they
apply to activation (and to an active integration's edits), and each refusal says they are the UI's; an inactive
integration may be created or edited incomplete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.secret_values import names_random
from integrations_mcp.guardrails.secrets import MAX_LISTED, listing, secret_paths
from integrations_mcp.guardrails.text import is_blank, name_key
from integrations_mcp.pipeline.changes import FieldChange, is_set
from integrations_mcp.pipeline.confirm import ConfirmationRequest
from integrations_mcp.secure_forms.store import SecureFormStatus
from integrations_mcp.vendors.cxengage.catalog import (
    RANDOM_BY_DESIGN,
    SECRET_KEYS,
    TYPES,
    PropertySpec,
    TypeSpec,
    normalise_type,
)
from integrations_mcp.vendors.cxengage.models import Readiness
from integrations_mcp.vendors.cxengage.plans import DESTINATION, EditArgs, destination_of
from integrations_mcp.vendors.cxengage.records import ListRow
from integrations_mcp.vendors.cxengage.views import PROPERTY, id_looks_secret

__all__ = ["CONFIRM_DEACTIVATE", "CONFIRM_OVERWRITE", "SECURE_WAY", "check_properties", "choose_secret_fields",
           "deactivation_confirmation", "destination_confirmation", "erase_confirmation", "form_destination",
           "overwrite_confirmation", "refuse_emptying_required", "refuse_secret_arguments", "rename_confirmation",
           "require_an_actual_change", "require_an_edit", "require_complete", "require_complete_if_active",
           "require_same_type", "require_unique_name", "require_usable_form", "resolve_type"]

SECURE_WAY = ("Secrets are never taken in chat: call CreateCxEngageSecureForm, give the user form_url to type "
              "them in, then pass secure_form_id. Guide: GetIntegrationGuide cxengage/secure-forms.")
CONFIRM_OVERWRITE, CONFIRM_DEACTIVATE = "confirm_overwrite", "confirm_deactivate"
MAX_PROPERTY_CHARS = 10_000  # one property value, as JSON: no CxEngage setting needs more

# [I] fact cxengage.properties_merge: whether PUT merges `properties` key by key or replaces the object. The
# tools send only the properties that change, so secrets an edit does not touch never travel again (nor can a masked
# echo of one be written back); the read-back then checks that every untouched property survived.


# --- every tool -------------------------------------------------------------------------------------------------


# A read by id: the arguments are nothing but these ids, as lowercase UUIDs (how CxEngage writes them). The scans of
# `refuse_secret_arguments` find nothing in such arguments, whatever the UUID: the names are no secret's, ids are
# spared the look-alike test, and no known format's hint, auth scheme's word or `://` is made of lowercase hex digits
# and dashes alone (tests/vendors/cxengage/test_rules.py checks each premise). Such a call skips them: on a read of a
# record the server has not seen, the scans of its new id were most of the guard's cost.
_ID_ARGUMENTS = frozenset({"tenant_id", "integration_id"})
_LOWER_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def ids_only(arguments: dict[str, Any]) -> bool:
    """Whether `arguments` hold only tenant and integration ids, each a lowercase UUID (no arguments at all too)."""
    return all(name in _ID_ARGUMENTS and type(value) is str and _LOWER_UUID.fullmatch(value) is not None
               for name, value in arguments.items())


def refuse_secret_arguments(arguments: dict[str, Any]) -> None:
    """Argument guard: a non-empty secret property (by name, any depth, look-alike spellings too), or a value that
    is a secret by its look (a token, a key, a password in a URL), anywhere in the arguments refuses the whole call."""
    paths = [] if ids_only(arguments) else secret_arguments(arguments)
    if paths:
        raise GuardrailError(f"Refused: secret values in the arguments ({listing(paths)}). Nothing was sent. "
                             + SECURE_WAY)


def secret_arguments(arguments: dict[str, Any]) -> list[str]:
    """Where `arguments` hold a secret: paths and kinds, never the value."""
    paths = secret_paths(arguments, SECRET_KEYS, has_value=is_set, random_keys=RANDOM_BY_DESIGN,
                         hex_in=("properties",))  # where credentials belong: a bare hex token is one (Twilio's)
    # Id-named values (interactionFieldId, platformTypeId, accountSid, ...) are spared the look-alike test above, as
    # ids can look random; but an id is never a token: one that looks like a secret is refused too.
    return paths + [f"{where}.{name} (looks like a secret, not an id)" for where in ("properties", "destination")
                    if isinstance(arguments.get(where), dict)
                    for name, value in arguments[where].items() if names_random(name) and id_looks_secret(value)]


def resolve_type(value: str) -> TypeSpec:
    name = normalise_type(value)
    if name is None:
        raise GuardrailError(f"Refused: unknown integration type {value!r}. Valid types: {', '.join(TYPES)}. "
                             "Nothing was sent.")
    return TYPES[name]


# --- CreateCxEngageSecureForm ---------------------------------------------------------------------------------


def require_same_type(integration_id: str, saved_type: str, spec: TypeSpec) -> None:
    """A form to replace an integration's secrets asks for the secrets of that integration's type."""
    if resolve_type(saved_type).name != spec.name:
        raise GuardrailError(f"Refused: integration {integration_id} is of type {saved_type!r}, "
                             f"not {spec.name!r}. Nothing was created.")


def choose_secret_fields(spec: TypeSpec, fields: list[str] | None) -> tuple[PropertySpec, ...]:
    """The type's secrets a form asks for: all of them, or the chosen ones."""
    secrets = spec.secrets
    if fields is not None:
        unknown = [f for f in fields if f not in {s.name for s in secrets}]
        if unknown or not fields:
            raise GuardrailError(f"Refused: {', '.join(unknown) or 'an empty list'} is not a choice of secret "
                                 f"fields for {spec.name}. Valid: {', '.join(s.name for s in secrets)}. "
                                 "Nothing was created.")
        secrets = tuple(s for s in secrets if s.name in fields)
    if not secrets:
        raise GuardrailError(f"Type {spec.name} has no secret properties: pass its properties directly.")
    return secrets


# --- create and edit ------------------------------------------------------------------------------------------


UI_RULES_NOTE = "(the CxEngage configuration UI's rules, applied when the integration is active)"


def check_properties(spec: TypeSpec, properties: Mapping[str, Any], *, ui_rules: bool = True) -> None:
    """Refuse names the type does not have and values of the wrong kind or size; with `ui_rules` (an active
    integration) also values outside a property's choices or format, which are the UI's rules. The refusal lists at
    most MAX_LISTED problems, each of bounded length."""
    problems = [problem for name, value in properties.items()
                if (problem := _property_problem(spec, name, value, ui_rules=ui_rules))]
    if problems:
        ui = any(_property_problem(spec, n, v, ui_rules=False) is None for n, v in properties.items()
                 if _property_problem(spec, n, v, ui_rules=True))
        raise GuardrailError("Refused: properties do not match the integration type"
                             + (f" {UI_RULES_NOTE}" if ui else "") + ". Nothing was sent.\n"
                             + "\n".join(f"- {p}" for p in problems[:MAX_LISTED])
                             + (f"\n- and {len(problems) - MAX_LISTED} more problems" if len(problems) > MAX_LISTED
                                else ""))


def _property_problem(spec: TypeSpec, name: str, value: Any, *, ui_rules: bool = True) -> str | None:
    prop = spec.prop(name)
    if prop is None:
        shown = repr(name) if len(name) <= 80 else repr(name[:80]) + "…"
        return f"{shown} is not a property of type {spec.name}. Valid: {', '.join(spec.names)}."
    if len(json.dumps(value, default=str)) > MAX_PROPERTY_CHARS:
        return f"{name} is longer than {MAX_PROPERTY_CHARS} characters."
    if prop.kind == "boolean" and not isinstance(value, bool):
        return f"{name} takes true or false."
    if prop.kind == "string" and not isinstance(value, str):
        return f"{name} takes a string."
    if isinstance(value, str) and value and is_blank(value):
        return f"{name} is blank (only spaces or invisible characters): give a value, or \"\" to clear it."
    if prop.kind == "object" and not isinstance(value, dict):
        return f"{name} takes an object."
    if prop.kind == "any" and isinstance(value, dict):
        return f"{name} takes a single value, not an object."
    if prop.kind == "port" and value != "" and not _is_port(value):
        return f"{name} takes a port number from 1 to 65535 (a whole number, or its digits as a string)."
    if not ui_rules:
        return None
    if prop.choices and value not in prop.choices and value != "":
        return f"{name} must be one of: {', '.join(prop.choices)}."
    if prop.pattern and isinstance(value, str) and value and not re.fullmatch(prop.pattern, value):
        return f"{name} must be {prop.pattern_hint}."
    return None


def _is_port(value: Any) -> bool:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return type(value) is int and 0 < value < 65536  # not bool, not 25.5


def require_usable_form(status: SecureFormStatus, purpose: Mapping[str, str]) -> None:
    """The form was made for this write (vendor, tenant, type, integration, and where its secrets will be used), is
    not spent, and was saved."""
    for key in [*purpose, *(k for k in status.purpose if k not in purpose)]:
        made, wanted = status.purpose.get(key), purpose.get(key)
        if made == wanted:
            continue
        if key.startswith(DESTINATION):
            raise GuardrailError(
                f"Refused: the user typed these secrets for use with {key.removeprefix(DESTINATION)} "
                f"{made or '(none)'!r}, and this write would use them with {wanted or '(none)'!r}. Create a new form "
                "with CreateCxEngageSecureForm naming the destination (the user sees it there). Nothing was sent.")
        raise GuardrailError(f"Refused: this secure form was made for {key} {made or '(none)'!r}, not "
                             f"{wanted or '(none)'!r}. Create a form for this integration with "
                             "CreateCxEngageSecureForm. Nothing was sent.")
    if status.used:
        raise GuardrailError("Refused: this secure form was already used (a form works once, and its values "
                             "were deleted). Create a new one with CreateCxEngageSecureForm. Nothing was sent.")
    if not status.completed:
        raise GuardrailError("Refused: the user has not saved the secure form yet. Ask them to open form_url, "
                             "fill it in and press Save, then call again. Nothing was sent.")


def require_unique_name(existing: Iterable[ListRow], name: str, exclude_id: str | None = None) -> None:
    """Names are unique in a tenant; names that look the same are the same (guardrails.text.name_key)."""
    wanted = name_key(name)
    for row in existing:
        if row["id"] != exclude_id and name_key(row["name"]) == wanted:
            raise GuardrailError(f"Refused: an integration named {row['name']!r} already exists in this "
                                 f"tenant (id {row['id']}). Choose another name. Nothing was sent.")


def require_complete(spec: TypeSpec, after: Readiness) -> None:
    """A new integration created active has everything its type requires (the UI's rules); an inactive one may be
    created incomplete, as the documents' own example does."""
    if not after.can_activate:
        raise GuardrailError("Refused: cannot create it active: " + "; ".join(after.blockers) + ". Required "
                             f"properties of type {spec.name} {UI_RULES_NOTE}: "
                             f"{', '.join(p.name for p in spec.properties if p.required)}. Create it inactive "
                             "(active=false) and complete it, or give them now. Nothing was sent.")


# --- EditCxEngageIntegration ----------------------------------------------------------------------------------


def require_an_edit(args: EditArgs) -> None:
    """At least one of name, description, active, properties, secure_form_id (checked before anything is read)."""
    if all(v is None for v in (args.name, args.description, args.active, args.properties, args.secure_form_id)):
        raise GuardrailError("Refused: nothing to change. Give at least one of name, description, active, "
                             "properties, secure_form_id.")


def require_an_actual_change(changes: list[FieldChange]) -> None:
    if not changes:
        raise GuardrailError("Refused: this edit changes nothing; every value given is already saved. "
                             "Nothing was sent.")


def refuse_emptying_required(before: Readiness, after: Readiness, *, active: bool = True,
                             erased: Iterable[str] = (), type_name: str = "") -> None:
    """An edit of an active integration may not empty a required property that holds a value (missing ones may
    stay missing); an inactive one may (the UI's rules apply at activation). `erased`: secrets a replacing PUT
    would erase because CxEngage does not return them (the way out is a form, not a value)."""
    emptied = [m for m in after.missing_required if m not in before.missing_required]
    if not (emptied and active):
        return
    lost = [m for m in emptied if m in set(erased)]
    how = (f" CxEngage replaces properties as a whole and never returns {', '.join(lost)} in clear, so this edit "
           f"would erase them: bring them in a form (CreateCxEngageSecureForm type={type_name}, integration_id, "
           f"fields={json.dumps(lost)}) with this edit." if lost else " Give them values too.")
    raise GuardrailError(f"Refused: this edit would leave required properties without a value "
                         f"{UI_RULES_NOTE}: {', '.join(emptied)}.{how} Nothing was sent.")


def require_complete_if_active(after: Readiness, *, activating: bool, stays_active: bool,
                               touches_properties: bool) -> None:
    """Activating needs a complete integration, and so does a property edit of an active one (judged on the state
    after the edit, so missing values and active=true may go in one call)."""
    if not (activating or (stays_active and touches_properties)) or after.can_activate:
        return
    what = "activate" if activating else "leave active"
    raise GuardrailError(f"Refused: cannot {what} an incomplete integration {UI_RULES_NOTE}: "
                         + "; ".join(after.blockers) + ". Set what is missing first (leave active unset). "
                         "Nothing was sent.")


def overwrite_confirmation(changes: list[FieldChange], saved: Mapping[str, Any]) -> ConfirmationRequest | None:
    """Replacing or clearing property values already set needs the person. A switch that is off (false, the
    vendor's default) holds nothing to lose; turning one off does. Other fields need no confirmation for this."""
    replaced = [c for c in changes if c.field.startswith(PROPERTY)
                and _holds_value(saved.get(c.field.removeprefix(PROPERTY)))]
    if not replaced:
        return None
    return ConfirmationRequest(
        flag=CONFIRM_OVERWRITE, reason="this edit replaces property values that are already set.",
        changes=replaced, consequence="Flows that use this integration pick up the new values at once.",
        title="Replace saved settings of {target}?")


def deactivation_confirmation(name: str, active: bool | None) -> ConfirmationRequest | None:
    """`active` is what the edit sends (None when it leaves it alone)."""
    if active is not False:
        return None
    return ConfirmationRequest(
        flag=CONFIRM_DEACTIVATE, reason=f"deactivating {name!r} affects live contacts.",
        consequence="Flows that call this integration (CRM look-ups, ticket or activity updates) fail or skip it "
                    "until it is turned on again.",
        title="Turn off {target}?")


def form_destination(spec: TypeSpec, saved: Mapping[str, Any], given: Mapping[str, Any], *,
                     creating: bool) -> dict[str, str]:
    """Where a new secure form's secrets will be used: the saved destination of the integration they replace,
    updated by `given`. For a new integration the type's required destination properties must be named, since the
    person decides on the form whether the secrets belong there."""
    valid = [p.name for p in spec.destinations]
    unknown = [k for k in given if k not in valid]
    if unknown:
        raise GuardrailError(f"Refused: {', '.join(unknown)} is not where {spec.name} secrets go. Valid destination "
                             f"properties: {', '.join(valid) or 'none'}. Nothing was created.")
    where = destination_of(spec, {**saved, **given})
    missing = [p.name for p in spec.destinations if p.required and p.name not in where]
    if creating and missing:
        raise GuardrailError(f"Refused: say where the secrets will be used: destination with {', '.join(missing)} "
                             "(the values the integration will have). The user sees them on the form, and the "
                             "secrets then work only there. Nothing was created.")
    return where


def destination_confirmation(spec: TypeSpec, changes: list[FieldChange], saved: Mapping[str, Any],
                             replaced: Iterable[str]) -> ConfirmationRequest | None:
    """Moving where an integration's saved secrets are used (its endpoint, host or account) needs the person, unless
    every saved secret is replaced by a secure form that names the new destination (`replaced`)."""
    kept = [p.name for p in spec.secrets if is_set(saved.get(p.name)) and p.name not in set(replaced)]
    moved = [c for c in changes if c.field.removeprefix(PROPERTY) in {p.name for p in spec.destinations}
             and c.field.startswith(PROPERTY)]
    if not kept or not moved:
        return None
    return ConfirmationRequest(
        flag=CONFIRM_OVERWRITE, reason=f"this edit changes where the saved {', '.join(kept)} will be sent.",
        changes=moved, consequence="The saved secrets will be used with the new values; check that they belong there.",
        title="Use the saved secrets of {target} somewhere else?")


def rename_confirmation(current_name: str, new_name: str | None, active: bool) -> ConfirmationRequest | None:
    """Renaming an active integration needs the person: flows and people that find it by name must know."""
    if new_name is None or not active:
        return None
    return ConfirmationRequest(
        flag=CONFIRM_OVERWRITE, reason=f"this edit renames the active integration {current_name!r}.",
        changes=[FieldChange.of("name", current_name, new_name)],
        consequence="Flows and people that look it up by name will need the new one.",
        title="Rename {target}?")


def erase_confirmation(erased: list[str], type_name: str) -> ConfirmationRequest | None:
    """Once PUT is known to replace `properties` wholesale (fact cxengage.properties_merge, learned from a write's
    read-back), an edit of properties erases the secrets it cannot send back (masked or left out of reads): the
    person agrees, or the edit brings them in a secure form."""
    if not erased:
        return None
    return ConfirmationRequest(
        flag=CONFIRM_OVERWRITE,
        reason=f"CxEngage replaces properties as a whole and never returns {', '.join(erased)} in clear, so this edit "
               "would erase them.",
        changes=[FieldChange(field=PROPERTY + name, saved="set", proposed=None, overwrites=True) for name in erased],
        consequence=f"To keep them instead, create a form (CreateCxEngageSecureForm type={type_name}, integration_id, "
                    f"fields={json.dumps(erased)}) for the user and pass its secure_form_id with this edit.")


def _holds_value(value: Any) -> bool:
    return is_set(value) and value is not False
