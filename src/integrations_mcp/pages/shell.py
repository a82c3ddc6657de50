"""The shell of every page a person opens (secure forms, approvals): one document, one stylesheet, one set of
security headers, and the texts of the listener itself. Each kind of page has its own texts (`secure_forms.texts`,
`approvals.page`); each says what the person can do next, not only what went wrong."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

__all__ = ["NO_PAGE", "SECURITY_HEADERS", "UNKNOWN_HOST", "document", "message"]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it a same-origin POST carries `Origin: null`, and over plain http to a name other than
    # localhost (a published container port) Chromium sends no Sec-Fetch-Site to vouch for it. Other sites still
    # get no referrer, so the link (a capability) never leaves the page's own origin.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:38rem;margin:2rem auto;padding:0 1rem;line-height:1.5;"
         "color:#1a1a1a;background:#fff}h1{font-size:1.5rem}"
         "label{display:block;margin-top:1.25rem;font-weight:600}"
         ".hint{margin:.1rem 0 .3rem;color:#444;font-size:.9rem}"
         "input{display:block;width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;border:1px solid #555}"
         "input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}"
         "button{margin-top:1.5rem;margin-right:.75rem;padding:.6rem 1.6rem;font-size:1rem;cursor:pointer}"
         "table{border-collapse:collapse;margin:.75rem 0;width:100%}th,td{text-align:left;vertical-align:top;"
         "padding:.35rem .5rem;border-bottom:1px solid #ccc}th{font-weight:600}"
         ".change{background:#f4f7fb;border-left:4px solid #1a5fb4;padding:.5rem .75rem .5rem 2rem}"
         "[role=alert]{border:2px solid #b00020;padding:.5rem .75rem;color:#6d0016;background:#fff5f6}"
         "[aria-invalid=true]{border:2px solid #b00020}")

NO_PAGE = ("There is nothing at this address. Check that the link is complete, or ask your assistant for a new "
           "link.")
UNKNOWN_HOST = ("This server does not answer to this address. Open the link exactly as your assistant gave it, "
                "or ask your assistant for a new link.")


def document(title: str, body: str, status: int = 200, *, head: str = "",
             scripts: tuple[str, ...] = ()) -> HTMLResponse:
    """`head`: more of the document's head (e.g. a sign-in's `<meta http-equiv="refresh">`), already escaped;
    `scripts`: same-origin paths the page loads (a sign-in method's; the CSP allows no other script)."""
    loaded = "".join(f'<script src="{escape(src)}" defer></script>' for src in scripts)
    page = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex, nofollow">'
            f"<title>{escape(title)}</title><style>{STYLE}</style>{head}{loaded}</head>"
            f"<body><main>{body}</main></body></html>\n")
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


def message(title: str, text: str, status: int, *, alert: bool = False) -> HTMLResponse:
    role = ' role="alert"' if alert else ""
    return document(title, f"<h1>{escape(title)}</h1><p{role}>{escape(text)}</p>", status)
