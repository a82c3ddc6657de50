"""`HeapSettler` (server/transports.py): what modules imported after the start add is frozen out of the collector's
generations at the next idle moment, and nothing is done while no module was imported."""

from __future__ import annotations

import gc
import sys
import types

from integrations_mcp.server.transports import HeapSettler


def test_the_heap_is_settled_only_after_modules_were_imported() -> None:
    settle = HeapSettler()
    gc.unfreeze()
    try:
        settle()
        assert gc.get_freeze_count() == 0  # nothing imported since: no collection, nothing frozen
        sys.modules["_heap_settler_probe"] = types.ModuleType("_heap_settler_probe")  # as a first use imports one
        settle()
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        settle()
        assert gc.get_freeze_count() == frozen  # once per import, not on every idle moment
    finally:
        sys.modules.pop("_heap_settler_probe", None)
        gc.unfreeze()
