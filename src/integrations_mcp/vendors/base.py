"""What a vendor package gives the server: how to read its settings, how to register its tools and prompts, where
its guides are, and how to run it on the sandbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.pipeline.policy import ConfirmationPolicy, hidden_arguments

if TYPE_CHECKING:  # the write path's modules are imported by the first call that needs them (cold start)
    import httpx2
    from mcp.server.mcpserver import MCPServer

    from integrations_mcp.lazy_http import HttpClients
    from integrations_mcp.pipeline.write import WriteServices
    from integrations_mcp.secure_forms.handoff import Handoffs
    from integrations_mcp.secure_forms.server import SecureFormServer
    from integrations_mcp.state.journal import ChangeRow
    from integrations_mcp.state.store import StateStore
    from integrations_mcp.toolkit.completions import PromptCompletions
    from integrations_mcp.toolkit.registration import ToolSpec

__all__ = ["SANDBOX_REQUESTS_KEPT", "Fact", "Finding", "Reverter", "Runtime", "Vendor", "env_value", "http_url",
           "is_placeholder"]

log = logging.getLogger(__name__)

SANDBOX_REQUESTS_KEPT = 200  # a sandbox's emulators remember this many requests, without bodies (they hold secrets)


@dataclass(frozen=True)
class Fact:
    """One fact about a vendor's API that the server relies on. `status` "C": confirmed, `source` cites the
    document; "I": inferred, `source` gives the reason and `settle` how a real account settles it. Each vendor's
    `facts.py` lists its facts (docs/vendor-facts.md shows the same table; a test keeps them equal)."""

    id: str
    status: str  # "C" | "I"
    statement: str
    source: str
    settle: str = ""


@dataclass(frozen=True)
class Finding:
    """What `integrations-mcp check` found about one fact: "held", "failed" or "not checked", and what was seen (key
    names, counts, ids: never a value that could be a secret)."""

    fact: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class Reverter:
    """A vendor's hook for RevertIntegrationChange: its edit stages, built to restore a journaled change's
    before-values (field -> value, keyed as the change's FieldChange.field) for the session `owner`."""

    vendor: str  # as progress messages name it
    edit: Callable[[ChangeRow, dict[str, Any], str], Any]


@dataclass
class Runtime:
    """What the server hands every vendor when it registers: shared settings and shared services."""

    read_only: bool
    timeout_seconds: float
    transport: httpx2.AsyncBaseTransport | None  # the test seam; None means real HTTP
    secure_forms: Callable[[], SecureFormServer]  # the server's own secure form page, made on first use
    # One lock per target and the confirm stage, shared by every vendor's writes: made by the first call that asks.
    writes: Callable[[], WriteServices]
    confirmation: ConfirmationPolicy  # which confirmation arguments the write tools' schemas show
    handoffs: Callable[[], Handoffs]  # forms handed to the person through the client (URL elicitation): on first use
    state: StateStore  # the state database (spent forms; the journal goes through `writes`)
    http_clients: HttpClients  # vendor HTTP clients: made on first use, closed with the server
    completions: PromptCompletions  # where the prompts' argument values come from
    reverters: dict[str, Reverter] = field(default_factory=dict)  # vendor name -> its revert hook, set by `tools`
    # A key for `use` derived from INTEGRATIONS_STATE_KEY (shared by replicas); None without one.
    key: Callable[[str], bytes | None] = lambda use: None

    def hidden(self, name: str) -> bool:
        """Tool arguments the confirmation policy leaves out of the schema."""
        return hidden_arguments(self.confirmation, name)


@dataclass(frozen=True)
class Vendor:
    name: str  # "revcent": guide folder (guide://revcent/...), transport key, settings key
    settings_from_env: Callable[[Mapping[str, str]], Any | None]  # None: this vendor is not configured
    tools: Callable[[Any, Runtime], list[ToolSpec]]  # the vendor's tools, given its settings
    register_prompts: Callable[[MCPServer], None]
    guides_package: str  # the package whose guides/*.md are served as resources
    start_sandbox: Callable[[ExitStack], tuple[Any, str]]  # run the emulator on loopback: (settings, its URL)
    # `integrations-mcp check`: read-only comparison of the configured API with the vendor's facts
    # (settings, transport or None, options) -> findings
    live_check: Callable[..., Awaitable[list[Finding]]] | None = None


# Values a copied configuration snippet leaves in place of a real one: "…", "...", "<your key>", "your-api-key",
# "YOUR_API_KEY", "xxx", "***", "changeme", and "${VAR}" / "${env:VAR}" / "${input:id}" a client did not expand.
# Kept narrow so that no real key, secret, UUID or URL can match. The ellipsis is written \u2026: a \N{name} makes `re`
# load Unicode's name table (0.4 MB resident for the server's whole life).
_PLACEHOLDER = re.compile(r"""(?ix)
    .*\u2026.* | \.{3,} | <[^<>]*> | \$\{[^{}]*\} | your[\s_-].* | x{3,} | \*{3,} | change[\s_-]?me
""")


def is_placeholder(value: str) -> bool:
    """Whether `value` is an obvious placeholder left from a configuration snippet, rather than a setting."""
    return _PLACEHOLDER.fullmatch(value.strip()) is not None


def env_value(env: Mapping[str, str], name: str) -> str:
    """The variable's value, stripped; "" when unset, blank or a placeholder (the server warns about those, see
    server/settings.py), so a snippet's untouched optional lines leave the setting off instead of failing."""
    value = env.get(name, "").strip()
    return "" if is_placeholder(value) else value


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
