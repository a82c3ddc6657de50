"""A secure form works once: the one rule both vendors follow.

The form is spent just before the vendor call that uses it, atomically (a parallel call with the same form
finds it spent), and given back only when the vendor clearly refused the write (`VendorError.nothing_written`:
it answered with an error, so nothing was saved). After a timeout, a 5xx or an unreadable answer the write may
have happened, so the form stays spent and the person fills a new one.

- Forms hosted by the vendor (RevCent's): `SpentForms` records which ids already saved credentials here, in the
  state database (`state.forms`): one row per form, so every process and replica of a deployment sees it spent,
  and a restart forgets nothing.
- The server's own forms: `SecureFormStore.take` hands the values out once and `restore` gives them back.
Both go through `spending(...)`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

from integrations_mcp.errors import GuardrailError, VendorError
from integrations_mcp.state.forms import SpentFormTable
from integrations_mcp.state.store import StateStore

__all__ = ["SpentForms", "spending"]

T = TypeVar("T")


async def spending(send: Callable[[], Awaitable[T]], *, give_back: Callable[[], Awaitable[None] | None]) -> T:
    """Run the vendor call that uses an already-spent form; give the form back only if nothing was written."""
    try:
        return await send()
    except VendorError as exc:
        if exc.nothing_written:
            returned = give_back()
            if inspect.isawaitable(returned):
                await returned
            exc.args = (f"{exc} The secure form was given back: pass the same secure_form_id again once the "
                        "problem is fixed.",)
        else:
            exc.args = (f"{exc} The secure form is spent (a form works once): if the write turns out not to have "
                        "happened, create a new form for the user.",)
        raise


class SpentForms:
    """Ids of vendor-hosted forms that saved credentials through this deployment (the state database; an
    in-memory one when none is given)."""

    def __init__(self, create_tool: str, state: StateStore | None = None, vendor: str = "revcent") -> None:
        self.create_tool = create_tool  # named in the refusal: where a fresh form comes from
        self._table = SpentFormTable(state or StateStore("sqlite+aiosqlite:///:memory:"), vendor)

    async def is_spent(self, form_id: str) -> bool:
        return await self._table.is_spent(form_id)

    async def require_unspent(self, form_id: str) -> None:
        if await self.is_spent(form_id):
            raise self._used()

    async def spend(self, form_id: str) -> None:
        """Mark the form used, or refuse if it already was (one insert on the primary key: atomic)."""
        if not await self._table.spend(form_id):
            raise self._used()

    def _used(self) -> GuardrailError:
        return GuardrailError("Refused: this secure form was already used to save credentials; a form works once. "
                              f"Create a new one with {self.create_tool}. Nothing was sent.")

    async def give_back(self, form_id: str) -> None:
        await self._table.give_back(form_id)
