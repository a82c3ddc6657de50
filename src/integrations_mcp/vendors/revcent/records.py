"""RevCent's records as its API sends them (field names as RevCent spells them). The client reads every answer into
one of these, so a reply of another shape fails there, once, with a clear message.

Some records are also tool outputs (a site integration, a user integration, a list row): those have no docstring,
because a model's docstring would become part of the published output schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BeforeValidator, ConfigDict, Field, model_validator

from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.toolkit.declare import DeferredModel
from integrations_mcp.vendors.revcent.facts import (
    ASSET_KEYS,
    BOOLEAN_STRINGS,
    CREATED_ID_KEY,
    FORM_ID_KEYS,
    ID_PATTERN,
    MULTIPLE_KEYS,
    ROW_KEYS,
    ROW_SITE_KEYS,
    SITE_KEY,
    FieldType,
)

__all__ = ["Created", "CredentialField", "CredentialSpec", "IntegrationType", "NewSecureForm", "OptionFieldSpec",
           "OptionSpec", "SavedOption", "SavedOptionField", "SecureFormRecord", "SelectSettings", "SiteIntegration",
           "SiteIntegrationList", "UserIntegration", "UserIntegrationList", "UserIntegrationSummary", "VendorBool",
           "VendorId", "id_problem", "vendor_id"]

# Documented: ai, ai_voice, offline_payment, tax, shipping. Kept open so that a type RevCent adds later does not
# make the whole catalogue unreadable.
IntegrationType = Annotated[str, Field(description="ai, ai_voice, offline_payment, tax or shipping.")]


_ID = re.compile(ID_PATTERN)  # compiled once: every id read or given is checked (re.fullmatch looks it up each time)


def id_problem(value: str) -> str | None:
    """Why `value` is not a RevCent id ([C] 20 characters; [I] revcent.id_charset: letters, digits, `_`, `-`), or
    None. Ids in that alphabet can still be a known key format (an AWS key id is 20 letters and digits): refused
    too, so a secret can ride in an id neither into RevCent's URL paths nor out of its answers."""
    if not _ID.fullmatch(value):
        return "a RevCent id is 20 letters, digits, '_' or '-'"
    if mask_secret_values(value, entropy=False) != value:
        return "it has the form of a known secret (a key or token), not of an id"
    return None


def vendor_id(value: str) -> str:
    problem = id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _vendor_bool(value: Any) -> Any:
    """[I] revcent.booleans: JSON true/false, or exactly the strings "true"/"false"; anything else (a number, "yes",
    null) is not read as a boolean at all, so "false" can never read as true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_STRINGS:
        return BOOLEAN_STRINGS[value.strip().lower()]
    raise ValueError("expected true or false")


VendorId = Annotated[str, AfterValidator(vendor_id)]
VendorBool = Annotated[bool, BeforeValidator(_vendor_bool)]


class _Record(DeferredModel):
    model_config = ConfigDict(extra="ignore")  # the envelope (code, api_call_id) and fields we do not use


class CredentialField(_Record):
    id: str
    name: str = ""
    required: VendorBool = False


class CredentialSpec(_Record):
    id: str
    name: str = ""
    description: str = ""
    fields: list[CredentialField] = []


class SelectSettings(_Record):
    # [C] revcent.select_names: the Get schema spells them third_party_asset/multiple, the Edit description
    # remote_asset/is_multiple; either is read.
    third_party_asset: VendorBool = Field(False, validation_alias=AliasChoices(*ASSET_KEYS))
    options: list[str] = []
    multiple: VendorBool = Field(False, validation_alias=AliasChoices(*MULTIPLE_KEYS))


class OptionFieldSpec(_Record):
    id: str
    name: str = ""
    field_type: FieldType
    required: VendorBool = False
    select_settings: SelectSettings | None = None


class OptionSpec(_Record):
    id: str
    name: str = ""
    description: str = ""
    required: VendorBool = False
    fields: list[OptionFieldSpec] = []


class SiteIntegration(_Record):
    id: VendorId
    name: str
    description: str = ""
    integration_type: IntegrationType
    third_party_credentials: CredentialSpec | None = None
    third_party_options: list[OptionSpec] = []

    def answer(self) -> str:
        """The connector as text: what the secure form will ask for, and each option's fields and choices."""
        lines = [f"Native integration {self.id} \"{self.name}\" ({self.integration_type}). {self.description}".strip()]
        creds = self.third_party_credentials
        if creds is not None:
            fields = ", ".join(f"{f.id} \"{f.name}\"{' (required)' if f.required else ''}" for f in creds.fields)
            lines.append(f"Credentials {creds.id} (typed by the user in CreateSecureForm, never in chat): {fields}")
        for option in self.third_party_options:
            lines.append(f"Option {option.id} \"{option.name}\"{' (required)' if option.required else ''}: "
                         + "; ".join(_field_line(f) for f in option.fields))
        return "\n".join(lines)


def _field_line(field: OptionFieldSpec) -> str:
    line = f"{field.id} ({field.field_type}{', required' if field.required else ''}"
    settings = field.select_settings
    if settings is not None and settings.third_party_asset:
        line += ", the account's assets: listed once credentials are saved"
    elif settings is not None and settings.options:
        line += f", {'several' if settings.multiple else 'one'} of: {', '.join(settings.options)}"
    return line + ")"


class SavedOptionField(_Record):
    id: str
    value: list[str] = []


class SavedOption(_Record):
    id: str
    fields: list[SavedOptionField] = []


class UserIntegration(_Record):
    id: VendorId
    name: str
    description: str = ""
    enabled: VendorBool = False
    third_party_credentials_saved: list[str] = []
    third_party_options_saved: list[SavedOption] = []
    site_third_party_integration: SiteIntegration


class UserIntegrationSummary(DeferredModel):
    # One row of RevCent's list, flattened: the row nests its site integration (or gives only its id).
    id: VendorId
    name: str
    description: Annotated[str, BeforeValidator(lambda v: v or "")] = ""
    enabled: VendorBool | None = Field(description="null: RevCent's row did not say.")
    site_third_party_integration_id: VendorId | None = None
    site_name: str | None = None
    integration_type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, row: Any) -> Any:
        if not isinstance(row, dict):
            return row  # an instance passes; anything else is refused by validation
        own = {key: row.get(key) for key in ROW_KEYS}
        if SITE_KEY in row:  # [I] revcent.list_rows: the site nested, or only its id
            site = row[SITE_KEY]
            site = site if isinstance(site, dict) else {ROW_SITE_KEYS["site_third_party_integration_id"]: site} \
                if isinstance(site, str) else {}
            flat = {ours: site.get(theirs) for ours, theirs in ROW_SITE_KEYS.items()}
        else:  # already flat (built here), or a row without its site
            flat = {ours: row.get(ours) for ours in ROW_SITE_KEYS}
        return {**own, **flat}


def _list(value: Any) -> Any:
    return value or []  # RevCent may omit `results` or send null on an empty page


class SiteIntegrationList(_Record):
    """A page of GetSiteThirdPartyIntegrations."""

    results: Annotated[list[SiteIntegration], BeforeValidator(_list)] = []


class UserIntegrationList(_Record):
    """A page of GetUserThirdPartyIntegrations."""

    results: Annotated[list[UserIntegrationSummary], BeforeValidator(_list)] = []


class SecureFormRecord(_Record):
    """A secure form as GetSecureForm returns it."""

    id: str
    form_url: str | None = None
    completed: VendorBool = False
    expiration_date_unix: int | None = None
    form_source: str | None = None
    form_source_id: VendorId | None = None


class NewSecureForm(SecureFormRecord):
    """CreateSecureForm's answer, which names the id secure_form_id ([I] fact revcent.form_id_key: or id)."""

    id: VendorId = Field(validation_alias=AliasChoices(*FORM_ID_KEYS))


class Created(_Record):
    """RevCent's answer to a create."""

    id: VendorId = Field(validation_alias=CREATED_ID_KEY)
