"""RevCent: commerce integrations (tax, shipping, offline payment, AI, AI voice)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from integrations_mcp.once import Once
from integrations_mcp.toolkit.registration import ToolSpec, deferred_tool_specs
from integrations_mcp.vendors.base import SANDBOX_REQUESTS_KEPT, Reverter, Runtime, Vendor
from integrations_mcp.vendors.revcent.completions import add_completions
from integrations_mcp.vendors.revcent.prompts import register_prompts
from integrations_mcp.vendors.revcent.settings import RevCentSettings

__all__ = ["VENDOR"]


def _tools(settings: RevCentSettings, runtime: Runtime) -> list[ToolSpec]:
    http = runtime.http_clients.client(base_url=settings.base_url + "/", timeout=runtime.timeout_seconds,
                                      transport=runtime.transport, headers={"accept": "application/json"})
    if settings.credentials_via == "server-form":
        runtime.secure_forms()  # the page this path needs (it listens only once a form is made)

    def client() -> Any:  # by the first call of a RevCent tool, revert or completion: the client imports the records
        from integrations_mcp.vendors.revcent.client import RevCentClient

        return RevCentClient(http, settings)

    def make() -> Any:  # by the first call of a RevCent tool (or revert): the tools import the write path's parts
        from integrations_mcp.vendors.revcent.form_handles import FormHandles
        from integrations_mcp.vendors.revcent.server_forms import ServerForms
        from integrations_mcp.vendors.revcent.tools import RevCentTools

        return RevCentTools(api(), runtime.writes(), runtime.handoffs(), via=settings.credentials_via,
                            server_forms=ServerForms(runtime.secure_forms), state=runtime.state,
                            handles=FormHandles(runtime.key("revcent-form-handles")))

    api, tools = Once(client), Once(make)
    add_completions(runtime.completions, api)
    runtime.reverters["revcent"] = Reverter("RevCent", lambda *change: tools().revert_edit(*change))
    return deferred_tool_specs(f"{__name__}.tools", tools, read_only=runtime.read_only,
                               guard=_refuse_secret_arguments, hidden=runtime.hidden)


def _rules_guard() -> Callable[[dict[str, Any]], None]:
    from integrations_mcp.vendors.revcent.rules import refuse_secret_arguments

    return refuse_secret_arguments


# `rules.refuse_secret_arguments`, imported by the first call (the rules import the whole write path, which listing
# the tools does not need: cold start) and kept: a from-import in the guard itself costs ~2.7 µs on every call.
_guard = Once(_rules_guard)


def _refuse_secret_arguments(arguments: dict[str, Any]) -> None:
    _guard()(arguments)


def _sandbox(stack: ExitStack) -> tuple[Any, str]:
    from pydantic import SecretStr

    from integrations_mcp.loopback import serve_loopback_on_demand
    from integrations_mcp.vendors.revcent.emulator.fixtures import SANDBOX_API_KEY

    def emulator_app() -> Any:  # imported and built by the first request (serve_loopback_on_demand)
        from integrations_mcp.vendors.revcent.emulator import RevCentEmulator

        return RevCentEmulator(api_key=SANDBOX_API_KEY, keep_requests=SANDBOX_REQUESTS_KEPT).app

    listener = stack.enter_context(serve_loopback_on_demand(emulator_app))
    return RevCentSettings(SecretStr(SANDBOX_API_KEY), listener.url + "/v2"), listener.url


async def _live_check(settings: Any, transport: Any = None, **options: Any) -> Any:
    from integrations_mcp.vendors.revcent.live_check import check

    return await check(settings, transport, **options)


VENDOR = Vendor(name="revcent", settings_from_env=RevCentSettings.from_env, tools=_tools,
                register_prompts=register_prompts, guides_package=__name__, start_sandbox=_sandbox,
                live_check=_live_check)
