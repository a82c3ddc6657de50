"""An in-memory emulator of RevCent's v2 API for third-party integrations, secure forms and the secure form page."""

from integrations_mcp.vendors.revcent.emulator.contract import INFERRED, SANDBOX_API_KEY, Contract, ErrorCode
from integrations_mcp.vendors.revcent.emulator.emulator import RevCentEmulator

__all__ = ["INFERRED", "SANDBOX_API_KEY", "Contract", "ErrorCode", "RevCentEmulator"]
