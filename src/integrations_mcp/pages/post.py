"""Reading a page's POST: the one rule for what counts as the person's own submit (`origin`), then the body, read
as it streams and refused as soon as it is too large (a declared length is refused before anything is read), so a
huge or endless POST costs at most the page's small limit in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

from integrations_mcp.pages.origin import origin_of, submitted_from_own_page

__all__ = ["PostRefused", "read_own_post"]

FORM_ENCODING = "application/x-www-form-urlencoded"


@dataclass
class PostRefused(Exception):
    """Why a POST was not read; each page says it in its own words."""

    reason: str  # one of the constants below
    status: int

    CROSS_SITE = "cross_site"  # not from the page's own form in a browser
    ENCODING = "encoding"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"  # not UTF-8 form fields, too many, or a field sent twice


async def read_own_post(request: Request, public_origin: Callable[[], str | None], *, max_bytes: int,
                        max_fields: int) -> dict[str, str]:
    """The submitted fields of a POST from the page's own form; PostRefused otherwise."""
    own = [origin_of(str(request.url)), *filter(None, [public_origin()])]
    if not submitted_from_own_page(request.headers, own):
        raise PostRefused(PostRefused.CROSS_SITE, 403)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_ENCODING:
        raise PostRefused(PostRefused.ENCODING, 415)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise PostRefused(PostRefused.TOO_LARGE, 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PostRefused(PostRefused.TOO_LARGE, 413)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PostRefused(PostRefused.UNREADABLE, 400) from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:  # a repeated name is never sent by the page itself
            raise PostRefused(PostRefused.UNREADABLE, 400)
        fields[key] = value
    return fields
