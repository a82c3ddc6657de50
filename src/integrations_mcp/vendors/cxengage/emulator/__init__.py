"""An in-memory emulator of CxEngage's /v1 REST API for tenant integrations (tokens, list, create, get, update)."""

from typing import Any

from integrations_mcp.vendors.cxengage.emulator.contract import (
    INFERRED,
    INTEGRATION_TYPES,
    SANDBOX_API_KEY,
    SANDBOX_API_SECRET,
    SECRET_PROPERTIES,
    ApiError,
    Contract,
)
from integrations_mcp.vendors.cxengage.emulator.fixtures import (
    SANDBOX_INTEGRATION_ID,
    SANDBOX_TENANT_ID,
    SANDBOX_USER_ID,
    SANDBOX_VIEW_ONLY_INTEGRATION_ID,
    SANDBOX_VIEW_ONLY_TENANT_ID,
)

__all__ = [
    "INTEGRATION_TYPES",
    "SANDBOX_API_KEY",
    "SANDBOX_API_SECRET",
    "SANDBOX_INTEGRATION_ID",
    "SANDBOX_TENANT_ID",
    "SANDBOX_USER_ID",
    "SANDBOX_VIEW_ONLY_INTEGRATION_ID",
    "SANDBOX_VIEW_ONLY_TENANT_ID",
    "SECRET_PROPERTIES",
    "INFERRED",
    "ApiError",
    "Contract",
    "CxEngageEmulator",
]


def __getattr__(name: str) -> Any:
    # The emulator itself (schemas, app) is imported on first use: --sandbox builds it on the first request only.
    if name == "CxEngageEmulator":
        from integrations_mcp.vendors.cxengage.emulator.emulator import CxEngageEmulator

        return CxEngageEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
