"""An in-memory emulator of RevCent's v2 API for third-party integrations, secure forms and the secure form page.

Every name is imported when first asked for (PEP 562): --sandbox reads only the sandbox key at start (`fixtures`), and
builds the emulator itself (schemas, app) on the first request."""

from importlib import import_module
from typing import Any

__all__ = ["INFERRED", "SANDBOX_API_KEY", "Contract", "ErrorCode", "RevCentEmulator"]

_FROM = {"INFERRED": "contract", "SANDBOX_API_KEY": "fixtures", "Contract": "contract", "ErrorCode": "contract",
         "RevCentEmulator": "emulator"}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_FROM[name]}"), name)
