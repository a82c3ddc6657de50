"""RevCent-specific rules, as pure functions: readiness, option validation, option diffs.

The guardrail *decisions* (refuse or proceed) live in the tools; this module says *what* is missing or
changes, so it can be tested without any I/O.
"""

from __future__ import annotations

from integrations_mcp.errors import GuardrailError
from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.vendors.revcent.models import (
    MissingOption,
    OptionFieldSpec,
    OptionInput,
    Readiness,
    SavedOption,
    SelectChoice,
    SiteIntegration,
    UserIntegration,
)

# What stops working, or changes, when an integration of each type is disabled or edited.
DEPENDENT_FEATURES = {
    "tax": "Tax Profiles (tax calculated on renewals, trials and other sales)",
    "shipping": "shipment tracking and delivery-status updates",
    "offline_payment": "alternate (pay-later) payment flows and their refunds",
    "ai": "AI Assistants and AI chat",
    "ai_voice": "live AI Voice Agents (calls in progress and new calls)",
}

SavedValues = dict[tuple[str, str], list[str]]


def dependent_features(integration_type: str) -> str:
    return DEPENDENT_FEATURES.get(integration_type, f"features that use this {integration_type} integration")


def saved_values(options: list[SavedOption]) -> SavedValues:
    return {(opt.id, f.id): list(f.value) for opt in options for f in opt.fields}


def missing_credentials(site: SiteIntegration, credentials_saved: list[str]) -> list[str]:
    creds = site.third_party_credentials
    if creds is None or creds.id in credentials_saved:
        return []
    return [f.id for f in creds.fields if f.required] or [creds.id]


def missing_options(site: SiteIntegration, values: SavedValues) -> list[MissingOption]:
    missing: list[MissingOption] = []
    for option in site.third_party_options:
        if not option.required:
            continue
        required = [f.id for f in option.fields if f.required] or [f.id for f in option.fields]
        unset = [fid for fid in required if not _non_empty(values.get((option.id, fid)))]
        # An option with no required fields counts as set once any of its fields has a value.
        if unset and (any(f.required for f in option.fields) or len(unset) == len(required)):
            missing.append(MissingOption(option_id=option.id, field_ids=unset))
    return missing


def select_choices(site: SiteIntegration) -> list[SelectChoice]:
    return [
        SelectChoice(option_id=option.id, field_id=f.id, multiple=f.select_settings.multiple,
                     source="asset" if f.select_settings.third_party_asset else "static",
                     values=list(f.select_settings.options))
        for option in site.third_party_options for f in option.fields
        if f.field_type == "select" and f.select_settings is not None
    ]


def readiness(record: UserIntegration, *, values: SavedValues | None = None,
              credentials_saved: bool | None = None) -> Readiness:
    """Readiness of `record`, or of a projected state (values/credentials after a proposed edit)."""
    site = record.site_third_party_integration
    values = saved_values(record.third_party_options_saved) if values is None else values
    creds_missing = [] if credentials_saved else missing_credentials(site, record.third_party_credentials_saved)
    opts_missing = missing_options(site, values)
    blockers = []
    if creds_missing:
        blockers.append("credentials not saved (CreateSecureForm, the user completes it, then pass secure_form_id)")
    for m in opts_missing:
        blockers.append(f"required option {m.option_id} needs {', '.join(m.field_ids)}")
    blockers += [f"{where} holds a value no longer offered; the user must choose again from readiness.choices"
                 for where in stale_values(site, values)]
    return Readiness(
        credentials_saved=not creds_missing, missing_credentials=creds_missing, missing_options=opts_missing,
        choices=select_choices(site), can_enable=not blockers, blockers=blockers,
    )


def stale_values(site: SiteIntegration, values: SavedValues) -> list[str]:
    """`option.field` of every saved select value that the field no longer offers (a retired asset, a removed
    choice). Asset selects are judged only once the account's assets are listed."""
    stale = []
    for option in site.third_party_options:
        for f in option.fields:
            offered = f.select_settings.options if f.field_type == "select" and f.select_settings else []
            saved = values.get((option.id, f.id)) or []
            if offered and any(v not in offered for v in saved):
                stale.append(f"{option.id}.{f.id}")
    return stale


def validate_options(site: SiteIntegration, proposal: list[OptionInput], saved: SavedValues) -> None:
    """Refuse ids, fields or values that the site schema and the account's assets do not offer."""
    options = {o.id: o for o in site.third_party_options}
    stale = set(stale_values(site, saved))
    problems: list[str] = []
    seen: set[str] = set()
    for item in proposal:
        if item.id in seen:
            problems.append(f"option {item.id} is given twice; merge its fields into one entry.")
            continue
        seen.add(item.id)
        spec = options.get(item.id)
        if spec is None:
            valid = ", ".join(options) or "none (this site integration has no options)"
            problems.append(f"option id {item.id!r} does not exist. Valid option ids: {valid}.")
            continue
        fields = {f.id: f for f in spec.fields}
        given = set()
        for field in item.fields:
            f = fields.get(field.id)
            if f is None:
                problems.append(f"{item.id}: field id {field.id!r} does not exist. Valid: {', '.join(fields)}.")
                continue
            if field.id in given:
                problems.append(f"{item.id}.{field.id} is given twice.")
            given.add(field.id)
            problems += _check_values(item.id, f.id, f, field.value)
        for f in spec.fields:
            proposed = next((x.value for x in item.fields if x.id == f.id), None)
            value = proposed if proposed is not None else saved.get((item.id, f.id))
            if f.required and not _non_empty(value):
                problems.append(f"{item.id}.{f.id} is required for option {item.id}; include it.")
            elif proposed is None and f"{item.id}.{f.id}" in stale:
                # Saved siblings are re-sent with the option: a value no longer offered would be refused upstream.
                problems.append(f"{item.id}.{f.id} (saved, sent again with this option) holds a value no longer "
                                "offered; include a new value the user chose for it.")
    if problems:
        raise GuardrailError("Refused: third_party_options do not match the site integration. Nothing was sent.\n"
                             + "\n".join(f"- {p}" for p in problems))


def _check_values(option_id: str, field_id: str, f: OptionFieldSpec, values: list[str]) -> list[str]:
    where = f"{option_id}.{field_id}"
    if f.field_type == "input":
        if len(values) != 1 or not values[0].strip():
            return [f"{where} is an input field: give exactly one non-empty value."]
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
            problems.append(f"{where}: {', '.join(map(repr, invalid))} not offered. "
                            f"Valid values: {', '.join(allowed) or 'none'}. Ask the user to choose.")
    return problems


def option_changes(proposal: list[OptionInput], saved: SavedValues) -> list[FieldChange]:
    """One FieldChange per proposed field whose value differs from what is saved."""
    changes = []
    for item in proposal:
        for field in item.fields:
            before = saved.get((item.id, field.id)) or []
            if list(field.value) != before:
                changes.append(FieldChange(field=f"third_party_options.{item.id}.{field.id}", saved=before or None,
                                           proposed=list(field.value), overwrites=bool(before)))
    return changes


def options_body(proposal: list[OptionInput], saved: SavedValues) -> list[dict]:
    """Wire form of the options to send: each touched option with all its fields, so that saved fields the
    caller did not mention survive even if RevCent replaces an option as a whole."""
    body = []
    for item in proposal:
        fields = {f.id: list(f.value) for f in item.fields}
        for (option_id, field_id), value in saved.items():
            if option_id == item.id and field_id not in fields and value:
                fields[field_id] = value
        body.append({"id": item.id, "fields": [{"id": k, "value": v} for k, v in fields.items()]})
    return body


def project_values(proposal: list[OptionInput], saved: SavedValues) -> SavedValues:
    projected = dict(saved)
    for item in proposal:
        for field in item.fields:
            projected[(item.id, field.id)] = list(field.value)
    return projected


def _non_empty(value: list[str] | None) -> bool:
    return bool(value) and any(v.strip() for v in value)
