"""`HeapSettler` (server/transports.py): what modules imported after the start add is frozen out of the collector's
generations at the next idle moment, and nothing is done while no module was imported."""

from __future__ import annotations

import gc
import sys
import types
from typing import Any

from integrations_mcp.server.transports import HeapSettler


def test_the_heap_is_settled_only_after_modules_were_imported() -> None:
    settle = HeapSettler()
    full_collections: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full_collections.append(1)

    gc.unfreeze()
    gc.callbacks.append(count)
    gc.disable()  # only the settler's own collections are counted
    try:
        settle()
        assert gc.get_freeze_count() == 0 and not full_collections  # nothing imported since: nothing done
        sys.modules["_heap_settler_probe"] = types.ModuleType("_heap_settler_probe")  # as a first use imports one
        settle()
        assert gc.get_freeze_count() > 0 and len(full_collections) == 1  # collected, then frozen
        settle()
        assert len(full_collections) == 1  # once per import, not on every idle moment
    finally:
        gc.enable()
        gc.callbacks.remove(count)
        sys.modules.pop("_heap_settler_probe", None)
        gc.unfreeze()
