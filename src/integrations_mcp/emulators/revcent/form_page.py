"""The secure form page a person opens from `form_url`: plain accessible HTML, no API key, no external assets.

It is the only place secrets are typed in. The page never shows stored values, is bound to its own origin, and
each form carries its own random CSRF token.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integrations_mcp.emulators.revcent.contract import ApiError, ErrorCode
from integrations_mcp.emulators.revcent.records import SecureForm

if TYPE_CHECKING:
    from integrations_mcp.emulators.revcent.emulator import RevCentEmulator

__all__ = ["CSRF_FIELD", "form_page_routes"]

CSRF_FIELD = "csrf_token"
PAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
          "label{display:block;margin-top:1rem;font-weight:600}input{display:block;width:100%;padding:.4rem;"
          "font-size:1rem;box-sizing:border-box}button{margin-top:1.5rem;padding:.5rem 1.5rem;font-size:1rem}"
          "[role=alert]{border:2px solid #b00020;padding:.5rem}")


def _document(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


def _message(title: str, text: str, status: int) -> HTMLResponse:
    return _document(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>", status)


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
        return _document(f"Secure form: {name}", body, status)

    def _lookup(self, request: Request) -> SecureForm | HTMLResponse:
        try:
            return self.emu.live_form(request.path_params["secure_form_id"])
        except ApiError as exc:
            if exc.code == ErrorCode.SECURE_FORM_EXPIRED:
                return _message("Form expired", "This secure form has expired and its data was deleted. "
                                "Ask your assistant for a new form.", 410)
            return _message("Form not found", "There is no secure form at this address.", 404)

    async def show(self, request: Request) -> Response:
        form = self._lookup(request)
        if isinstance(form, HTMLResponse):
            return form
        if form.completed:
            return _message("Already completed", "This secure form was already completed and cannot be modified. "
                            "You can return to your assistant.", 200)
        return self._form(request, form)

    async def submit(self, request: Request) -> Response:
        form = self._lookup(request)
        if isinstance(form, HTMLResponse):
            return form
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin is not None and origin.lower() != own.lower():
            return _message("Refused", "This form can only be submitted from its own page.", 403)
        data = await request.form()
        token = data.get(CSRF_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), form.csrf_token.encode()):
            return _message("Refused", "The security check failed. Reload the form and try again.", 403)
        if form.completed:
            return _message("Already completed", "This secure form was already completed, cannot be modified.", 409)
        values = {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}
        missing = self.emu.missing_fields(form, values)
        if missing:
            return self._form(request, form, f"Please fill in: {', '.join(missing)}.", 400)
        self.emu.store_form_values(form, values)
        name, _ = self._subject(form)
        return _message("Saved", f"Your credentials for {name} were saved securely. "
                        "You can close this page and return to your assistant.", 200)


def form_page_routes(emu: RevCentEmulator) -> list[Route]:
    page = _FormPage(emu)
    path = "/secure_forms/{secure_form_id}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.submit, methods=["POST"])]
