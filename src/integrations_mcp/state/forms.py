"""Vendor-hosted secure forms already spent by this deployment: single use made atomic by the primary key, so two
processes (or replicas) spending one form at once cannot both succeed. A form's id opens the vendor's page, so the
table holds only a hash of it (a random id cannot be found from its SHA-256; no key is needed, and none could be
shared by every stdio server of a user without one)."""

from __future__ import annotations

import hashlib
import time

from integrations_mcp.state.store import StateStore

__all__ = ["SpentFormTable", "spent_form_key"]


def spent_form_key(vendor: str, form_id: str) -> str:
    return hashlib.sha256(f"integrations-mcp/spent-form:{vendor}:{form_id}".encode()).hexdigest()


class SpentFormTable:
    def __init__(self, store: StateStore, vendor: str) -> None:
        self.store, self.vendor = store, vendor

    async def is_spent(self, form_id: str) -> bool:
        from sqlalchemy import select

        from integrations_mcp.state.schema import spent_forms

        query = select(spent_forms.c.form_id).where(spent_forms.c.vendor == self.vendor,
                                                    spent_forms.c.form_id == spent_form_key(self.vendor, form_id))
        async with self.store.begin() as conn:
            return (await conn.execute(query)).first() is not None

    async def spend(self, form_id: str) -> bool:
        """True if this call spent it; False if it already was."""
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        from integrations_mcp.state.schema import spent_forms

        try:
            async with self.store.begin() as conn:
                await conn.execute(insert(spent_forms).values(
                    vendor=self.vendor, form_id=spent_form_key(self.vendor, form_id), spent_at=time.time()))
        except IntegrityError:
            return False
        return True

    async def give_back(self, form_id: str) -> None:
        from sqlalchemy import delete

        from integrations_mcp.state.schema import spent_forms

        async with self.store.begin() as conn:
            await conn.execute(delete(spent_forms).where(spent_forms.c.vendor == self.vendor,
                                                         spent_forms.c.form_id == spent_form_key(self.vendor, form_id)))
