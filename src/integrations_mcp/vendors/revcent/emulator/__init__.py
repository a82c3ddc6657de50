"""An in-memory emulator of RevCent's v2 API for third-party integrations, secure forms and the secure form page."""

from integrations_mcp.vendors.revcent.emulator.contract import SANDBOX_API_KEY, ErrorCode
from integrations_mcp.vendors.revcent.emulator.emulator import RevCentEmulator

__all__ = ["SANDBOX_API_KEY", "ErrorCode", "RevCentEmulator"]
