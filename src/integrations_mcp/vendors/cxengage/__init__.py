"""CxEngage: contact-centre integrations (Salesforce, Zendesk, REST, ...) of a tenant."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from integrations_mcp.once import Once
from integrations_mcp.toolkit.registration import ToolSpec, deferred_tool_specs
from integrations_mcp.vendors.base import SANDBOX_REQUESTS_KEPT, Reverter, Runtime, Vendor
from integrations_mcp.vendors.cxengage.completions import add_completions
from integrations_mcp.vendors.cxengage.prompts import register_prompts
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

__all__ = ["VENDOR"]


def _tools(settings: CxEngageSettings, runtime: Runtime) -> list[ToolSpec]:
    http = runtime.http_clients.client(base_url=settings.base_url + "/v1/", timeout=runtime.timeout_seconds,
                                      transport=runtime.transport, headers={"accept": "application/json"})
    # A tenant pinned by configuration is not a tool argument: the server fills it in.
    fixed = {"tenant_id": settings.tenant_id} if settings.tenant_id else None
    add_completions(runtime.completions)
    forms = runtime.secure_forms()

    def make() -> Any:  # by the first call of a CxEngage tool (or revert): the tools import the client and models
        from integrations_mcp.vendors.cxengage.client import CxEngageClient
        from integrations_mcp.vendors.cxengage.tools import CxEngageTools

        return CxEngageTools(CxEngageClient(http, settings), forms, runtime.writes(), runtime.handoffs())

    tools = Once(make)
    runtime.reverters["cxengage"] = Reverter("CxEngage", lambda *change: tools().revert_edit(*change))
    return deferred_tool_specs(f"{__name__}.tools", tools, read_only=runtime.read_only,
                               guard=_refuse_secret_arguments, fixed=fixed, hidden=runtime.hidden)


def _rules_guard() -> Callable[[dict[str, Any]], None]:
    from integrations_mcp.vendors.cxengage.rules import refuse_secret_arguments

    return refuse_secret_arguments


# `rules.refuse_secret_arguments`, imported by the first call (the rules import the whole write path, which listing
# the tools does not need: cold start) and kept: a from-import in the guard itself costs ~2.7 µs on every call.
_guard = Once(_rules_guard)


def _refuse_secret_arguments(arguments: dict[str, Any]) -> None:
    _guard()(arguments)


def _sandbox(stack: ExitStack) -> tuple[Any, str]:
    from pydantic import SecretStr

    from integrations_mcp.loopback import serve_loopback_on_demand
    from integrations_mcp.vendors.cxengage.emulator.fixtures import (
        SANDBOX_API_KEY,
        SANDBOX_API_SECRET,
        SANDBOX_TENANT_ID,
    )

    def emulator_app() -> Any:  # imported and built by the first request (serve_loopback_on_demand)
        from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator

        return CxEngageEmulator(keep_requests=SANDBOX_REQUESTS_KEPT).app

    listener = stack.enter_context(serve_loopback_on_demand(emulator_app))
    settings = CxEngageSettings(SecretStr(SANDBOX_API_KEY), SecretStr(SANDBOX_API_SECRET), listener.url,
                                tenant_id=SANDBOX_TENANT_ID)
    return settings, listener.url


async def _live_check(settings: Any, transport: Any = None, **options: Any) -> Any:
    from integrations_mcp.vendors.cxengage.live_check import check

    return await check(settings, transport, **options)


VENDOR = Vendor(name="cxengage", settings_from_env=CxEngageSettings.from_env, tools=_tools,
                register_prompts=register_prompts, guides_package=__name__, start_sandbox=_sandbox,
                live_check=_live_check)
