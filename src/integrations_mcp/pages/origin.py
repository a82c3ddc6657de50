"""Did a form POST come from the form's own page? One rule for every secure form page.

What browsers send with the person's own submit:
- `Sec-Fetch-Site: same-origin` (every current browser), and
- `Origin: <the page's origin>` (ours are served with `Referrer-Policy: same-origin`), or `Origin: null` from a
  page served with `no-referrer` (ours were), so `null` alone proves nothing and is accepted only together with
  `Sec-Fetch-Site: same-origin`. Browsers send `Sec-Fetch-*` only to trustworthy origins (https, localhost): over
  plain http to another name the page's own `Origin` is the proof.
A post from another page carries `Sec-Fetch-Site: cross-site` or `same-site` (another port of the same host is
same-site) and that page's origin. A client that is not a browser sends neither header: it is not a CSRF vector
(it cannot ride the person's session) and still needs the form's anti-forgery token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["origin_of", "submitted_from_own_page"]

_TRUSTED_FETCH_SITES = ("same-origin", "none")  # "none": the person started it (typed the address, a bookmark)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, as browsers write it in `Origin`."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def submitted_from_own_page(headers: Mapping[str, str], own_origins: Iterable[str]) -> bool:
    """`headers`: the request's (case-insensitive mapping); `own_origins`: where the page is served from (the
    request's own origin, plus a configured public address behind a proxy)."""
    fetch_site = (headers.get("sec-fetch-site") or "").strip().lower() or None
    if fetch_site is not None and fetch_site not in _TRUSTED_FETCH_SITES:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin == "null":
        return fetch_site == "same-origin"
    return origin in {o.rstrip("/").lower() for o in own_origins}
