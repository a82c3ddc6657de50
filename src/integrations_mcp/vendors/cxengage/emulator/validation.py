"""Checking create/update bodies and per-type `properties`; every problem becomes one entry of the 400's attribute."""

from __future__ import annotations

import re
from typing import Any

from integrations_mcp.vendors.cxengage.emulator.contract import (
    ACCEPT_STRING_BOOLEANS,
    ACCEPT_WRAPPED_BODY,
    ACTIVE_DEFAULT,
    DEFAULT_PROPERTIES,
    FILL_DEFAULT_PROPERTIES,
    INTEGRATION_TYPES,
    MSG_EMPTY_UPDATE,
    MSG_INVALID,
    NORMALISE_TYPE_CASE,
    REJECT_EMPTY_UPDATE,
    REJECT_UNKNOWN_FIELDS,
    REJECT_UNKNOWN_PROPERTIES,
    REQUIRE_PROPERTIES_ON_CREATE,
    SMTP_ENCRYPTION_TYPES,
    TELEOPTI_PROTOCOLS,
    TWILIO_REGIONS,
    TYPE_CHANGE_ALLOWED,
    UPDATABLE_FIELDS,
    WRITABLE_FIELDS,
    ApiError,
    Contract,
    Prop,
    canonical_type,
)
from integrations_mcp.vendors.cxengage.emulator.records import Integration

__all__ = ["check_create", "check_properties", "check_update", "unwrap"]

Errors = dict[str, str]
_WRAPPERS = ("attribute", "attributes")
_DIGITS5 = re.compile(r"[0-9]{5}")
_PORT = re.compile(r"[0-9]{1,5}")
_URL = re.compile(r"https?://[^\s/]+\S*")


def _fail(errors: Errors) -> None:
    if errors:
        raise ApiError(400, MSG_INVALID, errors)


def unwrap(body: Any) -> dict[str, Any]:
    """The flat body; the docs' `{"attribute": {...}}` form is unwrapped while ACCEPT_WRAPPED_BODY."""
    if not isinstance(body, dict):
        raise ApiError(400, MSG_INVALID, {"body": "The request body must be a JSON object."})
    if ACCEPT_WRAPPED_BODY and len(body) == 1:
        key = next(iter(body))
        if key in _WRAPPERS and isinstance(body[key], dict):
            return body[key]
    return body


def _type_list() -> str:
    return ", ".join(INTEGRATION_TYPES)


def _check_kind(key: str, prop: Prop, value: Any, errors: Errors) -> Any:
    """The value as it will be stored, or records an error (and returns it unchanged)."""
    where = f"properties.{key}"
    if prop.kind == "string" and not isinstance(value, str):
        errors[where] = "Must be a string."
    elif prop.kind == "boolean" and not isinstance(value, bool):
        errors[where] = "Must be a boolean (true or false)."
    elif prop.kind == "object" and not isinstance(value, dict):
        errors[where] = "Must be an object."
    elif prop.kind == "boolstring":
        if isinstance(value, bool):
            return "true" if value else "false"  # [I] the UI stores this flag as the string "true"/"false"
        if value not in ("true", "false"):
            errors[where] = 'Must be "true" or "false".'
    elif prop.kind == "port" and value != "":  # [I] a number or a digit string; "" is blank (see the UI rules)
        number = int(value) if isinstance(value, str) and _PORT.fullmatch(value) else value
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
            errors[where] = "Must be a port number (1-65535)."
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _ui_rules(integration_type: str, props: dict[str, Any], errors: Errors) -> None:
    """The config UI's rules: required (`*`) properties present and non-empty, and a few formats."""
    for key, prop in INTEGRATION_TYPES[integration_type].items():
        if prop.required and _blank(props.get(key)) and f"properties.{key}" not in errors:
            errors[f"properties.{key}"] = f"Required for type '{integration_type}'."

    def bad(key: str, allowed: tuple[str, ...] | None = None, pattern: re.Pattern[str] | None = None,
            text: str = "") -> None:
        value = props.get(key)
        if not isinstance(value, str) or not value or f"properties.{key}" in errors:
            return
        if (allowed is not None and value not in allowed) or (pattern is not None and not pattern.fullmatch(value)):
            errors[f"properties.{key}"] = text or f"Must be one of: {', '.join(allowed or ())}."

    if integration_type == "zendesk" and props.get("workItems") is True and _blank(props.get("interactionFieldId")):
        errors.setdefault("properties.interactionFieldId", "Required when workItems is true.")
    if integration_type == "twilio":
        bad("region", TWILIO_REGIONS)
        bad("extensionPrefix", pattern=_DIGITS5, text="Must be exactly 5 digits.")
    if integration_type == "email":
        bad("smtpEncryptionType", SMTP_ENCRYPTION_TYPES)
    if integration_type == "monet":
        bad("monetUrl", pattern=_URL, text="Must be an http(s) URL.")
    if integration_type == "teleopti":
        bad("protocol", TELEOPTI_PROTOCOLS)


def check_properties(integration_type: str, props: Any, *, base: dict[str, Any] | None = None,
                     ui_rules: bool = False, errors: Errors | None = None,
                     merge: bool = True) -> dict[str, Any]:
    """`props` laid over `base` (or over the type's defaults on create; `merge` False: not over `base`), checked;
    raises 400 unless `errors`. `ui_rules`: also the config UI's rules."""
    own = errors is None
    errors = {} if errors is None else errors
    if not isinstance(props, dict):
        errors["properties"] = "Must be an object."
        if own:
            _fail(errors)
        return {}
    known = INTEGRATION_TYPES[integration_type]
    checked: dict[str, Any] = {}
    for key, value in props.items():
        prop = known.get(key)
        if prop is None:
            if REJECT_UNKNOWN_PROPERTIES:
                errors[f"properties.{key}"] = (f"Unknown property for type '{integration_type}'; known: "
                                               f"{', '.join(known)}.")
            continue
        checked[key] = _check_kind(key, prop, value, errors)
    if base is None:
        start = dict(DEFAULT_PROPERTIES.get(integration_type, {})) if FILL_DEFAULT_PROPERTIES else {}
    else:
        start = dict(base) if merge else {}
    merged = {**start, **checked}
    if ui_rules:
        _ui_rules(integration_type, merged, errors)
    if own:
        _fail(errors)
    return merged


def _check_common(body: dict[str, Any], errors: Errors, *, creating: bool) -> dict[str, Any]:
    if REJECT_UNKNOWN_FIELDS:
        for key in body:
            if key not in WRITABLE_FIELDS:
                errors[key] = f"Unknown attribute; send only {', '.join(WRITABLE_FIELDS)}."
    out: dict[str, Any] = {}
    if "name" in body or creating:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "Required: a non-empty string."
        else:
            out["name"] = name
    if "description" in body:
        if body["description"] is not None and not isinstance(body["description"], str):
            errors["description"] = "Must be a string or null."
        else:
            out["description"] = body["description"]
    if "active" in body:
        active = body["active"]
        if ACCEPT_STRING_BOOLEANS and active in ("true", "false"):
            active = active == "true"
        if not isinstance(active, bool):
            errors["active"] = "Must be a boolean (true or false)."
        else:
            out["active"] = active
    return out


def _check_type(value: Any, errors: Errors) -> str | None:
    found = canonical_type(value) if isinstance(value, str) else None
    if found is None:
        note = "" if NORMALISE_TYPE_CASE else " (case-sensitive)"
        errors["type"] = f"Required: one of {_type_list()}{note}."
    return found


def _ui_rules_apply(contract: Contract, active: bool) -> bool:
    return contract.ui_rules == "always" or (contract.ui_rules == "active" and active)


def check_create(body: Any, contract: Contract) -> dict[str, Any]:
    """{name, description, active, type, properties} ready to store, or a 400 naming every field at fault."""
    body = unwrap(body)
    errors: Errors = {}
    out = _check_common(body, errors, creating=True)
    out.setdefault("description", None)
    out.setdefault("active", ACTIVE_DEFAULT)
    integration_type = _check_type(body.get("type"), errors)
    if "properties" not in body and REQUIRE_PROPERTIES_ON_CREATE:
        errors["properties"] = "Required: an object of the type's properties."
    elif integration_type is not None:
        out["properties"] = check_properties(integration_type, body.get("properties", {}), errors=errors,
                                             ui_rules=_ui_rules_apply(contract, out["active"] is True))
    _fail(errors)
    out["type"] = integration_type
    return out


def check_update(body: Any, record: Integration, contract: Contract) -> dict[str, Any]:
    """The fields to change (properties already merged over the stored ones), or a 400."""
    body = unwrap(body)
    errors: Errors = {}
    out = _check_common(body, errors, creating=False)
    integration_type = record.type
    if "type" in body:
        sent = _check_type(body["type"], errors)
        if sent is not None and sent != record.type:
            if TYPE_CHANGE_ALLOWED:
                integration_type = out["type"] = sent
            else:
                errors["type"] = f"The type of an integration cannot be changed (it is '{record.type}')."
    active = out.get("active", record.active) is True
    if "properties" in body or (_ui_rules_apply(contract, active) and not record.active):
        out["properties"] = check_properties(integration_type, body.get("properties", {}), base=record.properties,
                                             errors=errors, ui_rules=_ui_rules_apply(contract, active),
                                             merge=contract.properties_edit == "merge" or "properties" not in body)
    _fail(errors)
    if REJECT_EMPTY_UPDATE and not any(k in body for k in UPDATABLE_FIELDS):
        raise ApiError(400, MSG_EMPTY_UPDATE, {"body": "No updatable attribute sent."})
    return out
