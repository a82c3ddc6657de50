"""Assembly: settings in, an MCP server with each configured vendor's tools, guides and prompts out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from integrations_mcp import __version__
from integrations_mcp.errors import ConfigurationError
from integrations_mcp.guardrails.outputs import remember_configured_secrets
from integrations_mcp.guides import common_guides, read_guides, register_guides
from integrations_mcp.lazy_http import HttpClients
from integrations_mcp.once import Once
from integrations_mcp.pipeline.policy import ConfirmationPolicy, hidden_arguments
from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.state.keys import derive
from integrations_mcp.state.store import StateStore
from integrations_mcp.toolkit.completions import PromptCompletions
from integrations_mcp.toolkit.identity import connection_lifespan
from integrations_mcp.toolkit.registration import deferred_tool_specs
from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.base import Reverter, Runtime, Vendor

if TYPE_CHECKING:  # the write path, the forms and the approvals: imported when first made (cold start)
    import httpx2

    from integrations_mcp.approvals.store import ApprovalStore
    from integrations_mcp.pages.signin.gate import Gate
    from integrations_mcp.pipeline.write import WriteServices
    from integrations_mcp.secure_forms.handoff import Handoffs
    from integrations_mcp.secure_forms.server import SecureFormServer
    from integrations_mcp.secure_forms.store import FormRecords, SecureFormStore

__all__ = ["approvals", "build_server", "form_store"]

log = logging.getLogger(__name__)

# What every conversation starts with: the rules the model must follow, no reading list. The server enforces them, and
# each refusal says what was wrong and what to do next; the guides are there when a task needs them.
INSTRUCTIONS = (
    "Sets up and manages RevCent and CxEngage integrations. The server enforces the guardrails: a refusal says what "
    "was wrong and what to do next, so follow it. Never ask the user for credentials or secrets in chat: a secure "
    "form collects them. Never pick option values for the user; offer the valid choices. A change the user must "
    "approve is approved by the user, never on their behalf: never open a form or approval link yourself. "
    "GetIntegrationGuide has details when a task needs them."
)


def build_server(settings: Settings, *, transports: dict[str, httpx2.AsyncBaseTransport] | None = None,
                 secure_forms: SecureFormServer | None = None) -> IntegrationsServer:
    """`transports` (vendor name -> httpx2 transport) is the test seam; None means real HTTP. `secure_forms`
    serves the server's own secure form page (a loopback listener started on first use unless given)."""
    configured, instructions = _configured(settings)
    transports = transports or {}
    forms: list[SecureFormServer] = []

    state = StateStore(settings.state_url)
    gate = _gate(settings, state)

    def shared_forms() -> SecureFormServer:
        if not forms:
            from integrations_mcp.secure_forms.server import SecureFormServer

            forms.append(secure_forms or SecureFormServer(
                make_store=lambda: form_store(settings, state), host=settings.forms_host, port=settings.forms_port,
                public_url=settings.public_url, allowed_hosts=settings.allowed_hosts,
                localhost_links="passkey" in settings.signin))
            if gate is not None and gate.required:  # approvers sign in on every page: its pages are served with them
                forms[0].gate = gate
                forms[0].add_pages(gate.routes)
        return forms[0]

    # What only a call uses is made by the first call that needs it (once): the write pipeline (locks, the confirm
    # stage and its approvals, the journal) and each set of tools (`deferred_tool_specs`). What a start must check
    # or serve stays here: the configuration, the sign-in gate, the form and approval pages' routes.
    store = approvals(settings, shared_forms, state, gate)
    writes = Once(lambda: _write_services(settings, state, store, shared_forms, gate))

    def make_handoffs() -> Handoffs:  # one for every vendor
        from integrations_mcp.secure_forms.handoff import Handoffs

        return Handoffs(wait_seconds=settings.form_wait_seconds)

    handoffs = Once(make_handoffs)
    http_clients = HttpClients()
    completions = PromptCompletions()
    specs = []
    reverters: dict[str, Reverter] = {}
    for vendor in configured:
        runtime = Runtime(read_only=settings.read_only, timeout_seconds=settings.timeout_seconds,
                          transport=transports.get(vendor.name), secure_forms=shared_forms, writes=writes,
                          confirmation=settings.confirmation, handoffs=handoffs, state=state, reverters=reverters,
                          http_clients=http_clients, completions=completions,
                          key=lambda use: derive(settings.state_key, use) if settings.state_key else None)
        specs += vendor.tools(settings.vendors[vendor.name], runtime)
    if configured:  # nothing to journal or revert until a vendor is configured
        def journal_tools() -> Any:
            from integrations_mcp.server.journal_tools import JournalTools

            return JournalTools(writes().journal, writes(), reverters)

        specs += deferred_tool_specs("integrations_mcp.server.journal_tools", Once(journal_tools),
                                     read_only=settings.read_only,
                                     hidden=lambda name: hidden_arguments(settings.confirmation, name))
    guides = read_guides({"common": common_guides(),
                          **{v.name: files(v.guides_package).joinpath("guides") for v in configured}})

    def guide_tools() -> Any:
        from integrations_mcp.server.guide_tool import GuideTools

        return GuideTools(guides)

    specs += deferred_tool_specs("integrations_mcp.server.guide_tool", Once(guide_tools),
                                 read_only=settings.read_only)
    # The lists never change while the server runs and resources take no subscriptions: with the SDK's default bus
    # the 2026-07-28 era advertised both, unlike the handshake era.
    server = IntegrationsServer("integrations-mcp", version=__version__, instructions=instructions,
                                lifespan=_lifespan(http_clients), tool_specs=specs, subscriptions=False,
                                **_auth_arguments(settings))
    server.secure_forms = forms[0] if forms else None
    server.state = state
    if settings.state_key and settings.transport == "http":  # replicas bind forms and approvals alike
        server.owner_base = derive(settings.state_key, "sessions").hex()
    server.http_clients = http_clients
    register_guides(server, guides)
    for vendor in configured:
        vendor.register_prompts(server)
    completions.register(server)
    return server


def _configured(settings: Settings) -> tuple[list[Vendor], str]:
    """The vendors to serve and the server's instructions; refuses when none is configured (placeholders aside).
    The configured keys, the state key and the bearer tokens join the output filter's known secrets."""
    configured = [vendor for vendor in VENDORS if settings.vendors.get(vendor.name) is not None]
    if not configured and not settings.placeholders:
        raise ConfigurationError("No vendor is configured: set REVCENT_API_KEY (and/or CXENGAGE_API_KEY with "
                                 "CXENGAGE_API_SECRET), or run with --sandbox to try it against the emulators.")
    remember_configured_secrets((settings.vendors[v.name] for v in configured),
                                also=[settings.state_key, settings.oidc_client_secret,
                                      *(token.secret for token in settings.auth_tokens)])
    if settings.placeholders:
        log.warning("%s still hold(s) a placeholder from a configuration snippet, read as not set: put the real "
                    "value(s) in this server's entry of the MCP client's configuration, or delete the line(s).",
                    ", ".join(settings.placeholders))
    return configured, INSTRUCTIONS if configured else f"{not_configured(settings.placeholders)} {INSTRUCTIONS}"


def not_configured(placeholders: tuple[str, ...]) -> str:
    """A copied snippet still holds only placeholders: the server starts (so the client connects as printed) and
    says, to the model and on stderr, what the person must fill in; only the guides are served meanwhile."""
    message = (f"Not configured yet: {', '.join(placeholders)} still hold(s) a placeholder, so no vendor tools are "
               "served. Tell the person to put the real value in this server's entry of their MCP client's "
               "configuration (never in the chat) and restart the server.")
    log.warning("No vendor is configured: serving only the guides until the placeholders are replaced.")
    return message


def form_store(settings: Settings, state: StateStore) -> SecureFormStore:
    """The server's own secure forms: in the state database, sealed, when a key is set (replicas share them);
    otherwise in this process's memory only (values typed by a person are never written unencrypted)."""
    from integrations_mcp.secure_forms.store import RecordsOnFirstUse, SecureFormStore

    if settings.state_key is None or state.in_memory:
        return SecureFormStore(max_per_owner=settings.limits.session_forms)
    key = derive(settings.state_key, "secrets")

    def records() -> FormRecords:  # on first use: SQLAlchemy and the connection are not needed for tools/list
        from integrations_mcp.secure_forms.persisted import DatabaseRecords

        return DatabaseRecords(state.sync_engine(), key)

    return SecureFormStore(records=RecordsOnFirstUse(records), key=derive(settings.state_key, "form-pages"),
                           max_per_owner=settings.limits.session_forms)


def _auth_arguments(settings: Settings) -> dict[str, Any]:
    """What the SDK is told about auth; HTTP only, so stdio never imports the JWT stack (cold start)."""
    if settings.transport != "http":
        return {}
    from integrations_mcp.server.auth.setup import auth_arguments

    return auth_arguments(settings)


def _lifespan(http_clients: HttpClients) -> Callable[[IntegrationsServer], Any]:
    """The session owner token (`connection_lifespan`), and the vendor HTTP clients closed when the server stops."""

    @asynccontextmanager
    async def lifespan(server: IntegrationsServer) -> AsyncIterator[dict[str, Any]]:
        async with http_clients.in_use(), connection_lifespan(server) as state:
            yield state

    return lifespan


def _gate(settings: Settings, state: StateStore) -> Gate | None:
    """The sign-in approvers need on the pages; None (no sign-in: a page's default) unless INTEGRATIONS_SIGNIN names
    a method (stdio and the sandbox never import the methods, nor the gate)."""
    if not settings.signin:
        return None
    from integrations_mcp.server.signin import sign_in_gate

    return sign_in_gate(settings, state)


def approvals(settings: Settings, pages: Callable[[], SecureFormServer], state: StateStore,
              gate: Gate | None = None) -> Callable[[], ApprovalStore]:
    """The approvals of this server (the store made when first asked), with their page served next to the secure
    form page: registered now, since the HTTP transport mounts the pages' routes at start."""

    def make() -> ApprovalStore:
        from integrations_mcp.approvals.store import ApprovalStore

        key = derive(settings.state_key, "approvals") if settings.state_key else None
        return ApprovalStore(lifetime_seconds=settings.approval_minutes * 60, state=state, key=key,
                             max_pending_per_owner=settings.limits.session_approvals)

    store = Once(make)
    if settings.confirmation == ConfirmationPolicy.PERSON and not settings.read_only:
        def routes(prefix: str, public: Callable[[], str | None]) -> list[Any]:
            from integrations_mcp.approvals.page import approval_routes  # when the listener starts, not at start

            return approval_routes(store(), prefix, public, gate)

        pages().add_pages(routes)
    return store


def _write_services(settings: Settings, state: StateStore, approval_store: Callable[[], ApprovalStore],
                    pages: Callable[[], SecureFormServer], gate: Gate | None) -> WriteServices:
    """One lock per target, the confirm stage and the journal, shared by every write of the server."""
    from integrations_mcp.pipeline.confirm import Confirmer
    from integrations_mcp.pipeline.journal import Journal
    from integrations_mcp.pipeline.locks import WriteLocks
    from integrations_mcp.pipeline.write import WriteServices
    from integrations_mcp.state.journal import JournalTable
    from integrations_mcp.state.locks import Leases

    journal = Journal(JournalTable(state, retention_days=settings.journal_days))
    # No write holds its lock while the person decides any more (the question is asked with the lock released);
    # the wait keeps its earlier, generous bound (an approval's lifetime + 2 min) until it is measured shorter.
    locks = WriteLocks(state, Leases(wait=settings.approval_minutes * 60 + 120))
    return WriteServices(locks, Confirmer(settings.confirmation, approval_store(), pages=pages,
                                          sign_in=gate is not None and gate.required,
                                          wait_seconds=settings.form_wait_seconds), journal)
