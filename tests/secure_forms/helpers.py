"""What the secure form tests share: a form of three fields (one optional) for one owner and purpose, a canary
secret that must never come back, and what a page answer must carry."""

from __future__ import annotations

from typing import Any

import httpx2

from integrations_mcp.pages.shell import SECURITY_HEADERS
from integrations_mcp.secure_forms.page import CSRF_FIELD
from integrations_mcp.secure_forms.store import FormField, SecureFormStore

CANARY = "CANARY-secret-9f3a"
OWNER = "session-a"
PURPOSE = {"vendor": "cxengage", "type": "zendesk", "tenant_id": "t-1", "integration_id": ""}
FIELDS = [FormField("password", "Zendesk password"), FormField("token", "API token"),
          FormField("securityToken", "Security token", required=False)]


def new_form(store: SecureFormStore, owner: str = OWNER, **overrides: Any):
    args: dict[str, Any] = {"owner": owner, "subject": "Zendesk integration 'Support desk' on tenant t-1",
                            "fields": FIELDS, "purpose": PURPOSE, "create_tool": "CreateCxEngageSecureForm"} | overrides
    return store.create(**args)


def fill(store: SecureFormStore, form, **values: str) -> None:
    store.submit(form.page_id, form.csrf_token, values or {"password": CANARY, "token": "tok-1"})


def path(form) -> str:
    return f"/secure-forms/{form.page_id}"


def assert_secure_headers(response: httpx2.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert response.headers["content-type"].startswith("text/html")


def post_data(form, **values: str) -> dict[str, str]:
    return {CSRF_FIELD: form.csrf_token, **values}
