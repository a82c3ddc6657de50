"""Typed shapes of CxEngage tool inputs and outputs. Property values in outputs are always redacted of secrets."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from integrations_mcp.pipeline.changes import CHANGES_DESCRIPTION, VERIFIED_DESCRIPTION, FieldChange

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Lowercased on the way in: the vendor writes UUIDs in lowercase, and ids are compared as strings.
# The schema says `format: uuid` (a few characters) instead of the 90-character pattern that is still enforced.
TenantId = Annotated[str, Field(pattern=UUID_PATTERN), WithJsonSchema({"type": "string", "format": "uuid"}),
                     AfterValidator(str.lower)]
IntegrationId = Annotated[str, Field(pattern=UUID_PATTERN), WithJsonSchema({"type": "string", "format": "uuid"}),
                          AfterValidator(str.lower)]
PropertyValue = str | bool | int | float | dict[str, Any]
Properties = Annotated[dict[str, PropertyValue], Field(
    description="Non-secret properties (GetIntegrationGuide cxengage/types, section=<type>). Secrets: secure_form_id.")]


class Integration(BaseModel):
    id: str
    tenant_id: str | None = None
    name: str
    type: str
    description: str | None = None
    active: bool = False
    properties: dict[str, Any] = Field(description="Secret values are shown as [redacted] when set.")
    created: str | None = None
    updated: str | None = None


class Readiness(BaseModel):
    missing_required: list[str] = Field(description="Required properties with no value.")
    secrets_set: list[str]
    secrets_missing: list[str] = Field(description="Required secrets to provide via CreateCxEngageSecureForm.")
    can_activate: bool
    blockers: list[str]


class IntegrationView(BaseModel):
    integration: Integration
    readiness: Readiness


class IntegrationSummary(BaseModel):
    id: str
    name: str
    type: str
    active: bool
    description: str | None = None


class IntegrationList(BaseModel):
    tenant_id: str
    count: int
    results: list[IntegrationSummary]


class SecureFormCreated(BaseModel):
    secure_form_id: str
    form_url: str | None = Field(description="Give this link to the user (never open it yourself); absent when the "
                                             "user's client opened the form for them.")
    expires_at: int = Field(description="Unix seconds; the form and anything typed in it are deleted then.")
    type: str
    integration_id: str | None = None
    fields: list[str] = Field(description="The secret properties the user is asked for.")
    next_step: str


class WriteResult(BaseModel):
    dry_run: bool
    integration_id: str | None = None
    sent: dict[str, Any] = Field(description="The body sent (or that would be), secrets redacted.")
    changes: list[FieldChange] = Field(description=CHANGES_DESCRIPTION)
    verified: IntegrationView | None = Field(None, description=VERIFIED_DESCRIPTION)
    mismatches: list[str] = Field(default_factory=list, description="Where the read-back differs from the request.")
    next_steps: list[str] = []
