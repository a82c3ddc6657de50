"""What the calling client can do for the person, per protocol era: the one reading both the confirm stage (form
elicitation) and the secure form hand-off (URL elicitation) rely on."""

from __future__ import annotations

from mcp.server.mcpserver import Context

__all__ = ["can_ask_in_a_form", "can_open_urls", "is_modern"]

MODERN = "2026-07-28"  # no server-initiated requests: elicitation rides an input-required result and a retry


def is_modern(ctx: Context) -> bool:
    return (ctx.protocol_version or "") >= MODERN


def can_ask_in_a_form(ctx: Context) -> bool:
    """A form elicitation the client declared (`{}` means form); on 2025-era sessions also a channel to send it on."""
    elicitation = _elicitation(ctx)
    if elicitation is None or (elicitation.url is not None and elicitation.form is None):
        return False
    return _reachable(ctx)


def can_open_urls(ctx: Context) -> bool:
    """A URL elicitation the client declared, and a way to send it."""
    elicitation = _elicitation(ctx)
    return elicitation is not None and elicitation.url is not None and _reachable(ctx)


def _elicitation(ctx: Context):  # noqa: ANN202 - the SDK's ElicitationCapability or None
    capabilities = ctx.client_capabilities
    return capabilities.elicitation if capabilities else None


def _reachable(ctx: Context) -> bool:
    return is_modern(ctx) or bool(getattr(ctx.session, "can_send_request", False))
