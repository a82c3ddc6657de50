"""What the model sees of CxEngage integrations and changes: readiness, records with secrets redacted, and
property diffs that never show a secret. Pure functions; the refusals are in `rules.py`."""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Mapping
from typing import Any

import pydantic_core

from integrations_mcp.guardrails.secret_values import find_secret_values, mask_secret_values, names_random
from integrations_mcp.guardrails.secrets import REDACTED, find_keys, redact
from integrations_mcp.guardrails.text import fold_key
from integrations_mcp.pipeline.changes import FieldChange, is_set
from integrations_mcp.vendors.cxengage.catalog import (
    RANDOM_BY_DESIGN,
    SECRET_KEYS,
    TYPES,
    UI_INITIAL_PROPERTIES,
    TypeSpec,
    normalise_type,
)
from integrations_mcp.vendors.cxengage.learned import Learned
from integrations_mcp.vendors.cxengage.models import Integration, IntegrationView, Readiness
from integrations_mcp.vendors.cxengage.records import IntegrationRecord

__all__ = ["PROPERTY", "REDACTED", "SECRET_REPLACED", "SECRET_SET", "id_looks_secret", "journal_image",
           "property_changes", "readiness", "redact_properties", "redacted_body", "secret_changes",
           "secret_values_in", "view"]


# Secret values shown in diffs: never the value, only whether one is there.
SECRET_SET, SECRET_REPLACED = "set", "replaced"
PROPERTY = "properties."  # how a property's FieldChange is named: properties.<name>


def readiness(spec: TypeSpec, properties: Mapping[str, Any], *, unreadable: bool = False) -> Readiness:
    """`unreadable`: CxEngage leaves secrets out of its reads, so a secret not in `properties` may be set all the
    same (fact cxengage.secrets_echoed); it still blocks activation, with a way to set it that the server sees."""
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
    if secrets_missing and unreadable:
        blockers.append(f"secrets not known to be set: {', '.join(secrets_missing)} (CxEngage does not return "
                        "secrets, and this server did not set them: type them in a CreateCxEngageSecureForm and pass "
                        "it to the edit)")
    elif secrets_missing:
        blockers.append(f"secrets not set: {', '.join(secrets_missing)} (CreateCxEngageSecureForm)")
    return Readiness(missing_required=missing, secrets_missing=secrets_missing, can_activate=not blockers,
                     secrets_set=[p.name for p in spec.secrets if is_set(properties.get(p.name))],
                     blockers=blockers)


def redact_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Secrets by name (any depth, look-alike spellings) and by value (a token, a key, a URL password) redacted; an
    id-named value that looks like a secret too (ids are exempt from the look-alike test elsewhere, and a token
    pasted into `interactionFieldId` must not be shown back)."""
    return _mask_ids(redact(dict(properties), SECRET_KEYS, random_keys=_RANDOM))


# Properties as a read shows them (`redact_properties`), kept by a digest of the properties as CxEngage sent them:
# their JSON, every value with its type (1, 1.0 and true differ; NaN as itself), digested so that no secret is kept.
# Integrations of one kind often share their settings, and a record read again has the same. Each read gets its own
# copy (`marshal`, version 2: every value with its type, every dict and list new). Bounded (emptied when full);
# properties that are not JSON (a lone surrogate) or large are redacted each time.
KEPT_PROPERTIES_BYTES = 1_048_576
KEPT_PROPERTIES_MAX_BYTES = 16_384
_kept_properties: dict[bytes, bytes] = {}
_kept_properties_bytes = [0]


def _shown_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """`redact_properties(properties)`, made once per content (see `_kept_properties`)."""
    try:
        raw = pydantic_core.to_json(properties, inf_nan_mode="constants")
    except (ValueError, RecursionError):  # a lone surrogate (read by json.loads), nesting too deep
        return redact_properties(properties)
    if len(raw) > KEPT_PROPERTIES_MAX_BYTES:
        return redact_properties(properties)
    key = hashlib.sha256(raw).digest()
    kept = _kept_properties.get(key)
    if kept is not None:
        return marshal.loads(kept)  # type: ignore[no-any-return]
    shown = redact_properties(properties)
    try:
        kept = marshal.dumps(shown, 2)
    except ValueError:  # (JSON values only: not expected)
        return shown
    size = len(key) + len(kept) + 64  # (a small answer still counts its entry)
    if _kept_properties_bytes[0] + size > KEPT_PROPERTIES_BYTES:
        _kept_properties.clear()
        _kept_properties_bytes[0] = 0
    _kept_properties[key] = kept
    _kept_properties_bytes[0] += size
    return shown


def redacted_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return _mask_ids(redact(dict(body), SECRET_KEYS, random_keys=_RANDOM))


def _masked(text: str | None) -> Any:
    """Any text CxEngage returns, with what looks like a secret masked: every field of every read."""
    return mask_secret_values(text, REDACTED) if text else text


def id_looks_secret(value: Any) -> bool:
    """An id-named value that holds a secret by its look (a token, a key, a long random string): ids are UUIDs,
    numbers or short names, never random tokens."""
    return isinstance(value, str) and any(True for _ in find_secret_values(value, entropy=True))


def _mask_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if names_random(k) and id_looks_secret(v) else _mask_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_ids(item) for item in value]
    return value


_RANDOM = frozenset(map(fold_key, RANDOM_BY_DESIGN))


def view(record: IntegrationRecord, learned: Learned | None = None, tenant_id: str | None = None) -> IntegrationView:
    """A vendor record as the model may see it: secrets redacted, readiness computed. `learned` (the process's
    reading of the account) learns from it whether secrets come back masked or left out, and fills in the secrets
    this process set that CxEngage leaves out."""
    learned = learned if learned is not None else Learned()
    shown = Integration(id=record.id, tenant_id=record.tenant_id, name=_masked(record.name),
                        type=_masked(record.type), active=record.active,
                        description=_masked(record.description or "") or record.description,
                        properties=_shown_properties(record.properties), created=_masked(record.created),
                        updated=_masked(record.updated))
    spec = TYPES.get(normalise_type(record.type) or "")
    notes: list[str] = []
    if spec is None:  # a type this server does not know: show it, but claim nothing about completeness
        ready = Readiness(missing_required=[], secrets_set=[], secrets_missing=[], can_activate=False,
                          blockers=[f"type {record.type!r} is not known to integrations-mcp"])
    else:
        # A type the UI creates with every key, read with all its plain keys but without a secret one: CxEngage
        # leaves secrets out. (Plain keys missing too means they were erased, e.g. by a replacing PUT: no sign.)
        initial = UI_INITIAL_PROPERTIES.get(spec.name, ())
        secret_names = {p.name for p in spec.secrets}
        omitted = (bool(initial) and all(k in record.properties for k in initial if k not in secret_names)
                   and any(k not in record.properties for k in initial if k in secret_names))
        note = learned.note_secrets_read({p.name: record.properties.get(p.name) for p in spec.secrets},
                                         omitted=omitted, proven=False)
        if note:
            notes.append(note)
        known = learned.known(tenant_id or record.tenant_id, record.id, record.properties,
                              [p.name for p in spec.secrets])
        ready = readiness(spec, known, unreadable=learned.secrets_on_read == "omit")
    return IntegrationView(integration=shown, readiness=ready, learned=notes)


def property_changes(saved: Mapping[str, Any], proposed: Mapping[str, Any],
                     secrets: list[str]) -> list[FieldChange]:
    """One FieldChange per property whose value changes. `secrets` are the secret properties a secure form fills
    (their values are never shown: "set"/"replaced"). `overwrites` is the fact that a saved value is replaced."""
    changes = []
    for name, value in proposed.items():
        before = saved.get(name)
        if value != before:
            # Nested objects may hold secrets of their own: never show them.
            shown_before = redact(before, SECRET_KEYS, random_keys=_RANDOM)
            shown_after = redact(value, SECRET_KEYS, random_keys=_RANDOM)
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


def journal_image(integration: IntegrationRecord | Integration, tenant_id: str) -> dict[str, Any]:
    """The record as the change journal keeps it, flat, keyed like FieldChange.field: secrets only as set."""
    image: dict[str, Any] = {"name": integration.name, "description": integration.description,
                             "active": integration.active, "tenant_id": tenant_id}
    for name, value in integration.properties.items():
        if SECRET_KEYS(name):
            image[PROPERTY + name] = SECRET_SET if is_set(value) else None
        else:
            image[PROPERTY + name] = redact(value, SECRET_KEYS)
    return image


def secret_changes(changes: list[FieldChange]) -> list[str]:
    """The changed fields that are secrets (their values are never journaled)."""
    return [c.field for c in changes if c.field.startswith(PROPERTY) and SECRET_KEYS(c.field[len(PROPERTY):])]

