"""What the model sees of CxEngage integrations and changes: readiness, records with secrets redacted, and
property diffs that never show a secret. Pure functions; the refusals are in `rules.py`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations_mcp.guardrails.secrets import REDACTED, find_keys, redact
from integrations_mcp.pipeline.changes import FieldChange, is_set
from integrations_mcp.vendors.cxengage.catalog import SECRET_KEYS, TYPES, TypeSpec, normalise_type
from integrations_mcp.vendors.cxengage.facts import VENDOR_ECHOES_SECRETS  # [I] fact cxengage.secrets_echoed
from integrations_mcp.vendors.cxengage.models import Integration, IntegrationView, Readiness
from integrations_mcp.vendors.cxengage.records import IntegrationRecord

__all__ = ["PROPERTY", "REDACTED", "SECRET_REPLACED", "SECRET_SET", "VENDOR_ECHOES_SECRETS", 
           "property_changes", "readiness", "redact_properties", "redacted_body", "secret_values_in", "view"]


# Secret values shown in diffs: never the value, only whether one is there.
SECRET_SET, SECRET_REPLACED = "set", "replaced"
PROPERTY = "properties."  # how a property's FieldChange is named: properties.<name>


def readiness(spec: TypeSpec, properties: Mapping[str, Any]) -> Readiness:
    missing = [p.name for p in spec.properties if p.required and not is_set(properties.get(p.name))]
    # Zendesk: work items need the interaction field (the vendor's UI rule).
    if spec.name == "zendesk" and properties.get("workItems") is True \
            and not is_set(properties.get("interactionFieldId")):
        missing.append("interactionFieldId")
    secrets_missing = [m for m in missing if (prop := spec.prop(m)) is not None and prop.secret]
    plain_missing = [m for m in missing if m not in secrets_missing]
    blockers = []
    if plain_missing:
        blockers.append(f"required properties without a value: {', '.join(plain_missing)}")
    if secrets_missing:
        blockers.append(f"secrets not set: {', '.join(secrets_missing)} (CreateCxEngageSecureForm)")
    return Readiness(missing_required=missing, secrets_missing=secrets_missing, can_activate=not blockers,
                     secrets_set=[p.name for p in spec.secrets if is_set(properties.get(p.name))],
                     blockers=blockers)


def redact_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    return redact(dict(properties), SECRET_KEYS)


def redacted_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return redact(dict(body), SECRET_KEYS)


def view(record: IntegrationRecord) -> IntegrationView:
    """A vendor record as the model may see it: secrets redacted, readiness computed."""
    shown = Integration(id=record.id, tenant_id=record.tenant_id, name=record.name, type=record.type,
                        description=record.description, active=record.active,
                        properties=redact_properties(record.properties), created=record.created,
                        updated=record.updated)
    spec = TYPES.get(normalise_type(record.type) or "")
    if spec is None:  # a type this server does not know: show it, but claim nothing about completeness
        ready = Readiness(missing_required=[], secrets_set=[], secrets_missing=[], can_activate=False,
                          blockers=[f"type {record.type!r} is not known to integrations-mcp"])
    elif VENDOR_ECHOES_SECRETS:
        ready = readiness(spec, record.properties)
    else:  # reads cannot tell whether a secret is set: do not block on them
        ready = readiness(spec, {**record.properties, **{p.name: "(not readable)" for p in spec.secrets}})
    return IntegrationView(integration=shown, readiness=ready)


def property_changes(saved: Mapping[str, Any], proposed: Mapping[str, Any],
                     secrets: list[str]) -> list[FieldChange]:
    """One FieldChange per property whose value changes. `secrets` are the secret properties a secure form fills
    (their values are never shown: "set"/"replaced"). `overwrites` is the fact that a saved value is replaced."""
    changes = []
    for name, value in proposed.items():
        before = saved.get(name)
        if value != before:
            # Nested objects may hold secrets of their own: never show them.
            shown_before, shown_after = redact(before, SECRET_KEYS), redact(value, SECRET_KEYS)
            if SECRET_KEYS(name):  # e.g. a secret being cleared with "": never show what was saved
                shown_before = SECRET_SET if is_set(before) else None
                shown_after = (SECRET_REPLACED if is_set(before) else SECRET_SET) if is_set(value) else None
            changes.append(FieldChange(field=PROPERTY + name, saved=shown_before, proposed=shown_after,
                                       overwrites=is_set(before)))
    for name in secrets:
        before = saved.get(name)
        changes.append(FieldChange(field=PROPERTY + name, saved=SECRET_SET if is_set(before) else None,
                                   proposed=SECRET_REPLACED if is_set(before) else SECRET_SET,
                                   overwrites=is_set(before)))
    return changes


def secret_values_in(values: Mapping[str, Any]) -> list[str]:
    """Every secret string (at any depth under a secret key), for scrubbing vendor error texts that quote them."""
    return [v for _, found in find_keys(dict(values), SECRET_KEYS) for v in _strings(found) if v]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []
