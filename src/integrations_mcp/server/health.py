"""`GET /healthz`: for Docker's HEALTHCHECK and orchestrators. No auth, nothing secret: the version and whether each
vendor is configured (not whether its keys work: that would call the vendor on every probe)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from integrations_mcp import __version__
from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS

__all__ = ["health_route"]


def health_route(settings: Settings, path: str = "/healthz") -> Route:
    body = {"status": "ok", "version": __version__,
            "vendors": {vendor.name: {"configured": vendor.name in settings.configured_vendors} for vendor in VENDORS}}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return Route(path, health, methods=["GET"])
