"""What the CxEngage tool tests share: the emulator's fixture records, sample properties, paths, and a Zendesk
integration created the way a person would (a filled secure form)."""

from __future__ import annotations

from typing import Any

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID, SANDBOX_TENANT_ID
from tests.harness import Session

T = SANDBOX_TENANT_ID
REST_ID = SANDBOX_INTEGRATION_ID  # fixture: rest, active, token "sandbox-fake-rest-token"
REST_TOKEN = "sandbox-fake-rest-token"
REST_NAME = "Sandbox order lookup (fake)"
VIEW_ONLY_PASSWORD = "sandbox-fake-zendesk-password"
UNKNOWN_ID = "5a4db0c5-0000-4000-8000-00000000ffff"
READ_TOOLS = {"GetCxEngageIntegrations", "GetCxEngageIntegration"}
WRITE_TOOLS = {"CreateCxEngageSecureForm", "CreateCxEngageIntegration", "EditCxEngageIntegration"}
ZENDESK = {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid"}
SALESFORCE = {"username": "sf@example.invalid", "consumerKey": "ck-123"}
SALESFORCE_SECRETS = {"password": "sf-pw-typed", "consumerSecret": "sf-cs-typed", "securityToken": "sf-st-typed"}


def item_path(integration_id: str, tenant_id: str = T) -> str:
    return f"/v1/tenants/{tenant_id}/integrations/{integration_id}"


def collection_path(tenant_id: str = T) -> str:
    return f"/v1/tenants/{tenant_id}/integrations"


async def create_zendesk(cx: Session, name: str = "Desk", password: str = "zd-typed-pw",
                         **extra: Any) -> dict[str, Any]:
    form_id = await cx.form("zendesk", {"password": password})
    return await cx.ok("CreateCxEngageIntegration", name=name, type="zendesk", properties=dict(ZENDESK),
                       secure_form_id=form_id, **extra)
