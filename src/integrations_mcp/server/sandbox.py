"""--sandbox: the vendor emulators on loopback ports, and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pydantic import SecretStr

from integrations_mcp.emulators.base import serve_loopback
from integrations_mcp.emulators.revcent import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.server.settings import RevCentSettings, Settings

__all__ = ["Sandbox", "sandbox"]


@dataclass
class Sandbox:
    settings: Settings
    urls: dict[str, str] = field(default_factory=dict)


@contextmanager
def sandbox(*, read_only: bool = False) -> Iterator[Sandbox]:
    """Start every emulator on 127.0.0.1 (random ports) and yield settings that use them."""
    with ExitStack() as stack:
        revcent = stack.enter_context(serve_loopback(RevCentEmulator(api_key=SANDBOX_API_KEY).app))
        settings = Settings(revcent=RevCentSettings(SecretStr(SANDBOX_API_KEY), revcent.url + "/v2"),
                            read_only=read_only)
        yield Sandbox(settings=settings, urls={"revcent": revcent.url})
