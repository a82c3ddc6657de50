"""Writes serialised across processes sharing one SQLite state file (`state/locks.py`): on Linux an OS lock on a byte
of `<file>-locks` per key (open-file-description locks), elsewhere leases in `write_locks`. Two stores on one file
(each its own connections and lock files, as two processes have), two writers of one process, a cancelled holder and
a cancelled waiter, a holder killed mid-write, real processes writing one key and the journal, and two real
`integrations-mcp serve` stdio processes editing one integration at once.

No assertion on time: a writer that must wait is shown waiting by what it did not do while the other held the key
(events, not pauses), and a lock that must be free is taken with `wait=0` (refused at once if held)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select

from integrations_mcp.errors import GuardrailError
from integrations_mcp.loopback import serve_loopback
from integrations_mcp.pipeline.locks import WriteLocks
from integrations_mcp.state import locks
from integrations_mcp.state.locks import OS_LOCKS, Leases
from integrations_mcp.state.schema import journal, write_locks
from integrations_mcp.state.store import StateStore
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY
from tests.harness import revcent_emulator, serve_stdio, text_of
from tests.vendors.revcent.helpers import static_single_select

pytestmark = pytest.mark.anyio

KEY = "revcent:integration:X"
WAIT = Leases(lease=5.0, renew_every=0.5, wait=60.0, poll_max=0.02)  # waits (a hang fails the test, not a pause)
NOW = Leases(lease=5.0, renew_every=0.5, wait=0.0, poll_max=0.02)  # refused at once when held
os_locks_only = pytest.mark.skipif(not OS_LOCKS, reason="open-file-description locks are Linux's")


@pytest.fixture(params=["os", "leases"] if OS_LOCKS else ["leases"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test of both mechanisms runs with each this platform has (leases: what macOS and Windows use)."""
    if request.param == "leases":
        monkeypatch.setattr(locks, "OS_LOCKS", False)
    return request.param


def file_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def leases_left(store: StateStore) -> int:
    async with store.begin() as conn:
        return (await conn.execute(select(func.count()).select_from(write_locks))).scalar_one()


@asynccontextmanager
async def two_stdio_servers_and_an_integration(tmp_path: Path, name: str) -> AsyncIterator[tuple[Any, Any, Any, str]]:
    """Two stdio servers on one SQLite state file against one RevCent emulator, and a user integration created by the
    first: (emulator, a, b, its id)."""
    emu = revcent_emulator()
    with serve_loopback(emu.app) as vendor:
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "INTEGRATIONS_STATE_URL": file_url(tmp_path), "INTEGRATIONS_CONFIRMATION": "model"}
        async with serve_stdio(env=env) as a, serve_stdio(env=env) as b:
            created = await a.client.call_tool("CreateUserThirdPartyIntegration", {
                "name": name, "site_third_party_integration": emu.site_id("tax")})
            yield emu, a, b, created.structured_content["user_third_party_integration_id"]


async def free(store: StateStore, key: str = KEY) -> bool:
    """The key's lock is free (taken and given back at once), as another process would find it."""
    try:
        async with WriteLocks(store, NOW).hold([key]):
            return True
    except GuardrailError:
        return False


async def test_writers_of_one_key_take_turns_across_stores_and_within_one(tmp_path: Path, mechanism: str) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    inside: list[str] = []
    overlaps: list[bool] = []

    async def write(store: StateStore, name: str) -> None:
        # A WriteLocks each: the in-process locks alone would let every one of them in together.
        async with WriteLocks(store, WAIT).hold([KEY]):
            inside.append(name)
            overlaps.append(len(inside) > 1)
            for _ in range(20):  # give every other writer its chance to get in
                await anyio.sleep(0)
            await anyio.sleep(0.01)
            inside.remove(name)

    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(write, a, f"a{n}")
            tg.start_soon(write, b, f"b{n}")
            tg.start_soon(write, a, f"a{n}'")  # two tasks of one process on one store
    assert overlaps == [False] * 9
    assert await free(a) and await free(b)
    if mechanism == "leases":
        assert await leases_left(a) == 0
    await a.close(), await b.close()


async def test_other_keys_do_not_wait_and_a_held_key_is_refused_after_the_bound(tmp_path: Path,
                                                                                  mechanism: str) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    async with WriteLocks(a, WAIT).hold([KEY, "revcent:name:tax"]):
        assert await free(b, "revcent:integration:other")
        with pytest.raises(GuardrailError) as refusal:
            async with WriteLocks(b, NOW).hold(["revcent:integration:other", KEY]):
                raise AssertionError("entered a held lock")
        assert KEY in str(refusal.value) and "Nothing was sent" in str(refusal.value)
        assert await free(b, "revcent:integration:other")  # the refused write let go of what it had taken
        assert not await free(b, "revcent:name:tax")
    assert await free(b) and await free(b, "revcent:name:tax")
    await a.close(), await b.close()


async def test_a_cancelled_holder_and_a_cancelled_waiter_give_their_locks_back(tmp_path: Path,
                                                                              mechanism: str) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    await free(a), await free(b)  # the stores' first use (migration, connections) before counting files
    fds = open_fds() if mechanism == "os" else 0  # (/proc: Linux, where the OS locks are)
    held, waiting = anyio.Event(), anyio.Event()
    with anyio.CancelScope() as holder:
        async with WriteLocks(a, WAIT).hold([KEY]):
            held.set()
            holder.cancel()
            await anyio.sleep(3600)
    assert held.is_set() and await free(b)

    async def waiter(scope: anyio.CancelScope) -> None:
        with scope:
            waiting.set()
            async with WriteLocks(b, WAIT).hold([KEY]):
                raise AssertionError("entered a held lock")

    scope = anyio.CancelScope()
    async with WriteLocks(a, WAIT).hold([KEY]), anyio.create_task_group() as tg:
        tg.start_soon(waiter, scope)
        await waiting.wait()
        for _ in range(10):
            await anyio.sleep(0.01)  # it is polling now
        scope.cancel()
    assert await free(b) and await free(a)
    if mechanism == "os":
        assert open_fds() == fds  # every write closed its lock file
    else:
        assert await leases_left(a) == 0
    with pytest.raises(ValueError, match="the write's own error"):  # not wrapped in an exception group
        async with WriteLocks(a, WAIT).hold([KEY]):
            raise ValueError("the write's own error")
    assert await free(b)
    await a.close(), await b.close()


@os_locks_only
async def test_keys_sharing_a_byte_only_wait_for_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes whose keys collide crosswise (A with B', B with A'): taken by byte, not by name, so neither holds
    what the other waits for (by name, each would hold one and wait for the other forever)."""
    offsets = {"k:A": 5, "k:B'": 5, "k:B": 9, "k:A'": 9}
    monkeypatch.setattr(locks, "_offset", offsets.__getitem__)
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    done: list[str] = []

    async def write(store: StateStore, keys: list[str]) -> None:
        async with WriteLocks(store, WAIT).hold(keys):
            await anyio.sleep(0)
            done.append(keys[0])

    with anyio.fail_after(30):  # a deadlock fails here instead of hanging
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(write, a, ["k:A", "k:B"])
                tg.start_soon(write, b, ["k:A'", "k:B'"])
    assert sorted(done) == ["k:A"] * 5 + ["k:A'"] * 5
    assert await free(a, "k:B'") and await free(b, "k:A")
    await a.close(), await b.close()


@os_locks_only
async def test_the_lock_file_is_private_and_an_unusable_one_is_a_clear_error(tmp_path: Path) -> None:
    store = StateStore(file_url(tmp_path))
    assert await free(store)
    assert (tmp_path / "state.sqlite3-locks").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state.sqlite3-locks").stat().st_size == 0  # only its byte ranges are used
    missing = StateStore(f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'state.sqlite3'}")
    with pytest.raises(Exception, match="lock file") as failed:
        async with WriteLocks(missing, NOW).hold([KEY]):
            pass
    assert type(failed.value).__name__ == "StateError"
    await store.close()


@os_locks_only
async def test_a_file_that_takes_no_os_locks_gets_leases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    refuse = fcntl.fcntl

    def old_kernel(fd: int, cmd: int, arg: bytes) -> bytes:
        if cmd in (locks._F_OFD_GETLK, locks._F_OFD_SETLK):
            raise OSError(errno.EINVAL, "Invalid argument")
        return refuse(fd, cmd, arg)

    monkeypatch.setattr(fcntl, "fcntl", old_kernel)
    monkeypatch.setattr(locks, "_usable", {})
    store = StateStore(file_url(tmp_path))
    async with WriteLocks(store, WAIT).hold([KEY]):
        assert await leases_left(store) == 1
        assert not await free(store)
    assert await leases_left(store) == 0 and await free(store)
    await store.close()


HOLDER = textwrap.dedent("""
    import sys, anyio
    from integrations_mcp.state import locks
    from integrations_mcp.state.store import StateStore

    if sys.argv[3] == "leases":
        locks.OS_LOCKS = False

    async def main():
        leases = locks.Leases(lease=5.0, renew_every=0.5)  # (a lease must outlast a loaded machine's stalls)
        async with locks.cross_process_locks(StateStore(sys.argv[1]), [sys.argv[2]], leases):
            print("held", flush=True)
            await anyio.sleep(3600)

    anyio.run(main)
""")


@pytest.mark.slow
async def test_a_holder_killed_mid_write_frees_the_key(tmp_path: Path, mechanism: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, file_url(tmp_path), KEY, mechanism],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        store = StateStore(file_url(tmp_path))
        assert not await free(store)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        if mechanism == "os":
            assert await free(store)  # at once: the OS closed its files
        else:
            with anyio.fail_after(60):  # its lease runs out (5 s) and is taken over
                async with WriteLocks(store, WAIT).hold([KEY]):
                    pass
        await store.close()
    finally:
        holder.kill()
        holder.wait()


WRITER = textwrap.dedent("""
    import os, sys, anyio
    from integrations_mcp.pipeline.locks import WriteLocks
    from integrations_mcp.state import locks
    from integrations_mcp.state.journal import ChangeRow, JournalTable
    from integrations_mcp.state.store import StateStore

    url, key, log, rounds, mechanism = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if mechanism == "leases":
        locks.OS_LOCKS = False

    async def main():
        store = StateStore(url)
        table = JournalTable(store)
        writes = WriteLocks(store, locks.Leases(wait=120, poll_max=0.01))
        me = str(os.getpid())
        for n in range(rounds):
            async with writes.hold([key]):
                with open(log, "a") as f:
                    f.write(f"in {me}\\n")
                await table.add(ChangeRow(principal=me, tool="t", vendor="v", target=key, outcome="o", changes=[]))
                await anyio.sleep(0.002)
                with open(log, "a") as f:
                    f.write(f"out {me}\\n")
        await store.close()

    anyio.run(main)
""")


@pytest.mark.slow
async def test_processes_writing_one_key_never_interleave_and_every_journal_row_is_kept(tmp_path: Path,
                                                                                       mechanism: str) -> None:
    log, rounds, processes = tmp_path / "log", 15, 3
    await StateStore(file_url(tmp_path)).prepare()  # migrated once, so the writers do not race to create it
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, file_url(tmp_path), KEY, str(log), str(rounds),
                                 mechanism]) for _ in range(processes)]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 2 * rounds * processes
    for entered, left in zip(lines[::2], lines[1::2], strict=True):  # each "in" followed by its own "out"
        assert entered.startswith("in ") and left == "out " + entered[3:], (entered, left)
    assert len({line.split()[1] for line in lines}) == processes
    store = StateStore(file_url(tmp_path))
    async with store.begin() as conn:
        rows = (await conn.execute(select(journal.c.principal, func.count()).group_by(journal.c.principal))).all()
    assert sorted(count for _, count in rows) == [rounds] * processes
    await store.close()


@pytest.mark.slow
async def test_two_stdio_servers_on_one_sqlite_file_serialise_their_edits(tmp_path: Path) -> None:
    """Two MCP clients on one machine, each spawning its own stdio server on the default-style state file: two
    parallel edits of one integration. The second is planned against the first one's write, so it replaces a saved
    value and needs confirming; unserialised, both would be planned against the empty option and both written, the
    first silently lost."""
    async with two_stdio_servers_and_an_integration(tmp_path, "Par") as (emu, a, b, uid):
        option, field, values = static_single_select(emu)
        # Each edit's vendor call takes a second: without the lock the two would overlap.
        emu.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="POST", delay=1.0,
                          times=2)
        outcomes: list[tuple[str, bool, str]] = []

        async def edit(name: str, server: object, value: str) -> None:
            result = await server.client.call_tool("EditUserThirdPartyIntegration", {  # type: ignore[attr-defined]
                "user_third_party_integration_id": uid,
                "third_party_options": [{"id": option, "fields": [{"id": field, "value": [value]}]}]})
            outcomes.append((name, not result.is_error, text_of(result)))

        async with anyio.create_task_group() as tg:
            tg.start_soon(edit, "a", a, values[0])
            tg.start_soon(edit, "b", b, values[1])
        assert sorted(done for _, done, _ in outcomes) == [False, True], outcomes
        first = next(name for name, done, _ in outcomes if done)
        second_text = next(text for _, done, text in outcomes if not done)
        assert "confirm_overwrite" in second_text and values[0 if first == "a" else 1] in second_text
        assert len(emu.writes()) == 2  # the create and one edit: the second never reached the vendor

        changes = await b.client.call_tool("GetIntegrationChanges", {"integration_id": uid})
        rows = changes.structured_content["results"]
        assert [r["outcome"] for r in rows] == ["refused", "written and verified", "written and verified"]


@pytest.mark.slow
async def test_a_cancelled_edit_frees_its_lock_for_another_stdio_server(tmp_path: Path) -> None:
    """A client gives up on an edit whose vendor call hangs (notifications/cancelled): its server lets go of the
    integration's lock at once, and another server's edit of it goes through; both are in the journal."""
    async with two_stdio_servers_and_an_integration(tmp_path, "Gone") as (emu, a, b, uid):
        option, field, values = static_single_select(emu)
        path = f"/v2/user_third_party_integrations/{uid}"
        emu.faults.inject(path_prefix=path, method="POST", delay=3600, times=1)  # a's edit: never answered

        def edit(value: str) -> dict[str, object]:
            return {"user_third_party_integration_id": uid,
                    "third_party_options": [{"id": option, "fields": [{"id": field, "value": [value]}]}]}

        given_up = anyio.CancelScope()

        async def first() -> None:
            with given_up:
                await a.client.call_tool("EditUserThirdPartyIntegration", edit(values[0]))

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            while not any(r.method == "POST" and r.path == path for r in emu.writes()):
                await anyio.sleep(0.02)  # a holds the lock, its vendor call hanging
            given_up.cancel()
        with anyio.fail_after(120):  # (a hang guard: a kept lock would hold b for the hour a's call hangs)
            second = await b.client.call_tool("EditUserThirdPartyIntegration", edit(values[1]))
        assert not second.is_error, text_of(second)
        changes = await b.client.call_tool("GetIntegrationChanges", {"integration_id": uid})
        rows = changes.structured_content["results"]
        assert [r["outcome"] for r in rows] == ["written and verified", "may have happened",
                                                "written and verified"]
