"""A server in this process against both vendors' emulators in this process (the sandbox's keys), for the benchmarks
that measure what a model reads or what the output filter sees. Imported by scripts that may run under older source
(`--before`), so it uses only `build_server`'s long-standing arguments."""

from __future__ import annotations

from typing import Any

import httpx2
from pydantic import SecretStr

from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage import emulator as cxengage
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from integrations_mcp.vendors.revcent import emulator as revcent
from integrations_mcp.vendors.revcent.settings import RevCentSettings

VENDORS = ("revcent", "cxengage")


def sandbox_settings(vendors: tuple[str, ...] | set[str] = VENDORS) -> Settings:
    every = {
        "revcent": RevCentSettings(SecretStr(revcent.SANDBOX_API_KEY), "http://revcent.test/v2"),
        "cxengage": CxEngageSettings(SecretStr(cxengage.SANDBOX_API_KEY), SecretStr(cxengage.SANDBOX_API_SECRET),
                                     "http://cxengage.test", tenant_id=cxengage.SANDBOX_TENANT_ID),
    }
    return Settings(vendors={name: value for name, value in every.items() if name in vendors})


def emulated_server(revcent_emulator: Any = None, cxengage_emulator: Any = None,
                    vendors: tuple[str, ...] | set[str] = VENDORS) -> Any:
    """Our server for `vendors`, talking to the given emulators (new ones if not given) over ASGI."""
    rc = revcent_emulator or revcent.RevCentEmulator()
    cx = cxengage_emulator or cxengage.CxEngageEmulator()
    return build_server(sandbox_settings(vendors),
                        transports={"revcent": httpx2.ASGITransport(app=rc.app),
                                    "cxengage": httpx2.ASGITransport(app=cx.app)},
                        secure_forms=SecureFormServer(base_url="http://127.0.0.1:1"))
