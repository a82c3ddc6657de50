"""RevCent's records as its API sends them (field names as RevCent spells them). The client reads every answer into
one of these, so a reply of another shape fails there, once, with a clear message.

Some records are also tool outputs (a site integration, a user integration, a list row): those have no docstring,
because a model's docstring would become part of the published output schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = ["Created", "CredentialField", "CredentialSpec", "IntegrationType", "NewSecureForm", "OptionFieldSpec",
           "OptionSpec", "SavedOption", "SavedOptionField", "SecureFormRecord", "SelectSettings", "SiteIntegration",
           "SiteIntegrationList", "UserIntegration", "UserIntegrationList", "UserIntegrationSummary"]

# Documented: ai, ai_voice, offline_payment, tax, shipping. Kept open so that a type RevCent adds later does not
# make the whole catalogue unreadable.
IntegrationType = Annotated[str, Field(description="ai, ai_voice, offline_payment, tax or shipping.")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the envelope (code, api_call_id) and fields we do not use


class CredentialField(_Record):
    id: str
    name: str = ""
    required: bool = False


class CredentialSpec(_Record):
    id: str
    name: str = ""
    description: str = ""
    fields: list[CredentialField] = []


class SelectSettings(_Record):
    third_party_asset: bool = False
    options: list[str] = []
    multiple: bool = False


class OptionFieldSpec(_Record):
    id: str
    name: str = ""
    field_type: Literal["select", "input"]
    required: bool = False
    select_settings: SelectSettings | None = None


class OptionSpec(_Record):
    id: str
    name: str = ""
    description: str = ""
    required: bool = False
    fields: list[OptionFieldSpec] = []


class SiteIntegration(_Record):
    id: str
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
    id: str
    name: str
    description: str = ""
    enabled: bool = False
    third_party_credentials_saved: list[str] = []
    third_party_options_saved: list[SavedOption] = []
    site_third_party_integration: SiteIntegration


class UserIntegrationSummary(BaseModel):
    # One row of RevCent's list, flattened: the row nests its site integration (or gives only its id).
    id: str
    name: str
    description: str = ""
    enabled: bool
    site_third_party_integration_id: str | None = None
    site_name: str | None = None
    integration_type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, row: Any) -> Any:
        if not isinstance(row, dict):
            return row  # an instance passes; anything else is refused by validation
        if "site_third_party_integration" in row:
            site = row["site_third_party_integration"]
            site = site if isinstance(site, dict) else {"id": site} if isinstance(site, str) else {}
            flat = {"site_third_party_integration_id": site.get("id"), "site_name": site.get("name"),
                    "integration_type": site.get("integration_type")}
        else:  # already flat (built here), or a row without its site
            flat = {k: row.get(k) for k in ("site_third_party_integration_id", "site_name", "integration_type")}
        return {"id": row.get("id"), "name": row.get("name", ""), "description": row.get("description") or "",
                "enabled": bool(row.get("enabled")), **flat}


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
    completed: Annotated[bool, BeforeValidator(bool)] = False
    expiration_date_unix: int | None = None
    form_source: str | None = None
    form_source_id: str | None = None


class NewSecureForm(SecureFormRecord):
    """CreateSecureForm's answer, which names the id secure_form_id ([I] fact revcent.form_id_key: or id)."""

    id: str = Field(validation_alias=AliasChoices("secure_form_id", "id"))


class Created(_Record):
    """RevCent's answer to a create."""

    id: str = Field(validation_alias="user_third_party_integration_id", min_length=1)
