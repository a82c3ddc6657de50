"""The page where a person types secrets for a `SecureFormStore` form: `secure_form_routes(store)` are plain
Starlette routes, served with the other pages (`pages/`, registered by `server.SecureFormServer`).

The page: accessible HTML, no scripts and no external assets, strict security headers, a per-form CSRF token,
POSTs from its own page in a browser only, read with a size cap as they stream (`pages/post.py`). It never shows a
stored or typed value back, and logs only form references and outcomes. Its address is the form's page id, not the
handle (`secure_form_id`) the model holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integrations_mcp.approvals.kinds import ChangeKind
from integrations_mcp.pages.listener import DEFAULT_PATH_PREFIX
from integrations_mcp.pages.post import PostRefused, read_own_post
from integrations_mcp.pages.shell import document as _document
from integrations_mcp.pages.shell import message as _message
from integrations_mcp.pages.signin import PagePart
from integrations_mcp.pages.signin.gate import Gate, needs_sign_in, parts_html, script_tags
from integrations_mcp.secure_forms.store import FormState, SecureFormError, SecureFormStore, StoredForm, form_ref
from integrations_mcp.secure_forms.texts import (
    CROSS_SITE,
    FORM_GONE,
    STALE_PAGE,
    TOO_LARGE,
    UNREADABLE,
    WRONG_ENCODING,
)

__all__ = ["CSRF_FIELD", "MAX_BODY_BYTES", "secure_form_routes"]

log = logging.getLogger(__name__)

CSRF_FIELD = "_csrf"  # field ids cannot start with "_", so this never collides with a form field
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 200
SIGN_IN_FIRST = "Sign in before you save: only a person who signed in can fill in this form."
POST_REFUSED = {PostRefused.CROSS_SITE: CROSS_SITE, PostRefused.ENCODING: WRONG_ENCODING,
                PostRefused.TOO_LARGE: TOO_LARGE, PostRefused.UNREADABLE: UNREADABLE}


def _when(unix: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC")


def _form_page(form: StoredForm, *, error: str | None = None, invalid: frozenset[str] = frozenset(),
               status: int = 200, parts: list[PagePart] | None = None) -> HTMLResponse:
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
            + (f"<p>{SIGN_IN_FIRST}</p>" if needs_sign_in(parts or ()) else "") + parts_html(parts or ())
            + "".join(rows)
            + '<button type="submit">Save</button></form>'
            f'<p>This form can be used once and expires at <time datetime="{iso}">{shown}</time>.</p>'
            + script_tags(parts or ()))
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
    def __init__(self, store: SecureFormStore, public_origin: Callable[[], str | None], gate: Gate) -> None:
        self.store, self.public_origin, self.gate = store, public_origin, gate

    async def _parts(self, request: Request, page_id: str) -> list[PagePart]:
        return await self.gate.parts(request, purpose=self.store.purpose(page_id), return_to=request.url.path)

    async def show(self, request: Request) -> Response:
        page_id = request.path_params["page_id"]
        try:
            view = self.store.lookup(page_id)
        except SecureFormError as exc:
            log.info("secure form page %s: %s", form_ref(page_id), exc.reason)
            return _refusal(exc, post=False)
        if view.state != FormState.OPEN:
            return _completed(200)
        return _form_page(view.form, parts=await self._parts(request, page_id))

    async def submit(self, request: Request) -> Response:
        page_id = request.path_params["page_id"]
        try:
            fields = await read_own_post(request, self.public_origin, max_bytes=MAX_BODY_BYTES,
                                         max_fields=MAX_FIELDS)
        except PostRefused as refused:
            log.warning("secure form page %s: submission refused (%s)", form_ref(page_id), refused.reason)
            return _message("Refused", POST_REFUSED[refused.reason], refused.status, alert=True)
        try:
            view = self.store.lookup(page_id)
        except SecureFormError as exc:
            log.info("secure form page %s: %s", form_ref(page_id), exc.reason)
            return _refusal(exc, post=True)
        if self.gate.required and view.state == FormState.OPEN:
            verdict = await self.gate.check(request, fields, purpose=self.store.purpose(page_id),
                                            requester=view.form.requested_by, kinds=(ChangeKind.FORM,))
            if not verdict.allowed:
                fields.clear()  # nothing typed is kept, even in memory
                log.warning("secure form page %s: submission not counted (%s)", form_ref(page_id),
                            "not signed in" if verdict.approver is None else "the approver policy refused")
                return _form_page(view.form, error=verdict.decision.why, parts=await self._parts(request, page_id),
                                  status=401 if verdict.approver is None else 403)
        csrf = fields.pop(CSRF_FIELD, "")
        for name in [n for n in fields if n.startswith("_")]:  # a sign-in method's own (never a form field id)
            del fields[name]
        try:
            form = self.store.submit(page_id, csrf, fields)
        except SecureFormError as exc:
            if exc.reason in (SecureFormError.MISSING_FIELDS, SecureFormError.TOO_LONG,
                              SecureFormError.UNKNOWN_FIELDS):
                invalid = frozenset(exc.details.get("fields", ()))
                return _form_page(view.form, error=str(exc), invalid=invalid, status=400,
                                  parts=await self._parts(request, page_id))
            return _refusal(exc, post=True)
        finally:
            fields.clear()
        return _document("Saved", f"<h1>Saved — return to your assistant</h1>"
                         f"<p role=\"status\">The values for {escape(form.subject)} were saved. You can close this "
                         "page and tell your assistant you are done.</p>")


def secure_form_routes(store: SecureFormStore, path_prefix: str = DEFAULT_PATH_PREFIX,
                       public_origin: Callable[[], str | None] = lambda: None,
                       gate: Gate | None = None) -> list[Route]:
    """`GET` and `POST {path_prefix}/{page_id}`, to mount on any Starlette app. `public_origin` gives the origin
    people open the page at when it differs from the request's own (a reverse proxy); `gate`: the sign-in the
    person needs before the values count (none by default)."""
    page = _Page(store, public_origin, gate or Gate())
    path = f"/{path_prefix.strip('/')}/{{page_id}}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.submit, methods=["POST"])]
