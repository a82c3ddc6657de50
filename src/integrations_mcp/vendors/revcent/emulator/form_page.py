"""An imitation of RevCent's hosted secure form page (the page a person opens from `form_url`): plain accessible
HTML, no API key, no external assets.

It is the only place RevCent credentials are typed in. The page never shows stored values, accepts a submit only
from its own page (the same rule as the server's own form page: `pages.origin`) and each form carries its
own random CSRF token. The document shell and refusal texts are shared with the server's page.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integrations_mcp.pages.origin import origin_of, submitted_from_own_page
from integrations_mcp.pages.shell import document, message
from integrations_mcp.secure_forms.texts import CROSS_SITE, FORM_GONE, STALE_PAGE
from integrations_mcp.vendors.revcent.emulator.contract import ApiError, ErrorCode
from integrations_mcp.vendors.revcent.emulator.records import SecureForm

if TYPE_CHECKING:
    from integrations_mcp.vendors.revcent.emulator.emulator import RevCentEmulator

__all__ = ["CSRF_FIELD", "form_page_routes"]

CSRF_FIELD = "csrf_token"


class _FormPage:
    def __init__(self, emu: RevCentEmulator) -> None:
        self.emu = emu

    def _subject(self, form: SecureForm) -> tuple[str, str]:
        site = self.emu.form_site(form)
        if site is None:
            return form.form_source.replace("_", " "), ""
        return site["name"], site["third_party_credentials"].get("description", "")

    def _form(self, request: Request, form: SecureForm, error: str | None = None, status: int = 200) -> HTMLResponse:
        name, hint = self._subject(form)
        rows = []
        for spec in self.emu.form_fields(form):
            fid = escape(f"cred-{spec['id']}")
            need = "required" if spec["required"] else "optional"
            rows.append(f'<label for="{fid}">{escape(spec["name"])} ({need})</label>'
                        f'<input id="{fid}" name="{escape(spec["id"])}" type="password" autocomplete="off" '
                        f'spellcheck="false"{" required" if spec["required"] else ""}>')
        expires = datetime.fromtimestamp(form.expiration_date_unix, UTC).strftime("%Y-%m-%d %H:%M UTC")
        alert = f'<p role="alert">{escape(error)}</p>' if error else ""
        body = (f"<h1>Credentials for {escape(name)}</h1>{alert}"
                + (f"<p>{escape(hint)}</p>" if hint else "")
                + "<p>What you type here goes only to RevCent, which stores it encrypted. It is never shown again "
                  "and your assistant never sees it.</p>"
                f'<form method="post" action="{escape(request.url.path)}">'
                f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(form.csrf_token)}">'
                + "".join(rows)
                + f'<button type="submit">Save</button></form><p>This form expires at {expires}.</p>')
        return document(f"Secure form: {name}", body, status)

    def _lookup(self, request: Request) -> SecureForm | HTMLResponse:
        try:
            return self.emu.live_form(request.path_params["secure_form_id"])
        except ApiError as exc:
            if exc.code == ErrorCode.SECURE_FORM_EXPIRED:
                return message("Form expired", "This secure form has expired and its data was deleted. "
                               "Ask your assistant for a new form.", 410)
            return message("Form not found", FORM_GONE, 404)

    async def show(self, request: Request) -> Response:
        form = self._lookup(request)
        if isinstance(form, HTMLResponse):
            return form
        if form.completed:
            return message("Already completed", "This secure form was already completed and cannot be modified. "
                            "You can return to your assistant.", 200)
        return self._form(request, form)

    async def submit(self, request: Request) -> Response:
        form = self._lookup(request)
        if isinstance(form, HTMLResponse):
            return form
        if not submitted_from_own_page(request.headers, [origin_of(str(request.url))]):
            return message("Refused", CROSS_SITE, 403, alert=True)
        data = await request.form()
        token = data.get(CSRF_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), form.csrf_token.encode()):
            return message("Refused", STALE_PAGE, 403, alert=True)
        if form.completed:
            return message("Already completed", "This secure form was already completed and cannot be modified. "
                           "You can close this page and return to your assistant.", 409)
        values = {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}
        missing = self.emu.missing_fields(form, values)
        if missing:
            return self._form(request, form, f"Please fill in: {', '.join(missing)}.", 400)
        self.emu.store_form_values(form, values)
        name, _ = self._subject(form)
        return message("Saved", f"Your credentials for {name} were saved securely. "
                        "You can close this page and return to your assistant.", 200)


def form_page_routes(emu: RevCentEmulator) -> list[Route]:
    page = _FormPage(emu)
    path = "/secure_forms/{secure_form_id}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.submit, methods=["POST"])]
