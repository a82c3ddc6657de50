"""200 MCP sessions over streamable HTTP against one replica, then split across two replicas sharing one
PostgreSQL (issue 12). Each session connects, lists the native integrations (a read) and creates an integration
with a name of its own (a journaled write under a name lock), all sessions at once. One RevCent emulator on
loopback plays the vendor for every replica (REVCENT_BASE_URL). Prints errors, p50/p99 session time and each
replica's resident memory afterwards. Figures, not assertions: `python benchmarks/replicas.py` (needs Debian's
postgresql)."""

from __future__ import annotations

import logging
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio
from mcp import Client

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.harness import SERVE, _wait_until_listening, clean_env, free_port  # noqa: E402
from tests.state.postgres import running_postgres  # noqa: E402

SESSIONS = 200


@contextmanager
def replica(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """One `serve --transport http` process: (its MCP URL, its pid)."""
    port = free_port()
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen([*SERVE, "--transport", "http", "--port", str(port)], stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(**env))
        try:
            _wait_until_listening(proc, port, output)
            yield f"http://127.0.0.1:{port}/mcp", proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(urls: list[str], run: str) -> tuple[int, list[float]]:
    errors, times = 0, []

    async def session(n: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            async with Client(urls[n % len(urls)]) as client:
                read = await client.call_tool("GetSiteThirdPartyIntegrations", {})
                write = await client.call_tool("CreateUserThirdPartyIntegration", {
                    "name": f"{run} {n}", "site_third_party_integration": SITE_IDS["tax"]})
            errors += int(read.is_error or write.is_error)
        except Exception:
            errors += 1
        times.append(time.perf_counter() - started)

    async with anyio.create_task_group() as tg:
        for n in range(SESSIONS):
            tg.start_soon(session, n)
    return errors, times


async def main() -> None:
    logging.disable(logging.WARNING)
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY)
    rows = []
    with running_postgres() as postgres, ExitStack() as stack:
        if postgres is None:
            print("PostgreSQL is not installed: nothing measured")
            return
        vendor = stack.enter_context(serve_loopback(emu.app))
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "INTEGRATIONS_STATE_URL": await postgres.new_database(),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32)}
        a, pid_a = stack.enter_context(replica(env))
        b, pid_b = stack.enter_context(replica(env))
        for label, urls, pids in (("one replica", [a], [pid_a]), ("two replicas", [a, b], [pid_a, pid_b])):
            started = time.perf_counter()
            errors, times = await load(urls, label)
            wall = time.perf_counter() - started
            times.sort()
            rss = ", ".join(f"{rss_mb(pid):.0f}" for pid in pids)
            rows.append(f"{label:<13} {errors:6d} {statistics.median(times) * 1000:8.0f} "
                        f"{times[int(len(times) * 0.99) - 1] * 1000:8.0f} {wall:7.1f} {rss:>12}")
    print(f"{SESSIONS} concurrent sessions (connect, one read, one create), PostgreSQL state, one RevCent emulator")
    print(f"{'':<13} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'wall s':>7} {'RSS MB':>12}")
    print("\n".join(rows))


if __name__ == "__main__":
    anyio.run(main)
