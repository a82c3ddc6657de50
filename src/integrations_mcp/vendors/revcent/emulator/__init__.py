"""An in-memory emulator of RevCent's v2 API for third-party integrations, secure forms and the secure form page."""

from typing import Any

from integrations_mcp.vendors.revcent.emulator.contract import INFERRED, SANDBOX_API_KEY, Contract, ErrorCode

__all__ = ["INFERRED", "SANDBOX_API_KEY", "Contract", "ErrorCode", "RevCentEmulator"]


def __getattr__(name: str) -> Any:
    # The emulator itself (schemas, app) is imported on first use: --sandbox builds it on the first request only.
    if name == "RevCentEmulator":
        from integrations_mcp.vendors.revcent.emulator.emulator import RevCentEmulator

        return RevCentEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
