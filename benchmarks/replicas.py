"""200 MCP sessions over streamable HTTP against one replica, then split across two replicas sharing one
PostgreSQL (issue 12). Each session connects, lists the native integrations (a read) and creates an integration
with a name of its own (a journaled write under a name lock), all sessions at once. One RevCent emulator on
loopback, in a process of its own, plays the vendor for every replica (REVCENT_BASE_URL). Prints errors, p50/p99
session time and each replica's resident memory afterwards, and what the servers refused (HTTP status and text).
Figures, not assertions: `python benchmarks/replicas.py` (needs Debian's postgresql)."""

from __future__ import annotations

import logging
import secrets
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from team import emulators, real_length_keys  # noqa: E402  (benchmarks/team.py)
from tests.harness import SERVE, _wait_until_listening, clean_env, free_port  # noqa: E402
from tests.state.postgres import PostgresServer, running_postgres  # noqa: E402

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


FIRST_ERRORS: list[str] = []


async def load(urls: list[str], run: str) -> tuple[int, list[float]]:
    """Every session at once. One SSL context and one pooled HTTP client per replica, shared by its sessions (a
    client per session built a TLS context each: 42 % of this process's CPU, slowing the load it measured)."""
    errors, times = 0, []
    context = ssl.create_default_context()
    limits = httpx2.Limits(max_connections=SESSIONS, max_keepalive_connections=SESSIONS)
    refusals: dict[str, int] = {}

    async def refused(response: httpx2.Response) -> None:  # what the server answered when it said no
        if response.status_code >= 400:
            await response.aread()
            key = f"HTTP {response.status_code}: {response.text[:90].strip()}"
            refusals[key] = refusals.get(key, 0) + 1

    clients = [httpx2.AsyncClient(verify=context, limits=limits, timeout=httpx2.Timeout(300, connect=60),
                                  event_hooks={"response": [refused]}) for _ in urls]

    async def session(n: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            async with Client(streamable_http_client(urls[n % len(urls)], http_client=clients[n % len(urls)])) \
                    as client:
                read = await client.call_tool("GetSiteThirdPartyIntegrations", {})
                write = await client.call_tool("CreateUserThirdPartyIntegration", {
                    "name": f"{run} {n}", "site_third_party_integration": SITE_IDS["tax"]})
            failed = [str(r.content)[:300] for r in (read, write) if r.is_error]
        except Exception as exc:
            failed = [repr(exc)[:300]]
        errors += bool(failed)
        FIRST_ERRORS.extend(failed[: max(0, 3 - len(FIRST_ERRORS))])
        times.append(time.perf_counter() - started)

    async with anyio.create_task_group() as tg:
        for n in range(SESSIONS):
            tg.start_soon(session, n)
    for client in clients:
        await client.aclose()
    FIRST_ERRORS.extend(f"{count} x {what}" for what, count in refusals.items())
    return errors, times


async def measure(postgres: PostgresServer, label: str, replicas: int) -> str:
    """A fresh emulator, database and replicas for each figure, so that none inherits the other's records."""
    keys = real_length_keys()
    with ExitStack() as stack:
        vendor = stack.enter_context(emulators(keys))  # in a process of its own, not this load generator's
        env = {"REVCENT_API_KEY": keys["REVCENT_API_KEY"], "REVCENT_BASE_URL": vendor["revcent"] + "/v2",
               "INTEGRATIONS_STATE_URL": await postgres.new_database(),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32),
               # Every session comes from this one address without a token, so all are one client: its share of
               # requests in flight (128 by default) would refuse the rest with 429, which is the share at work, not
               # what this measures (team.py spreads its sessions over six tokens instead).
               "INTEGRATIONS_CLIENT_MAX_IN_FLIGHT": str(SESSIONS)}
        started = [stack.enter_context(replica(env)) for _ in range(replicas)]
        began = time.perf_counter()
        errors, times = await load([url for url, _ in started], label)
        wall = time.perf_counter() - began
        rss = ", ".join(f"{rss_mb(pid):.0f}" for _, pid in started)
    times.sort()
    return (f"{label:<13} {errors:6d} {statistics.median(times) * 1000:8.0f} "
            f"{times[int(len(times) * 0.99) - 1] * 1000:8.0f} {wall:7.1f} {rss:>12}")


async def main() -> None:
    logging.disable(logging.WARNING)
    with running_postgres() as postgres:
        if postgres is None:
            print("PostgreSQL is not installed: nothing measured")
            return
        rows = [await measure(postgres, "one replica", 1), await measure(postgres, "two replicas", 2)]
    print(f"{SESSIONS} concurrent sessions (connect, one read, one create), PostgreSQL state, one RevCent emulator")
    print(f"{'':<13} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'wall s':>7} {'RSS MB':>12}")
    print("\n".join(rows))
    if FIRST_ERRORS:
        print("first errors:", *FIRST_ERRORS, sep="\n  ")


if __name__ == "__main__":
    anyio.run(main)
