"""Writes serialised across processes sharing one SQLite state file (`state/locks.py`: leases in `write_locks`):
two stores on one file (each its own connections, as two processes have), a holder killed mid-write, the bounded
wait, and two real `integrations-mcp serve` stdio processes editing one integration at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from integrations_mcp.errors import GuardrailError
from integrations_mcp.loopback import serve_loopback
from integrations_mcp.pipeline.locks import WriteLocks
from integrations_mcp.state.locks import Leases
from integrations_mcp.state.schema import write_locks
from integrations_mcp.state.store import StateStore
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY
from tests.harness import revcent_emulator, serve_stdio, text_of
from tests.vendors.revcent.helpers import static_single_select

pytestmark = pytest.mark.anyio

KEY = "revcent:integration:X"
FAST = Leases(lease=1.0, renew_every=0.2, wait=30.0, poll_max=0.05)


def file_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"


async def leases_left(store: StateStore) -> int:
    async with store.begin() as conn:
        return (await conn.execute(select(func.count()).select_from(write_locks))).scalar_one()


async def test_writers_of_one_key_take_turns_across_stores_of_one_file(tmp_path: Path) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    inside: list[str] = []
    overlaps: list[bool] = []

    async def write(locks: WriteLocks, name: str, key: str, seconds: float) -> None:
        async with locks.hold([key]):
            inside.append(name)
            overlaps.append(len(inside) > 1)
            await anyio.sleep(seconds)
            inside.remove(name)

    async with anyio.create_task_group() as tg:
        for n in range(3):  # the in-process locks alone would let an `a` and a `b` writer in together
            tg.start_soon(write, WriteLocks(a, FAST), f"a{n}", KEY, 0.2)
            tg.start_soon(write, WriteLocks(b, FAST), f"b{n}", KEY, 0.2)
    assert overlaps == [False] * 6
    inside.clear()
    with anyio.fail_after(2):  # other keys do not wait
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(write, WriteLocks(a if n % 2 else b, FAST), f"k{n}", f"revcent:integration:{n}", 0.5)
    assert await leases_left(a) == 0
    await a.close(), await b.close()


async def test_a_lease_is_renewed_while_its_write_runs_past_it(tmp_path: Path) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    order: list[str] = []
    started = anyio.Event()

    async def long_write() -> None:
        async with WriteLocks(a, FAST).hold([KEY]):
            order.append("long starts")
            started.set()
            await anyio.sleep(FAST.lease * 3)
            order.append("long ends")

    async def second() -> None:
        await started.wait()  # (not a fixed pause: creating and migrating a fresh file takes a while when loaded)
        async with WriteLocks(b, FAST).hold([KEY]):
            order.append("second")

    async with anyio.create_task_group() as tg:
        tg.start_soon(long_write)
        tg.start_soon(second)
    assert order == ["long starts", "long ends", "second"]
    await a.close(), await b.close()


async def test_a_waiting_write_is_refused_after_the_bound_and_a_cancelled_one_gives_its_lease_back(
        tmp_path: Path) -> None:
    a, b = StateStore(file_url(tmp_path)), StateStore(file_url(tmp_path))
    impatient = Leases(lease=1.0, renew_every=0.2, wait=0.3, poll_max=0.05)
    async with WriteLocks(a, FAST).hold([KEY, "revcent:name:tax"]):
        with pytest.raises(GuardrailError) as refusal:
            async with WriteLocks(b, impatient).hold([KEY]):
                raise AssertionError("entered a held lock")
        assert f"pid {os.getpid()}" in str(refusal.value) and KEY in str(refusal.value)
        assert "Nothing was sent" in str(refusal.value)
        assert await leases_left(b) == 2
    assert await leases_left(b) == 0
    with anyio.move_on_after(0.2):
        async with WriteLocks(a, FAST).hold([KEY]):
            await anyio.sleep(10)
    assert await leases_left(b) == 0
    with pytest.raises(ValueError, match="the write's own error"):  # not wrapped in an exception group
        async with WriteLocks(a, FAST).hold([KEY]):
            raise ValueError("the write's own error")
    assert await leases_left(b) == 0
    await a.close(), await b.close()


HOLDER = textwrap.dedent("""
    import sys, anyio
    from integrations_mcp.state.locks import Leases, cross_process_locks
    from integrations_mcp.state.store import StateStore

    async def main():
        async with cross_process_locks(StateStore(sys.argv[1]), [sys.argv[2]], Leases(lease=1.0, renew_every=0.2)):
            print("held", flush=True)
            await anyio.sleep(3600)

    anyio.run(main)
""")


async def test_a_holder_killed_mid_write_blocks_others_only_until_its_lease_runs_out(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, file_url(tmp_path), KEY], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        await anyio.sleep(1.5)  # renewed past its first lease: still held
        store = StateStore(file_url(tmp_path))
        with pytest.raises(GuardrailError):
            async with WriteLocks(store, Leases(lease=1.0, wait=0.3)).hold([KEY]):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        started = time.monotonic()
        async with WriteLocks(store, FAST).hold([KEY]):
            waited = time.monotonic() - started
        assert waited < FAST.lease + 1.0, waited
        await store.close()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
async def test_two_stdio_servers_on_one_sqlite_file_serialise_their_edits(tmp_path: Path) -> None:
    """Two MCP clients on one machine, each spawning its own stdio server on the default-style state file: two
    parallel edits of one integration. The second is planned against the first one's write, so it replaces a saved
    value and needs confirming; unserialised, both would be planned against the empty option and both written, the
    first silently lost."""
    emu = revcent_emulator()
    option, field, values = static_single_select(emu)
    with serve_loopback(emu.app) as vendor:
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "INTEGRATIONS_STATE_URL": file_url(tmp_path), "INTEGRATIONS_CONFIRMATION": "model"}
        async with serve_stdio(env=env) as a, serve_stdio(env=env) as b:
            created = await a.client.call_tool("CreateUserThirdPartyIntegration", {
                "name": "Par", "site_third_party_integration": emu.site_id("tax")})
            uid = created.structured_content["user_third_party_integration_id"]
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

            journal = (await b.client.call_tool("GetIntegrationChanges", {"integration_id": uid}))
            rows = journal.structured_content["results"]
            assert [r["outcome"] for r in rows] == ["refused", "written and verified", "written and verified"]
