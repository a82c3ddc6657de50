"""Assembly: settings in, an MCP server with each configured vendor's tools, guides and prompts out."""

from __future__ import annotations

import httpx2

from integrations_mcp import __version__
from integrations_mcp.clients.cxengage import CxEngageClient, cxengage_http_client
from integrations_mcp.clients.revcent import RevCentClient, revcent_http_client
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.guides import register_guides
from integrations_mcp.server.core import IntegrationsServer
from integrations_mcp.server.identity import connection_lifespan
from integrations_mcp.server.prompts import register_prompts
from integrations_mcp.server.secret_form_page import SecretFormServer
from integrations_mcp.server.settings import Settings
from integrations_mcp.tools import cxengage as cxengage_tools
from integrations_mcp.tools import revcent as revcent_tools

__all__ = ["build_server"]

INSTRUCTIONS = (
    "Set up and manage third-party integrations safely. Read guide://common/guardrails first. Never ask the "
    "user for credentials or secrets in chat: use a secure form. Never pick option values for the user. Refusals "
    "say what to do next; confirmation flags are set only after the user agreed."
)


def build_server(settings: Settings, *, transports: dict[str, httpx2.AsyncBaseTransport] | None = None,
                 secret_forms: SecretFormServer | None = None) -> IntegrationsServer:
    """`transports` (vendor name -> httpx2 transport) is the test seam; None means real HTTP. `secret_forms`
    serves the server's own secure form page (a loopback listener started on first use unless given)."""
    if not settings.configured_vendors:
        raise ConfigurationError("No vendor is configured: set REVCENT_API_KEY (and/or CXENGAGE_API_KEY with "
                                 "CXENGAGE_API_SECRET), or run with --sandbox to try it against the emulators.")
    transports = transports or {}
    server = IntegrationsServer("integrations-mcp", version=__version__, instructions=INSTRUCTIONS,
                                lifespan=connection_lifespan)
    if settings.revcent:
        http = revcent_http_client(settings.revcent, timeout=settings.timeout_seconds,
                                   transport=transports.get("revcent"))
        revcent_tools.register(server, RevCentClient(http), read_only=settings.read_only)
    if settings.cxengage:
        http = cxengage_http_client(settings.cxengage, timeout=settings.timeout_seconds,
                                    transport=transports.get("cxengage"))
        server.secret_forms = secret_forms or SecretFormServer()
        cxengage_tools.register(server, CxEngageClient(http, settings.cxengage), server.secret_forms,
                                read_only=settings.read_only, tenant_id=settings.cxengage.tenant_id)
    register_guides(server, ["common", *settings.configured_vendors])
    register_prompts(server, settings.configured_vendors)
    return server
