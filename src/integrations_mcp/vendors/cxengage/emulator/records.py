"""Stored objects (tenants, integrations) and how the API renders them. Secrets are echoed as stored, on purpose."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Access", "Integration", "Tenant", "integration_view"]

Access = Literal["manage", "view", "none"]  # manage: MANAGE_ALL_PROVIDERS; view: read only; none: no role


@dataclass
class Tenant:
    id: str
    name: str
    access: Access = "manage"


@dataclass
class Integration:
    id: str
    tenant_id: str
    type: str
    name: str
    description: str | None
    active: bool
    properties: dict[str, Any]
    created: str
    created_by: str
    updated: str
    updated_by: str


def integration_view(record: Integration) -> dict[str, Any]:
    """The wire object, keys in the order of the docs' verbatim example; properties (secrets too) as stored."""
    return {
        "tenantId": record.tenant_id,
        "description": record.description,
        "properties": copy.deepcopy(record.properties),
        "createdBy": record.created_by,
        "updated": record.updated,
        "name": record.name,
        "type": record.type,
        "created": record.created,
        "updatedBy": record.updated_by,
        "active": record.active,
        "id": record.id,
    }
