"""An in-memory emulator of CxEngage's /v1 REST API for tenant integrations (tokens, list, create, get, update).

Every name is imported when first asked for (PEP 562): --sandbox reads only the sandbox fixtures at start, and builds
the emulator itself (schemas, app) on the first request."""

from importlib import import_module
from typing import Any

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

_FROM = {**dict.fromkeys(["INFERRED", "INTEGRATION_TYPES", "SECRET_PROPERTIES", "ApiError", "Contract"], "contract"),
         **dict.fromkeys(["SANDBOX_API_KEY", "SANDBOX_API_SECRET", "SANDBOX_INTEGRATION_ID", "SANDBOX_TENANT_ID",
                          "SANDBOX_USER_ID", "SANDBOX_VIEW_ONLY_INTEGRATION_ID", "SANDBOX_VIEW_ONLY_TENANT_ID"],
                         "fixtures"),
         "CxEngageEmulator": "emulator"}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_FROM[name]}"), name)
