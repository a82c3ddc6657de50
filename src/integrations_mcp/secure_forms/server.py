"""The secure form store and where its page is reachable: a `PageServer` (pages/) that serves the form page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from integrations_mcp.once import Once
from integrations_mcp.pages.listener import PageServer

if TYPE_CHECKING:
    from integrations_mcp.pages.signin.gate import Gate
    from integrations_mcp.secure_forms.store import FormField, SecureFormStore, StoredForm

__all__ = ["SecureFormServer"]


class SecureFormServer(PageServer):
    """A `SecureFormStore` plus the pages' listener (the approval page is served by the same one)."""

    def __init__(self, store: SecureFormStore | None = None, *, gate: Gate | None = None,
                 make_store: Callable[[], SecureFormStore] | None = None, **where: Any) -> None:
        """`where`: `PageServer`'s base URL, prefix, bind address, port, public URL and allowed hosts. `gate`: the
        sign-in a person needs on the pages (`pages.signin`), read when the routes are made. Without `store`,
        `make_store()` (or a store in memory) makes it when it is first used (a start lists tools without it)."""
        super().__init__(**where)
        self._store = Once(make_store or _memory_store) if store is None else Once(lambda: store)
        self.gate = gate
        self.add_pages(self._routes)

    @property
    def store(self) -> SecureFormStore:
        """The one store of the pages and the tools (made once, also when the page listener's thread asks first)."""
        return self._store()

    def _routes(self, prefix: str, public: Callable[[], str | None]) -> list[Any]:
        # The page's module (HTML, CSRF, form posts) is imported when the listener starts, not with the server.
        from integrations_mcp.pages.signin.gate import Gate
        from integrations_mcp.secure_forms.page import secure_form_routes

        return secure_form_routes(self.store, prefix, public, self.gate or Gate())

    def __repr__(self) -> str:
        return f"SecureFormServer(base_url={self.base_url!r}, listening={self.listening}, store={self.store!r})"

    def url_for(self, page_id: str) -> str:
        if self.base_url is None:
            raise RuntimeError("secure form page has no address yet: call ensure_listening() or set_base_url()")
        return f"{self.base_url}{self.path_prefix}/{page_id}"

    async def create_form(self, *, owner: str, subject: str, fields: list[FormField], purpose: dict[str, str],
                          create_tool: str | None = None,
                          details: tuple[tuple[str, str], ...] = (), requested_by: str = "") -> tuple[StoredForm, str]:
        """Make sure the page is reachable, create the form and return it with its page's URL. `create_tool`: the
        tool that makes a fresh form, named in refusals (None: the store's default)."""
        await self.ensure_listening()
        named = {} if create_tool is None else {"create_tool": create_tool}
        form = self.store.create(owner=owner, subject=subject, fields=fields, purpose=purpose, details=details,
                                 requested_by=requested_by, **named)
        return form, self.url_for(form.page_id)


def _memory_store() -> SecureFormStore:
    from integrations_mcp.secure_forms.store import SecureFormStore

    return SecureFormStore()
