"""CxEngage's integration record as it arrives on the wire. The client validates every answer into these, so an
answer of another shape stops there; properties stay raw (secrets included) because they are compared on this
server and redacted only in what the model sees (`views.py`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

__all__ = ["IntegrationRecord", "IntegrationRef", "IntegrationRow", "RawProperties"]

# The vendor's `active` is read as truthy, and an absent or null `properties` as none set.
Truthy = Annotated[bool, BeforeValidator(bool)]
RawProperties = Annotated[dict[str, JsonValue], BeforeValidator(lambda value: value or {})]


class IntegrationRef(BaseModel):
    """What every answer about one integration carries. A create's answer is read no further: the record is
    read back."""

    model_config = ConfigDict(frozen=True)

    id: str


class IntegrationRow(IntegrationRef):
    """An entry of the tenant's list; only the id is required there."""

    name: str = ""
    type: str = ""
    active: Truthy = False
    description: str | None = None


class IntegrationRecord(IntegrationRow):
    """One integration as read by id."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str
    type: str
    tenant_id: str | None = Field(None, alias="tenantId")
    properties: RawProperties = Field(default_factory=dict)
    created: str | None = None
    updated: str | None = None
