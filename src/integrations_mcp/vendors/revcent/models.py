"""Typed shapes of RevCent tool inputs and outputs (vendor field names kept as RevCent spells them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations_mcp.pipeline.changes import FieldChange

RevCentId = Annotated[str, Field(min_length=20, max_length=20, pattern=r"^[A-Za-z0-9]{20}$",
                                 description="20-character RevCent id.")]
# Documented: ai, ai_voice, offline_payment, tax, shipping. Kept open so that a type RevCent adds later does not
# make the whole catalogue unreadable.
IntegrationType = Annotated[str, Field(description="ai, ai_voice, offline_payment, tax or shipping.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionFieldInput(_Strict):
    id: str = Field(min_length=1, description="Field id from the site integration's option schema.")
    value: list[str] = Field(description="Values; exactly one unless the select field allows multiple.")


class OptionInput(_Strict):
    id: str = Field(min_length=1, description="Option id from the site integration's schema.")
    fields: list[OptionFieldInput] = Field(min_length=1)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CredentialField(_Out):
    id: str
    name: str = ""
    required: bool = False


class CredentialSpec(_Out):
    id: str
    name: str = ""
    description: str = ""
    fields: list[CredentialField] = []


class SelectSettings(_Out):
    third_party_asset: bool = False
    options: list[str] = []
    multiple: bool = False


class OptionFieldSpec(_Out):
    id: str
    name: str = ""
    field_type: Literal["select", "input"]
    required: bool = False
    select_settings: SelectSettings | None = None


class OptionSpec(_Out):
    id: str
    name: str = ""
    description: str = ""
    required: bool = False
    fields: list[OptionFieldSpec] = []


class SiteIntegration(_Out):
    id: str
    name: str
    description: str = ""
    integration_type: IntegrationType
    third_party_credentials: CredentialSpec | None = None
    third_party_options: list[OptionSpec] = []


class SiteIntegrationSummary(_Out):
    id: str
    name: str
    description: str = ""
    integration_type: IntegrationType
    has_options: bool
    has_required_options: bool


class SiteIntegrationPage(BaseModel):
    page: int
    count: int
    has_more: bool
    results: list[SiteIntegrationSummary]


class SavedOptionField(_Out):
    id: str
    value: list[str] = []


class SavedOption(_Out):
    id: str
    fields: list[SavedOptionField] = []


class UserIntegration(_Out):
    id: str
    name: str
    description: str = ""
    enabled: bool = False
    third_party_credentials_saved: list[str] = []
    third_party_options_saved: list[SavedOption] = []
    site_third_party_integration: SiteIntegration


class UserIntegrationSummary(BaseModel):
    id: str
    name: str
    description: str = ""
    enabled: bool
    site_third_party_integration_id: str | None = None
    site_name: str | None = None
    integration_type: str | None = None


class UserIntegrationPage(BaseModel):
    page: int
    count: int
    has_more: bool
    results: list[UserIntegrationSummary]


class MissingOption(BaseModel):
    option_id: str
    field_ids: list[str]


class SelectChoice(BaseModel):
    option_id: str
    field_id: str
    source: Literal["asset", "static"]
    multiple: bool
    values: list[str]


class Readiness(BaseModel):
    credentials_saved: bool
    missing_credentials: list[str] = Field(description="Required credential field ids not saved.")
    missing_options: list[MissingOption] = Field(description="Required options/fields with no saved value.")
    choices: list[SelectChoice] = Field(description="Valid values of each select field.")
    can_enable: bool
    blockers: list[str]


class UserIntegrationView(BaseModel):
    integration: UserIntegration
    readiness: Readiness


class SecureForm(BaseModel):
    secure_form_id: str
    form_url: str | None = None
    completed: bool
    expiration_date_unix: int | None = None
    form_source: str | None = None
    form_source_id: str | None = None
    next_step: str


class Created(_Out):
    """RevCent's answer to a create."""

    id: str = Field(validation_alias="user_third_party_integration_id", min_length=1)


class WriteResult(BaseModel):
    dry_run: bool
    user_third_party_integration_id: str | None = None
    sent: dict[str, Any] = Field(description="The body sent to RevCent (or that would be, on a dry run).")
    changes: list[FieldChange]
    verified: UserIntegrationView | None = Field(None, description="State read back after the write.")
    mismatches: list[str] = Field(default_factory=list, description="Where the read-back differs from the request.")
    next_steps: list[str] = []
