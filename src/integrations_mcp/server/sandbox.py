"""--sandbox: every vendor's emulator on a loopback port, and settings pointing at them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS

__all__ = ["sandbox"]


@contextmanager
def sandbox(settings: Settings) -> Iterator[tuple[Settings, dict[str, str]]]:
    """`settings` with every vendor pointed at its emulator on 127.0.0.1 (random ports), and the emulators'
    URLs; the emulators stop on exit."""
    with ExitStack() as stack:
        vendors, urls = {}, {}
        for vendor in VENDORS:
            vendors[vendor.name], urls[vendor.name] = vendor.start_sandbox(stack)
        yield dataclasses.replace(settings, vendors=vendors), urls
