"""Assembly: settings in, an MCP server with each configured vendor's tools, guides and prompts out."""

from __future__ import annotations

from importlib.resources import files

import httpx2

from integrations_mcp import __version__
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.guides import common_guides, register_guides
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.toolkit.identity import connection_lifespan
from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.base import Runtime

__all__ = ["build_server"]

INSTRUCTIONS = (
    "Set up and manage third-party integrations safely. Read guide://common/guardrails first. Never ask the "
    "user for credentials or secrets in chat: use a secure form. Never pick option values for the user. Refusals "
    "say what to do next; confirmation flags are set only after the user agreed."
)


def build_server(settings: Settings, *, transports: dict[str, httpx2.AsyncBaseTransport] | None = None,
                 secure_forms: SecureFormServer | None = None) -> IntegrationsServer:
    """`transports` (vendor name -> httpx2 transport) is the test seam; None means real HTTP. `secure_forms`
    serves the server's own secure form page (a loopback listener started on first use unless given)."""
    configured = [vendor for vendor in VENDORS if settings.vendors.get(vendor.name) is not None]
    if not configured:
        raise ConfigurationError("No vendor is configured: set REVCENT_API_KEY (and/or CXENGAGE_API_KEY with "
                                 "CXENGAGE_API_SECRET), or run with --sandbox to try it against the emulators.")
    transports = transports or {}
    forms: list[SecureFormServer] = []

    def shared_forms() -> SecureFormServer:
        if not forms:
            forms.append(secure_forms or SecureFormServer())
        return forms[0]

    specs = []
    for vendor in configured:
        runtime = Runtime(read_only=settings.read_only, timeout_seconds=settings.timeout_seconds,
                          transport=transports.get(vendor.name), secure_forms=shared_forms)
        specs += vendor.tools(settings.vendors[vendor.name], runtime)
    server = IntegrationsServer("integrations-mcp", version=__version__, instructions=INSTRUCTIONS,
                                lifespan=connection_lifespan, tool_specs=specs)
    server.secure_forms = forms[0] if forms else None
    register_guides(server, {"common": common_guides(),
                             **{v.name: files(v.guides_package).joinpath("guides") for v in configured}})
    for vendor in configured:
        vendor.register_prompts(server)
    return server
