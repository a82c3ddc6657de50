"""Clearly fake fixtures: the sandbox's API key, two tenants, the key's user, and one pre-existing integration on each
tenant.

Every fixture id starts with 5a4db0c5 ("sandbox"); hosts use the reserved .invalid TLD; secrets say "fake".
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIXTURE_INTEGRATIONS", "FIXTURE_TENANTS", "FIXTURE_TIME", "SANDBOX_API_KEY", "SANDBOX_API_SECRET",
           "SANDBOX_INTEGRATION_ID", "SANDBOX_TENANT_ID", "SANDBOX_USER_ID", "SANDBOX_VIEW_ONLY_INTEGRATION_ID",
           "SANDBOX_VIEW_ONLY_TENANT_ID"]

SANDBOX_API_KEY = "sandbox-cxengage-api-key"
SANDBOX_API_SECRET = "sandbox-cxengage-api-secret"  # clearly fake; Basic auth: key = username, secret = password [I]
SANDBOX_TENANT_ID = "5a4db0c5-0000-4000-8000-000000000001"  # the key may manage integrations here
SANDBOX_VIEW_ONLY_TENANT_ID = "5a4db0c5-0000-4000-8000-000000000002"  # the key may read, not write (no MANAGE_*)
SANDBOX_USER_ID = "5a4db0c5-0000-4000-8000-0000000000aa"  # who the API key acts as: createdBy / updatedBy
SANDBOX_INTEGRATION_ID = "5a4db0c5-0000-4000-8000-000000000101"
SANDBOX_VIEW_ONLY_INTEGRATION_ID = "5a4db0c5-0000-4000-8000-000000000102"
FIXTURE_TIME = "2024-01-02T03:04:05Z"

FIXTURE_TENANTS: tuple[tuple[str, str, str], ...] = (
    (SANDBOX_TENANT_ID, "Sandbox tenant (fake)", "manage"),
    (SANDBOX_VIEW_ONLY_TENANT_ID, "Sandbox read-only tenant (fake)", "view"),
)

FIXTURE_INTEGRATIONS: tuple[dict[str, Any], ...] = (
    {"id": SANDBOX_INTEGRATION_ID, "tenant_id": SANDBOX_TENANT_ID, "type": "rest",
     "name": "Sandbox order lookup (fake)", "description": "Fixture: a REST integration that already exists.",
     "active": True,
     "properties": {"endpointPrefix": "https://orders.example.invalid/api/", "password": "",
                    "token": "sandbox-fake-rest-token", "username": ""}},
    {"id": SANDBOX_VIEW_ONLY_INTEGRATION_ID, "tenant_id": SANDBOX_VIEW_ONLY_TENANT_ID, "type": "zendesk",
     "name": "Sandbox helpdesk (fake)", "description": None, "active": False,
     "properties": {"endpointPrefix": "https://sandbox.example.invalid/api/v2/", "interactionFieldId": "",
                    "password": "sandbox-fake-zendesk-password", "username": "agent@example.invalid",
                    "workItems": False}},
)
