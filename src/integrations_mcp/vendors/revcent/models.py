"""Typed shapes of RevCent tool inputs and outputs (vendor field names kept as RevCent spells them). RevCent's own
records, some of which are outputs as they are, are in `records.py`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations_mcp.pipeline.changes import FieldChange
from integrations_mcp.vendors.revcent.records import (
    IntegrationType,
    SecureFormRecord,
    SiteIntegration,
    UserIntegration,
    UserIntegrationSummary,
)

RevCentId = Annotated[str, Field(min_length=20, max_length=20, pattern=r"^[A-Za-z0-9]{20}$",
                                 description="20-character RevCent id.")]


# RevCent's forms have 20-character ids; the server's own (REVCENT_CREDENTIALS_VIA=server-form) have 32.
SecureFormId = Annotated[str, Field(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]{20,64}$",
                                    description="Secure form id from CreateSecureForm.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionFieldInput(_Strict):
    id: str = Field(min_length=1, description="Field id from the site integration's option schema.")
    value: list[str] = Field(description="Values; exactly one unless the select field allows multiple.")


class OptionInput(_Strict):
    id: str = Field(min_length=1, description="Option id from the site integration's schema.")
    fields: list[OptionFieldInput] = Field(min_length=1)


class SiteIntegrationSummary(BaseModel):
    id: str
    name: str
    description: str = ""
    integration_type: IntegrationType
    has_options: bool
    has_required_options: bool

    @classmethod
    def of(cls, site: SiteIntegration) -> SiteIntegrationSummary:
        return cls(id=site.id, name=site.name, description=site.description, integration_type=site.integration_type,
                   has_options=bool(site.third_party_options),
                   has_required_options=any(o.required for o in site.third_party_options))


class SiteIntegrationPage(BaseModel):
    page: int
    count: int
    has_more: bool
    results: list[SiteIntegrationSummary]


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
    missing_options: list[MissingOption] = Field(description="Required options/fields with no saved value "
                                                 "(required read as: saved before enabling).")
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

    @classmethod
    def of(cls, form: SecureFormRecord, next_step: str) -> SecureForm:
        return cls(secure_form_id=form.id, form_url=form.form_url, completed=form.completed,
                   expiration_date_unix=form.expiration_date_unix, form_source=form.form_source,
                   form_source_id=form.form_source_id, next_step=next_step)


class WriteResult(BaseModel):
    dry_run: bool
    user_third_party_integration_id: str | None = None
    sent: dict[str, Any] = Field(description="The body sent to RevCent (or that would be, on a dry run).")
    changes: list[FieldChange]
    verified: UserIntegrationView | None = Field(None, description="State read back after the write.")
    mismatches: list[str] = Field(default_factory=list, description="Where the read-back differs from the request.")
    next_steps: list[str] = []
