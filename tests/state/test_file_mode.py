"""Issue 18 item 6: the state file is private. The default SQLite file is created 0600 in a 0700 folder, and a file
or default folder found open to other users is made private at start, with a warning naming it."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from integrations_mcp.state.store import StateStore, default_url

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> object:
    """The usual umask (022), under which SQLite alone would create a 0644 file."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_default_file_is_created_0600_in_a_0700_folder(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = StateStore(default_url())
    async with store.begin() as conn:
        await conn.execute(text("select 1"))
    await store.close()
    assert mode(tmp_path / "data" / "integrations-mcp") == 0o700
    assert mode(tmp_path / "data" / "integrations-mcp" / "state.sqlite3") == 0o600


async def test_a_wider_default_folder_and_file_are_made_private_at_start(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "data" / "integrations-mcp"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    store = StateStore(default_url())
    async with store.begin() as conn:
        await conn.execute(text("select 1"))
    await store.close()
    file = folder / "state.sqlite3"
    file.chmod(0o644)  # as SQLite made it before, or as a copy left it
    caplog.set_level(logging.WARNING)
    StateStore(default_url()).check_version()  # what `serve` runs at start
    assert mode(folder) == 0o700 and mode(file) == 0o600
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert str(file) in warned and "644" in warned and "owner only" in warned


async def test_a_given_file_is_created_private_too(tmp_path: Path) -> None:
    store = StateStore(f"sqlite+aiosqlite:///{tmp_path}/given.sqlite3")
    async with store.begin() as conn:
        await conn.execute(text("select 1"))
    await store.close()
    assert mode(tmp_path / "given.sqlite3") == 0o600
