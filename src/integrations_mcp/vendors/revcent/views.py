"""What the model sees of a RevCent integration: its record with readiness, i.e. what it still needs before it can
be enabled (of the record, or of the state a proposed edit would leave). Pure functions; refusals are in rules.py."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import (
    COMMON_SECRET_FRAGMENTS,
    COMMON_SECRET_NAMES,
    REDACTED,
    SecretKeys,
)
from integrations_mcp.guardrails.text import is_blank
from integrations_mcp.vendors.revcent import kept_sites
from integrations_mcp.vendors.revcent.facts import SECRET_MASK_PATTERN, SITE_KEY
from integrations_mcp.vendors.revcent.models import (
    Choice,
    MissingOption,
    Readiness,
    SavedIntegration,
    SelectChoice,
    UserIntegrationView,
)
from integrations_mcp.vendors.revcent.records import SavedOption, SiteIntegration, UserIntegration

__all__ = ["CREDENTIAL_KEYS", "SavedValues", "is_secret_option", "journal_image", "looks_masked",
           "missing_credentials", "missing_options", "non_empty", "readiness", "saved_values", "select_choices",
           "option_lines", "readiness_json", "readiness_lines", "stale_values", "unseen_secrets", "view", "view_json"]

SavedValues = dict[tuple[str, str], list[str]]  # (option id, field id) -> values

# Names that can only mean raw credentials (arguments, option ids). RevCent takes credentials through a secure form.
CREDENTIAL_KEYS = SecretKeys.of(
    ("third_party_credentials", "api_key", "api_secret", "access_token", "auth_token", "license_key", "secret_key",
     *COMMON_SECRET_NAMES), fragments=COMMON_SECRET_FRAGMENTS)


def is_secret_option(option_id: str, field_id: str) -> bool:
    """An option field whose id (or its option's id) names a secret, e.g. `webhook_secret`: a credential, never
    taken in chat (rules.check_options), redacted on read (`view`)."""
    return CREDENTIAL_KEYS(field_id) or CREDENTIAL_KEYS(option_id)


def looks_masked(value: str) -> bool:
    """[I] revcent.secret_options: a value RevCent masked ("********", "****1234"): set, but never to be sent back."""
    return re.fullmatch(SECRET_MASK_PATTERN, value.strip()) is not None


def saved_values(options: list[SavedOption]) -> SavedValues:
    return {(opt.id, f.id): list(f.value) for opt in options for f in opt.fields}


def view(record: UserIntegration) -> UserIntegrationView:
    """The record as the model may see it: readiness from the real values; option fields that hold a secret (by
    their id) redacted, secret-looking values masked in the name, description and option values."""
    shown = _changed(record, name=mask_secret_values(record.name, REDACTED),
                     description=mask_secret_values(record.description, REDACTED),
                     third_party_options_saved=[_shown(option) for option in record.third_party_options_saved])
    return UserIntegrationView(integration=shown, readiness=_kept_readiness(record))


def _shown(option: SavedOption) -> SavedOption:
    """A saved option as the model may see it: a secret field's values (by its id) redacted, others masked where they
    look like a secret."""
    return _changed(option, fields=[_changed(f, value=[
        REDACTED if is_secret_option(option.id, f.id) and v else mask_secret_values(v, REDACTED, entropy=False)
        for v in f.value]) for f in option.fields])


M = TypeVar("M", bound=BaseModel)


def _changed(model: M, **values: Any) -> M:
    """`model` with `values`: a copy when one differs, else the model itself (nothing to copy)."""
    if all(getattr(model, name) == value for name, value in values.items()):
        return model
    return model.model_copy(update=values)


def missing_credentials(site: SiteIntegration, credentials_saved: list[str]) -> list[str]:
    creds = site.third_party_credentials
    if creds is None or creds.id in credentials_saved:
        return []
    return [f.id for f in creds.fields if f.required] or [creds.id]


def unseen_secrets(site: SiteIntegration, values: SavedValues) -> list[str]:
    """`option.field` of each required secret field the read shows no value for: [I] revcent.secret_options, RevCent
    may leave secrets out of a read, so no value may mean set (in RevCent itself) as well as unset."""
    return [f"{o.id}.{f.id}" for o in site.third_party_options if o.required for f in o.fields
            if f.required and is_secret_option(o.id, f.id) and not non_empty(values.get((o.id, f.id)))]


def missing_options(site: SiteIntegration, values: SavedValues) -> list[MissingOption]:
    """[I] fact revcent.option_required (facts.OPTION_REQUIRED_MEANS): an option's `required` is read as "saved
    before enabling"; the Get document says "required when creating", and Create takes no options. A secret field
    with no value shown is not counted missing (unseen_secrets: the person confirms it when enabling)."""
    missing: list[MissingOption] = []
    for option in site.third_party_options:
        if not option.required:
            continue
        required = [f.id for f in option.fields if f.required] or [f.id for f in option.fields]
        unset = [fid for fid in required if not non_empty(values.get((option.id, fid)))
                 and not is_secret_option(option.id, fid)]
        # An option with no required fields counts as set once any of its fields has a value.
        if unset and (any(f.required for f in option.fields) or len(unset) == len(required)):
            missing.append(MissingOption(option_id=option.id, field_ids=unset))
    return missing


def select_choices(site: SiteIntegration) -> list[SelectChoice]:
    return [
        SelectChoice(option_id=option.id, field_id=f.id, label=f"{option.name or option.id}: {f.name or f.id}",
                     multiple=f.select_settings.multiple,
                     source="asset" if f.select_settings.third_party_asset else "static",
                     values=[choice(value) for value in f.select_settings.options])
        for option in site.third_party_options for f in option.fields
        if f.field_type == "select" and f.select_settings is not None
    ]


def choice(value: str) -> Choice:
    """RevCent documents a select's options as plain strings (an asset's own name included), so the string is both
    what is sent and what the person reads."""
    return Choice(value=value, label=value)


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
        unseen_secrets=unseen_secrets(site, values), choices=select_choices(site), can_enable=not blockers,
        blockers=blockers,
    )


# Readiness of records read (`view`), kept by everything it is a function of: the site integration's content (its JSON;
# many integrations share one site, and a site changed at RevCent is a new key, never served stale), the saved values
# and the credentials saved. Bounded by the characters of the keys (emptied when full); a kept Readiness is shared by
# the views made of it, which only read it (so its JSON and its lines, made once, stay its own: `readiness_json`,
# `readiness_lines`).
KEPT_READINESS_BYTES = 1_048_576
KEPT_KEY_MAX_BYTES = 65_536  # a larger key (a site with thousands of asset choices) is not kept
_ReadinessKey = tuple[bytes, tuple[tuple[tuple[str, str], tuple[str, ...]], ...], tuple[str, ...]]
_kept: dict[_ReadinessKey, Readiness] = {}
_made: dict[int, kept_sites.Made] = {}  # id(kept Readiness) -> what is made of it
_kept_bytes = [0]


def _kept_readiness(record: UserIntegration) -> Readiness:
    """`readiness(record)`, made once per key (see `_kept`)."""
    site = record.site_third_party_integration
    values = saved_values(record.third_party_options_saved)
    try:
        site_json = kept_sites.site_json(site)  # made once per site read (kept_sites.py)
    except ValueError:  # not JSON (a lone surrogate): made anew
        return readiness(record, values=values)
    saved = tuple((k, tuple(v)) for k, v in values.items())
    key = (site_json, saved, tuple(record.third_party_credentials_saved))
    kept = _kept.get(key)
    if kept is None:
        kept = readiness(record, values=values)
        size = len(site_json) + sum(len(v) for _, field in saved for v in field) \
            + sum(map(len, record.third_party_credentials_saved))
        if size <= KEPT_KEY_MAX_BYTES:
            if _kept_bytes[0] + size > KEPT_READINESS_BYTES:
                _kept.clear()
                _made.clear()
                _kept_bytes[0] = 0
            _kept[key] = kept
            _made[id(kept)] = kept_sites.Made(kept)
            _kept_bytes[0] += size
    return kept


def readiness_json(ready: Readiness) -> bytes:
    """`ready`'s JSON by its serializer, made once for a kept Readiness."""
    return kept_sites.json_made_once(_made, ready)


def readiness_lines(ready: Readiness) -> list[str]:
    """`ready.lines()`, made once for a kept Readiness (a new list each time)."""
    made = kept_sites.made_for(_made, ready)
    if made is None:
        return ready.lines()
    if made.lines is None:
        made.lines = ready.lines()
    return list(made.lines)


# `view_json` writes a view as its serializer does, from its parts: the integration's own fields, then its site and
# its readiness (each one's JSON made once when kept). That needs the site to be the integration's last field and the
# view's fields to be the integration and its readiness (checked here; otherwise the serializer writes it all).
_IN_PARTS = list(UserIntegration.model_fields)[-1] == SITE_KEY \
    and list(UserIntegrationView.model_fields) == ["integration", "readiness"]


def view_json(shown: UserIntegrationView) -> bytes:
    """`shown`'s JSON, byte for byte its serializer's (by alias), the kept parts written once (`kept_sites.site_json`,
    `readiness_json`): a first read of an integration of a known site writes only what is its own. ValueError as the
    serializer's (a lone surrogate)."""
    if not _IN_PARTS:
        return shown.__pydantic_serializer__.to_json(shown, by_alias=True)
    record = shown.integration
    own = record.__pydantic_serializer__.to_json(record, by_alias=True, exclude={SITE_KEY})
    return b"".join((b'{"integration":', own[:-1], b',"', SITE_KEY.encode(), b'":',
                     kept_sites.site_json(record.site_third_party_integration), b'},"readiness":',
                     readiness_json(shown.readiness), b"}"))


def option_lines(site: SiteIntegration) -> list[str]:
    """The answer's line for each of the site's options, made once for a kept site."""
    return kept_sites.site_lines(site, _option_lines)


def _option_lines(site: SiteIntegration) -> list[str]:
    return [f"Option {option.id} \"{option.name}\"{' (required)' if option.required else ''}: "
            + ", ".join(f"{f.id} ({f.field_type}{', required' if f.required else ''})" for f in option.fields)
            for option in site.third_party_options]


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


def non_empty(value: list[str] | None) -> bool:
    """A value with visible text: zero-width, BOM, Hangul filler or Braille blank alone is blank (text.is_blank)."""
    return bool(value) and any(not is_blank(v) for v in value)


def journal_image(record: UserIntegration | SavedIntegration) -> dict[str, Any]:
    """The record as the change journal keeps it, flat, keyed like FieldChange.field: credentials, and option fields
    that are secrets by name, only as saved (never their values)."""
    image: dict[str, Any] = {"name": record.name, "description": record.description, "enabled": record.enabled,
                             "credentials": "saved" if record.third_party_credentials_saved else None}
    for (option_id, field_id), value in saved_values(record.third_party_options_saved).items():
        secret = is_secret_option(option_id, field_id) and non_empty(value)
        image[f"third_party_options.{option_id}.{field_id}"] = "saved" if secret else value or None
    return image

