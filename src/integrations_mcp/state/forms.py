"""Vendor-hosted secure forms already spent by this deployment: single use made atomic by the primary key, so two
processes (or replicas) spending one form at once cannot both succeed."""

from __future__ import annotations

import time

from integrations_mcp.state.store import StateStore

__all__ = ["SpentFormTable"]


class SpentFormTable:
    def __init__(self, store: StateStore, vendor: str) -> None:
        self.store, self.vendor = store, vendor

    async def is_spent(self, form_id: str) -> bool:
        from sqlalchemy import select

        from integrations_mcp.state.schema import spent_forms

        query = select(spent_forms.c.form_id).where(spent_forms.c.vendor == self.vendor,
                                                    spent_forms.c.form_id == form_id)
        async with self.store.begin() as conn:
            return (await conn.execute(query)).first() is not None

    async def spend(self, form_id: str) -> bool:
        """True if this call spent it; False if it already was."""
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        from integrations_mcp.state.schema import spent_forms

        try:
            async with self.store.begin() as conn:
                await conn.execute(insert(spent_forms).values(vendor=self.vendor, form_id=form_id,
                                                              spent_at=time.time()))
        except IntegrityError:
            return False
        return True

    async def give_back(self, form_id: str) -> None:
        from sqlalchemy import delete

        from integrations_mcp.state.schema import spent_forms

        async with self.store.begin() as conn:
            await conn.execute(delete(spent_forms).where(spent_forms.c.vendor == self.vendor,
                                                         spent_forms.c.form_id == form_id))
