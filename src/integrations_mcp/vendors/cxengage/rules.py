"""CxEngage rules as pure functions: type resolution, property checks, readiness, diffs, redaction.

The refuse-or-proceed decisions are made in the tools; this module says what is wrong, missing or changed.
"""

from __future__ import annotations

import re
from typing import Any

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.secrets import REDACTED, find_keys, redact, url_password_paths
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.vendor_http import vendor_record
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS, TYPES, TypeSpec, normalise_type
from integrations_mcp.vendors.cxengage.models import Integration, IntegrationView, Readiness

SECURE_WAY = ("Secrets are never taken in chat: call CreateCxEngageSecureForm, give the user form_url to type "
              "them in, then pass secure_form_id. See guide://cxengage/secure-forms.")

# [I] Whether PUT merges `properties` key by key or replaces the object is undocumented (the emulator merges). The
# tools send only the properties that change, so secrets an edit does not touch never travel again (nor can a masked
# echo of one be written back); the read-back then checks that every untouched property survived.

# [I] Whether reads return stored secrets is unknown for real values (the docs' example echoes empty strings).
# True: readiness and read-back checks use the echoed secrets. False: secrets are taken as set once sent, and are
# not compared on read-back.
VENDOR_ECHOES_SECRETS = True

# Secret values shown in diffs: never the value, only whether one is there.
SECRET_SET, SECRET_REPLACED = "set", "replaced"


def refuse_secret_arguments(arguments: dict[str, Any]) -> None:
    """Argument guard: a non-empty secret property, or a password inside a URL, anywhere in the arguments refuses
    the whole call."""
    paths = [path for path, value in find_keys(arguments, SECRET_KEYS) if _has_value(value)]
    paths += [f"{path} (password in the URL)" for path in url_password_paths(arguments)]
    if paths:
        raise GuardrailError(f"Refused: secret values in the arguments ({', '.join(paths)}). Nothing was sent. "
                             + SECURE_WAY)


def resolve_type(value: str) -> TypeSpec:
    name = normalise_type(value)
    if name is None:
        raise GuardrailError(f"Refused: unknown integration type {value!r}. Valid types: {', '.join(TYPES)}. "
                             "Nothing was sent.")
    return TYPES[name]


def check_properties(spec: TypeSpec, properties: dict[str, Any]) -> None:
    """Refuse names the type does not have, values of the wrong kind, and values outside a property's choices."""
    problems = []
    for name, value in properties.items():
        prop = spec.prop(name)
        if prop is None:
            problems.append(f"{name!r} is not a property of type {spec.name}. Valid: {', '.join(spec.names)}.")
        elif prop.kind == "boolean" and not isinstance(value, bool):
            problems.append(f"{name} takes true or false.")
        elif prop.kind == "string" and not isinstance(value, str):
            problems.append(f"{name} takes a string.")
        elif prop.kind == "object" and not isinstance(value, dict):
            problems.append(f"{name} takes an object.")
        elif prop.kind == "any" and isinstance(value, dict):
            problems.append(f"{name} takes a single value, not an object.")
        elif prop.choices and value not in prop.choices and value != "":
            problems.append(f"{name} must be one of: {', '.join(prop.choices)}.")
        elif prop.pattern and isinstance(value, str) and value and not re.fullmatch(prop.pattern, value):
            problems.append(f"{name} must be {prop.pattern_hint}.")
    if problems:
        raise GuardrailError("Refused: properties do not match the integration type. Nothing was sent.\n"
                             + "\n".join(f"- {p}" for p in problems))


def readiness(spec: TypeSpec, properties: dict[str, Any]) -> Readiness:
    missing = [p.name for p in spec.properties if p.required and not _has_value(properties.get(p.name))]
    # Zendesk: work items need the interaction field (the vendor's UI rule).
    if spec.name == "zendesk" and properties.get("workItems") is True \
            and not _has_value(properties.get("interactionFieldId")):
        missing.append("interactionFieldId")
    secrets_missing = [m for m in missing if spec.prop(m) and spec.prop(m).secret]  # type: ignore[union-attr]
    plain_missing = [m for m in missing if m not in secrets_missing]
    blockers = []
    if plain_missing:
        blockers.append(f"required properties without a value: {', '.join(plain_missing)}")
    if secrets_missing:
        blockers.append(f"secrets not set: {', '.join(secrets_missing)} (CreateCxEngageSecureForm)")
    return Readiness(missing_required=missing, secrets_missing=secrets_missing, can_activate=not blockers,
                     secrets_set=[p.name for p in spec.secrets if _has_value(properties.get(p.name))],
                     blockers=blockers)


def redact_properties(properties: dict[str, Any]) -> dict[str, Any]:
    return redact(properties, SECRET_KEYS)


def view(raw: dict[str, Any]) -> IntegrationView:
    """A vendor record as the model may see it: secrets redacted, readiness computed."""
    properties = raw.get("properties") or {}
    if not isinstance(properties, dict):
        properties = {"(unreadable)": REDACTED}  # never echo what may be a secret
    record = vendor_record(Integration, {
        "id": raw.get("id"), "tenant_id": raw.get("tenantId"), "name": raw.get("name"), "type": raw.get("type"),
        "description": raw.get("description"), "active": bool(raw.get("active")),
        "properties": redact_properties(properties), "created": raw.get("created"), "updated": raw.get("updated"),
    }, "CxEngage", "GetIntegration")
    spec = TYPES.get(normalise_type(record.type) or "")
    if spec is None:  # a type this server does not know: show it, but claim nothing about completeness
        ready = Readiness(missing_required=[], secrets_set=[], secrets_missing=[], can_activate=False,
                          blockers=[f"type {record.type!r} is not known to integrations-mcp"])
    elif VENDOR_ECHOES_SECRETS:
        ready = readiness(spec, properties)
    else:  # reads cannot tell whether a secret is set: do not block on them
        ready = readiness(spec, {**properties, **{p.name: "(not readable)" for p in spec.secrets}})
    return IntegrationView(integration=record, readiness=ready)


def property_changes(spec: TypeSpec, saved: dict[str, Any], proposed: dict[str, Any],
                     secrets: list[str]) -> list[FieldChange]:
    """One FieldChange per property whose value changes. `secrets` are the secret properties being replaced (their
    values are never shown: "set"/"replaced")."""
    changes = []
    for name, value in proposed.items():
        before = saved.get(name)
        if value != before:
            # Nested objects may hold secrets of their own: never show them.
            shown_before, shown_after = redact(before, SECRET_KEYS), redact(value, SECRET_KEYS)
            if SECRET_KEYS(name):  # e.g. a secret being cleared with "": never show what was saved
                shown_before = SECRET_SET if _has_value(before) else None
                shown_after = (SECRET_REPLACED if _has_value(before) else SECRET_SET) if _has_value(value) else None
            changes.append(FieldChange(field=f"properties.{name}", saved=shown_before, proposed=shown_after,
                                       overwrites=_holds_value(before)))
    for name in secrets:
        before = saved.get(name)
        changes.append(FieldChange(field=f"properties.{name}", saved=SECRET_SET if _has_value(before) else None,
                                   proposed=SECRET_REPLACED if _has_value(before) else SECRET_SET,
                                   overwrites=_has_value(before)))
    return changes


def redacted_body(body: dict[str, Any]) -> dict[str, Any]:
    return redact(body, SECRET_KEYS)


def secret_values_in(values: dict[str, Any]) -> list[str]:
    """Every secret string (at any depth under a secret key), for scrubbing vendor error texts that quote them."""
    return [v for _, found in find_keys(values, SECRET_KEYS) for v in _strings(found) if v]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _has_value(value: Any) -> bool:
    return value not in (None, "", {}, [])


def _holds_value(value: Any) -> bool:
    """What replacing needs confirmation for: a switch that is off (false, the vendor's default) holds nothing
    to lose; turning it off again later does."""
    return _has_value(value) and value is not False


__all__ = ["REDACTED", "SECURE_WAY", "SECRET_KEYS", "VENDOR_ECHOES_SECRETS", "check_properties",
           "property_changes", "readiness", "redact_properties", "redacted_body", "refuse_secret_arguments",
           "resolve_type", "secret_values_in", "view"]
