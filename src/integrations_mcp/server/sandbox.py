"""--sandbox: the vendor emulators on loopback ports, and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pydantic import SecretStr

from integrations_mcp.emulators import cxengage, revcent
from integrations_mcp.loopback import serve_loopback
from integrations_mcp.server.settings import CxEngageSettings, RevCentSettings, Settings

__all__ = ["Sandbox", "sandbox"]


@dataclass
class Sandbox:
    settings: Settings
    urls: dict[str, str] = field(default_factory=dict)


@contextmanager
def sandbox(*, read_only: bool = False) -> Iterator[Sandbox]:
    """Start every emulator on 127.0.0.1 (random ports) and yield settings that use them. The CxEngage tenant is
    pinned to the sandbox tenant, as CXENGAGE_TENANT_ID would pin it."""
    with ExitStack() as stack:
        rc = stack.enter_context(serve_loopback(revcent.RevCentEmulator(api_key=revcent.SANDBOX_API_KEY).app))
        cx = stack.enter_context(serve_loopback(cxengage.CxEngageEmulator().app))
        settings = Settings(
            revcent=RevCentSettings(SecretStr(revcent.SANDBOX_API_KEY), rc.url + "/v2"),
            cxengage=CxEngageSettings(SecretStr(cxengage.SANDBOX_API_KEY), SecretStr(cxengage.SANDBOX_API_SECRET),
                                      cx.url, tenant_id=cxengage.SANDBOX_TENANT_ID),
            read_only=read_only)
        yield Sandbox(settings=settings, urls={"revcent": rc.url, "cxengage": cx.url})
