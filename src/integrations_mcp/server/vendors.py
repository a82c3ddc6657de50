"""The vendors this server knows. Adding a vendor: a new folder under `vendors/` and one line here."""

from __future__ import annotations

from integrations_mcp.vendors import cxengage, revcent
from integrations_mcp.vendors.base import Vendor

__all__ = ["VENDORS"]

VENDORS: tuple[Vendor, ...] = (revcent.VENDOR, cxengage.VENDOR)
