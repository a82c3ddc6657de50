"""The page where a person types secrets for a `SecureFormStore` form: `secure_form_routes(store)` are plain
Starlette routes, mounted by the HTTP transport on its own app or by `listener.SecureFormServer` on loopback.

The page: accessible HTML, no scripts and no external assets, strict security headers, a per-form CSRF token,
POSTs from its own page only (`origin.py`). It never shows a stored or typed value back, and logs only form
references and outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integrations_mcp.pages.origin import origin_of, submitted_from_own_page
from integrations_mcp.pages.shell import (
    CROSS_SITE,
    FORM_GONE,
    STALE_PAGE,
    TOO_LARGE,
)
from integrations_mcp.pages.shell import document as _document
from integrations_mcp.pages.shell import message as _message
from integrations_mcp.secure_forms.store import (
    FormState,
    SecureFormError,
    SecureFormStore,
    StoredForm,
    form_ref,
)

__all__ = ["CSRF_FIELD", "DEFAULT_PATH_PREFIX", "secure_form_routes"]

log = logging.getLogger(__name__)

DEFAULT_PATH_PREFIX = "/secure-forms"
CSRF_FIELD = "_csrf"  # field ids cannot start with "_", so this never collides with a form field
MAX_BODY_BYTES = 64 * 1024


def _when(unix: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC")


def _form_page(form: StoredForm, *, error: str | None = None, invalid: frozenset[str] = frozenset(),
               status: int = 200) -> HTMLResponse:
    """The form. Inputs never carry a value attribute: nothing stored or typed is ever sent back."""
    rows = []
    for f in form.fields:
        fid, hid = escape(f"field-{f.id}"), escape(f"hint-{f.id}")
        attrs = " required" if f.required else ""
        if f.id in invalid:
            attrs += ' aria-invalid="true"'
        rows.append(f'<label for="{fid}">{escape(f.label)}</label>'
                    f'<p class="hint" id="{hid}">{"Required." if f.required else "Optional."}</p>'
                    f'<input id="{fid}" name="{escape(f.id)}" type="password" autocomplete="off" '
                    f'autocapitalize="off" spellcheck="false" aria-describedby="{hid}"{attrs}>')
    iso, shown = _when(form.expires_at)
    alert = f'<p role="alert">{escape(error)}</p>' if error else ""
    where = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in form.details)
    where = f"<p>These secrets will be used only with:</p><dl>{where}</dl>" if where else ""
    body = (f"<h1>{escape(form.subject)}</h1>{alert}{where}"
            "<p>Type the secret values below and press Save. They are kept only in the memory of the "
            "integrations-mcp server and used once, when your assistant saves the integration. They are never "
            "shown again, and your assistant never sees them.</p>"
            '<form method="post">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(form.csrf_token)}">'
            + "".join(rows)
            + '<button type="submit">Save</button></form>'
            f'<p>This form can be used once and expires at <time datetime="{iso}">{shown}</time>.</p>')
    return _document(f"Secure form: {form.subject}", body, status)


def _refusal(exc: SecureFormError, *, post: bool) -> HTMLResponse:
    if exc.reason == SecureFormError.EXPIRED:
        return _message("Form expired", "This secure form has expired and anything typed into it was deleted. "
                        "Ask your assistant for a new form.", 410)
    if exc.reason == SecureFormError.CSRF:
        return _message("Refused", STALE_PAGE, 403, alert=True)
    if exc.reason == SecureFormError.COMPLETED:
        return _completed(409 if post else 200)
    return _message("Form not found", FORM_GONE, 404)


def _completed(status: int) -> HTMLResponse:
    return _message("Already completed", "This secure form was already completed and cannot be modified. "
                    "You can close this page and return to your assistant.", status)


class _Page:
    def __init__(self, store: SecureFormStore, public_origin: Callable[[], str | None]) -> None:
        self.store, self.public_origin = store, public_origin

    async def show(self, request: Request) -> Response:
        form_id = request.path_params["form_id"]
        try:
            view = self.store.lookup(form_id)
        except SecureFormError as exc:
            log.info("secure form page %s: %s", form_ref(form_id), exc.reason)
            return _refusal(exc, post=False)
        if view.state != FormState.OPEN:
            return _completed(200)
        return _form_page(view.form)

    async def submit(self, request: Request) -> Response:
        form_id = request.path_params["form_id"]
        own = [origin_of(str(request.url)), *filter(None, [self.public_origin()])]
        if not submitted_from_own_page(request.headers, own):
            log.warning("secure form page %s: cross-origin submission refused", form_ref(form_id))
            return _message("Refused", CROSS_SITE, 403, alert=True)
        try:
            view = self.store.lookup(form_id)
        except SecureFormError as exc:
            log.info("secure form page %s: %s", form_ref(form_id), exc.reason)
            return _refusal(exc, post=True)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _message("Refused", "Unsupported form encoding. Reload the form and try again.", 415, alert=True)
        body = await _read_body(request)
        if body is None:
            return _message("Refused", TOO_LARGE, 413, alert=True)
        fields = _parse(body)
        if fields is None:
            return _message("Refused", "The submission could not be read. Reload the form and try again.", 400,
                            alert=True)
        csrf = fields.pop(CSRF_FIELD, "")
        try:
            form = self.store.submit(form_id, csrf, fields)
        except SecureFormError as exc:
            if exc.reason in (SecureFormError.MISSING_FIELDS, SecureFormError.TOO_LONG,
                              SecureFormError.UNKNOWN_FIELDS):
                invalid = frozenset(exc.details.get("fields", ()))
                return _form_page(view.form, error=str(exc), invalid=invalid, status=400)
            return _refusal(exc, post=True)
        finally:
            fields.clear()
        return _document("Saved", f"<h1>Saved — return to your assistant</h1>"
                         f"<p role=\"status\">The values for {escape(form.subject)} were saved. You can close this "
                         "page and tell your assistant you are done.</p>")


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _parse(body: bytes) -> dict[str, str] | None:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:  # a repeated name is never sent by the page itself
            return None
        fields[key] = value
    return fields


def secure_form_routes(store: SecureFormStore, path_prefix: str = DEFAULT_PATH_PREFIX,
                       public_origin: Callable[[], str | None] = lambda: None) -> list[Route]:
    """`GET` and `POST {path_prefix}/{form_id}`, to mount on any Starlette app. `public_origin` gives the origin
    people open the page at when it differs from the request's own (a reverse proxy)."""
    page = _Page(store, public_origin)
    path = f"/{path_prefix.strip('/')}/{{form_id}}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.submit, methods=["POST"])]
