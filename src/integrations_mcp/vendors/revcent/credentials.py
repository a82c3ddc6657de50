"""Where a RevCent write's credentials come from, shared by the tools and both writes. Its own module, so that the
tools make it at start without importing the write path (`writes.py` and what it imports: rules, plans, views),
which the first write imports."""

from __future__ import annotations

from integrations_mcp.secure_forms.single_use import SpentForms
from integrations_mcp.vendors.revcent.form_handles import FormHandles
from integrations_mcp.vendors.revcent.server_forms import ServerForms

__all__ = ["Credentials"]


class Credentials:
    """REVCENT_CREDENTIALS_VIA's forms: RevCent's (spent here once used; the sites this server made them for) or the
    server's own, per session."""

    def __init__(self, spent: SpentForms, server_forms: ServerForms, handles: FormHandles | None = None) -> None:
        self.spent, self.server_forms = spent, server_forms
        self.handles = handles or FormHandles()  # RevCent's form ids behind the handles the model holds
        self.made_for: dict[str, str] = {}  # handle -> site id, for RevCent forms this server created
