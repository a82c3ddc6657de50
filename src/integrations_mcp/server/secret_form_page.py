"""The page where a person types secrets for a `SecretFormStore` form, and where it is served from.

`secret_form_routes(store)` are plain Starlette routes: the HTTP transport mounts them on its own app.
Under stdio nothing listens, so `SecretFormServer.ensure_listening()` starts a small uvicorn listener on
127.0.0.1 (random port, daemon thread) the first time a form is needed, and `close()` stops it.

The page: accessible HTML, no scripts and no external assets, strict security headers, a per-form CSRF token,
same-origin POSTs only. It never shows a stored or typed value back, and logs only form references and outcomes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_mcp.guardrails.secret_forms import (
    FormState,
    SecretField,
    SecretForm,
    SecretFormError,
    SecretFormStore,
    form_ref,
)
from integrations_mcp.loopback import LoopbackServer
from integrations_mcp.secure_forms.html import (
    CROSS_SITE,
    FORM_GONE,
    SECURITY_HEADERS,
    STALE_PAGE,
    TOO_LARGE,
    UNKNOWN_HOST,
)
from integrations_mcp.secure_forms.html import document as _document
from integrations_mcp.secure_forms.html import message as _message
from integrations_mcp.secure_forms.origin import origin_of, submitted_from_own_page

__all__ = ["CSRF_FIELD", "DEFAULT_PATH_PREFIX", "LOOPBACK_HOSTS", "SECURITY_HEADERS", "SecretFormGuard",
           "SecretFormServer", "host_allowed", "secret_form_routes"]

log = logging.getLogger(__name__)

DEFAULT_PATH_PREFIX = "/secure-forms"
CSRF_FIELD = "_csrf"  # field ids cannot start with "_", so this never collides with a form field
MAX_BODY_BYTES = 64 * 1024


def _when(unix: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC")


def _form_page(form: SecretForm, *, error: str | None = None, invalid: frozenset[str] = frozenset(),
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
    body = (f"<h1>{escape(form.subject)}</h1>{alert}"
            "<p>Type the secret values below and press Save. They are kept only in the memory of the "
            "integrations-mcp server and used once, when your assistant saves the integration. They are never "
            "shown again, and your assistant never sees them.</p>"
            '<form method="post">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(form.csrf_token)}">'
            + "".join(rows)
            + '<button type="submit">Save</button></form>'
            f'<p>This form can be used once and expires at <time datetime="{iso}">{shown}</time>.</p>')
    return _document(f"Secure form: {form.subject}", body, status)


def _refusal(exc: SecretFormError, *, post: bool) -> HTMLResponse:
    if exc.reason == SecretFormError.EXPIRED:
        return _message("Form expired", "This secure form has expired and anything typed into it was deleted. "
                        "Ask your assistant for a new form.", 410)
    if exc.reason == SecretFormError.CSRF:
        return _message("Refused", STALE_PAGE, 403, alert=True)
    if exc.reason == SecretFormError.COMPLETED:
        return _completed(409 if post else 200)
    return _message("Form not found", FORM_GONE, 404)


def _completed(status: int) -> HTMLResponse:
    return _message("Already completed", "This secure form was already completed and cannot be modified. "
                    "You can close this page and return to your assistant.", status)


# --------------------------------------------------------------------------- handlers


class _Page:
    def __init__(self, store: SecretFormStore, public_origin: Callable[[], str | None]) -> None:
        self.store, self.public_origin = store, public_origin

    async def show(self, request: Request) -> Response:
        form_id = request.path_params["form_id"]
        try:
            view = self.store.lookup(form_id)
        except SecretFormError as exc:
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
        except SecretFormError as exc:
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
        except SecretFormError as exc:
            if exc.reason in (SecretFormError.MISSING_FIELDS, SecretFormError.TOO_LONG,
                              SecretFormError.UNKNOWN_FIELDS):
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


def secret_form_routes(store: SecretFormStore, path_prefix: str = DEFAULT_PATH_PREFIX,
                       public_origin: Callable[[], str | None] = lambda: None) -> list[Route]:
    """`GET` and `POST {path_prefix}/{form_id}`, to mount on any Starlette app. `public_origin` gives the origin
    people open the page at when it differs from the request's own (a reverse proxy)."""
    page = _Page(store, public_origin)
    path = f"/{path_prefix.strip('/')}/{{form_id}}"
    return [Route(path, page.show, methods=["GET"]), Route(path, page.submit, methods=["POST"])]


# --------------------------------------------------------------------------- the on-demand listener


# The SDK's allowlist language: exact "host:port", or "host:*" for any port.
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
_PORT = re.compile(r":\d+$")


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower()
    patterns = {a.lower() for a in allowed}
    name = _PORT.sub("", host)
    return host in patterns or f"{name}:*" in patterns


class SecretFormGuard:
    """In front of the page, wherever it is served: refuse a Host outside the allowlist (DNS rebinding) and put
    the security headers on every answer under `prefix`, including a router's own 404/405. The SDK guards /mcp
    only, so the HTTP transport adds this for the page; the loopback listener guards everything with it."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = LOOPBACK_HOSTS, prefix: str = "/") -> None:
        self.app, self.allowed, self.prefix = app, tuple(allowed_hosts), prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        if not host_allowed(host, self.allowed):
            await _message("Refused", UNKNOWN_HOST, 421)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                         if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_found_page(request: Request, exc: Exception) -> Response:
    return _message("Not found", FORM_GONE, 404)


async def _not_allowed_page(request: Request, exc: Exception) -> Response:
    response = _message("Not allowed", "This address only serves secure forms. Open the link exactly as your "
                        "assistant gave it.", 405)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


class SecretFormServer:
    """A `SecretFormStore` plus where its page is reachable.

    Mode (a), HTTP transport: mount `routes()` on the transport's app and call `set_base_url(...)`.
    Mode (b), stdio: `await ensure_listening()` starts a loopback listener on first use; `close()` stops it."""

    def __init__(self, store: SecretFormStore | None = None, *, base_url: str | None = None,
                 path_prefix: str = DEFAULT_PATH_PREFIX, host: str = "127.0.0.1") -> None:
        self.store = store if store is not None else SecretFormStore()
        self.path_prefix = f"/{path_prefix.strip('/')}"
        self.host = host
        self._base_url = base_url.rstrip("/") if base_url else None
        self._listener: LoopbackServer | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretFormServer(base_url={self._base_url!r}, listening={self.listening}, store={self.store!r})"

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def listening(self) -> bool:
        """True when this object runs its own loopback listener."""
        return self._listener is not None

    def routes(self) -> list[Route]:
        return secret_form_routes(self.store, self.path_prefix,
                                  lambda: origin_of(self._base_url) if self._base_url else None)

    def set_base_url(self, base_url: str) -> None:
        """Mode (a): the page is served by someone else's app at `base_url` (e.g. "http://127.0.0.1:8000")."""
        with self._lock:
            self._base_url = base_url.rstrip("/")

    def start_listening(self) -> str:
        """Blocking: start the loopback listener unless a base URL is known already; returns the base URL."""
        with self._lock:
            if self._base_url is not None:
                return self._base_url
            app = SecretFormGuard(Starlette(routes=self.routes(), exception_handlers={
                404: _not_found_page, 405: _not_allowed_page}))
            self._listener = LoopbackServer(app, host=self.host).start()
            self._base_url = self._listener.url
        log.info("secure form page listening on %s%s/", self._base_url, self.path_prefix)
        return self._base_url

    async def ensure_listening(self) -> str:
        """Async `start_listening()`: the blocking start runs in a worker thread."""
        if self._base_url is not None:
            return self._base_url
        return await anyio.to_thread.run_sync(self.start_listening)

    def url_for(self, form_id: str) -> str:
        if self._base_url is None:
            raise RuntimeError("secure form page has no address yet: call ensure_listening() or set_base_url()")
        return f"{self._base_url}{self.path_prefix}/{form_id}"

    async def create_form(self, *, owner: str, subject: str, fields: list[SecretField],
                          purpose: dict[str, str]) -> tuple[SecretForm, str]:
        """Make sure the page is reachable, create the form and return it with its URL."""
        await self.ensure_listening()
        form = self.store.create(owner=owner, subject=subject, fields=fields, purpose=purpose)
        return form, self.url_for(form.id)

    def close(self) -> None:
        """Stop the loopback listener if this object started one (mode (a) base URLs are kept)."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                self._base_url = None
        if listener is not None:
            listener.stop()
            log.info("secure form page listener stopped")

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> SecretFormServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> SecretFormServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

