"""What a vendor package gives the server: how to read its settings, how to register its tools and prompts, where
its guides are, and how to run it on the sandbox."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp.server.mcpserver import MCPServer

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.lazy_http import HttpClients
from integrations_mcp.pipeline.write import WriteServices
from integrations_mcp.secure_forms.handoff import Handoffs
from integrations_mcp.secure_forms.listener import SecureFormServer
from integrations_mcp.toolkit.calls import hidden_arguments
from integrations_mcp.toolkit.completions import PromptCompletions
from integrations_mcp.toolkit.registration import ToolSpec

__all__ = ["SANDBOX_REQUESTS_KEPT", "Runtime", "Vendor", "http_url"]

log = logging.getLogger(__name__)

SANDBOX_REQUESTS_KEPT = 200  # a sandbox's emulators remember this many requests, without bodies (they hold secrets)


@dataclass
class Runtime:
    """What the server hands every vendor when it registers: shared settings and shared services."""

    read_only: bool
    timeout_seconds: float
    transport: httpx2.AsyncBaseTransport | None  # the test seam; None means real HTTP
    secure_forms: Callable[[], SecureFormServer]  # the server's own secure form page, made on first use
    writes: WriteServices  # one lock per target and the confirm stage, shared by every vendor's writes
    handoffs: Handoffs  # secure forms handed to the person through the client (URL elicitation)
    http_clients: HttpClients  # vendor HTTP clients: made on first use, closed with the server
    completions: PromptCompletions  # where the prompts' argument values come from

    def hidden(self, name: str) -> bool:
        """Tool arguments the confirmation policy leaves out of the schema."""
        return hidden_arguments(self.writes.confirmer.policy, name)


@dataclass(frozen=True)
class Vendor:
    name: str  # "revcent": guide folder (guide://revcent/...), transport key, settings key
    settings_from_env: Callable[[Mapping[str, str]], Any | None]  # None: this vendor is not configured
    tools: Callable[[Any, Runtime], list[ToolSpec]]  # the vendor's tools, given its settings
    register_prompts: Callable[[MCPServer], None]
    guides_package: str  # the package whose guides/*.md are served as resources
    start_sandbox: Callable[[ExitStack], tuple[Any, str]]  # run the emulator on loopback: (settings, its URL)


def http_url(value: str, variable: str) -> str:
    """A vendor base URL from the environment: http(s), no trailing slash."""
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"{variable} must be an http(s) URL.")
    host = urlsplit(value).hostname or ""
    if value.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        # Allowed for proxies and emulators, but the API key would cross the network in clear text.
        log.warning("%s is plain http on a non-loopback host: the vendor key is sent unencrypted.", variable)
    return value
