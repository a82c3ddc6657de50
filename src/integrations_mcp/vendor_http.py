"""What every vendor client does the same way: send one request, turn transport failures into tool errors that
name the next step, log the outcome (operation and status only: never bodies, which may hold secrets), and read
an answer as a typed record."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import httpx2
from pydantic import BaseModel, ValidationError

from integrations_mcp.errors import VendorUnavailable
from integrations_mcp.lazy_http import HttpRequester

__all__ = ["send", "vendor_record"]

log = logging.getLogger(__name__)


async def send(http: HttpRequester, vendor: str, operation: str, method: str, path: str, *,
               url_setting: str, **request: Any) -> tuple[httpx2.Response, Any]:
    """The response and its JSON body (None when it is not JSON). `url_setting` names the setting to check when
    the vendor cannot be reached."""
    try:
        response = await http.request(method, path, **request)
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:  # the request never left
        raise VendorUnavailable(vendor, operation, f"could not connect to {vendor} ({type(exc).__name__}); nothing "
                                "was sent.", hint=f"Check {url_setting} and the network, then try again.",
                                not_sent=True) from None
    except httpx2.TimeoutException:
        # After a write, run_write adds that it may have happened and how to find out.
        hint = "Try again shortly." if method == "GET" else None
        raise VendorUnavailable(vendor, operation, "the request timed out.", hint=hint) from None
    except httpx2.TransportError as exc:
        raise VendorUnavailable(vendor, operation, f"could not reach {vendor} ({type(exc).__name__}).",
                                hint=f"Check {url_setting} and the network, then try again.") from None
    log.info("%s %s %s -> %s", vendor, operation, method, response.status_code)
    try:
        return response, response.json()
    except ValueError:
        return response, None


M = TypeVar("M", bound=BaseModel)


def vendor_record(model: type[M], data: Any, vendor: str, operation: str, *, hint: str | None = None) -> M:
    """`data` from the vendor as `model`; an answer of another shape is a vendor fault with a clear message, not a
    bare "Error executing tool"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "the record"
        raise VendorUnavailable(vendor, operation, f"{vendor} sent an answer this server cannot read ({where}).",
                                hint=hint or "Try again; if it persists, report it.") from None
