"""Did a POST come from the page's own form in a browser? One rule for every page a person submits (secure forms,
approvals).

What browsers send with the person's own submit:
- `Sec-Fetch-Site: same-origin` (every current browser), and
- `Origin: <the page's origin>` (ours are served with `Referrer-Policy: same-origin`), or `Origin: null` from a
  page served with `no-referrer`, accepted only together with `Sec-Fetch-Site: same-origin`. Browsers send
  `Sec-Fetch-*` only to trustworthy origins (https, localhost): over plain http to another name the page's own
  `Origin` is the proof.
A post from another page carries `Sec-Fetch-Site: cross-site` or `same-site` (another port of the same host is
same-site) and that page's origin. A POST with neither header is not what a browser's page sends (curl, a script,
an agent's shell): refused. This stops a program that does not pretend to be a browser; one that forges both headers
is stopped only by not having the page's link (docs/threat-model.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["origin_of", "submitted_from_own_page"]


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, as browsers write it in `Origin`."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def submitted_from_own_page(headers: Mapping[str, str], own_origins: Iterable[str]) -> bool:
    """`headers`: the request's (case-insensitive mapping); `own_origins`: where the page is served from (the
    request's own origin, plus a configured public address behind a proxy)."""
    fetch_site = (headers.get("sec-fetch-site") or "").strip().lower()
    origin = (headers.get("origin") or "").strip().rstrip("/").lower()
    own = origin in {o.rstrip("/").lower() for o in own_origins}
    if fetch_site:
        return fetch_site == "same-origin" and (own or origin in ("", "null"))
    return own
