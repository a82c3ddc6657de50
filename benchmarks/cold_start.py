"""Start and call latency, ours against a bare one-tool SDK server (benchmarks/bare_server.py), in one run.

1. Spawn -> tools/list answered over stdio (raw JSON-RPC lines, so the client costs nothing): ours configured for both
   vendors (no --sandbox), ours with --sandbox, and the bare server, interleaved run by run; medians and ratios of the
   wall time, the server's CPU time, and its resident memory (VmRSS) idle after tools/list and after one tool call
   (with --sandbox also after a vendor read, which builds that vendor's emulator in the same process).
2. A sandbox tool call over one stdio MCP session: ours `GetCxEngageIntegrations` against the sandbox emulator vs the
   bare server's tool doing one GET of the same emulator endpoint; medians, p90 and the ratio.

Figures, not assertions: `python benchmarks/cold_start.py [--runs 15] [--calls 100] [--before SRC]` (`--before`: ours
also served from other source, e.g. `git archive <commit> src | tar -x -C /tmp/before` and `--before /tmp/before/src`,
interleaved with the rest; `--calls 0` skips part 2). Goals: start <= 1.15x the bare
server (issues 13, 22), idle RSS <= 1.10x (issue 22), a sandbox call <= 1.2x the bare GET (issue 13)."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_KEY, SANDBOX_API_SECRET, SANDBOX_TENANT_ID

HERE = Path(__file__).resolve().parent
OURS = [sys.executable, "-m", "integrations_mcp", "serve"]
BARE = [sys.executable, str(HERE / "bare_server.py")]
IDLE_SECONDS = 0.5  # after tools/list (and after the call) before resident memory is read
KEYS = {"REVCENT_API_KEY": "bench-key", "CXENGAGE_API_KEY": "bench-key", "CXENGAGE_API_SECRET": "bench-secret"}


def _env(**extra: str) -> dict[str, str]:
    keep = ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH")
    return {**{k: v for k, v in os.environ.items() if k in keep}, "INTEGRATIONS_LOG_LEVEL": "WARNING", **extra}


@dataclass
class Start:
    """One spawn: seconds to the tools/list answer, the server's CPU seconds by then, and its resident memory (MB)
    after a short idle and after each tool call."""

    seconds: float
    cpu: float
    idle_mb: float
    called_mb: list[float]


Call = tuple[str, dict[str, object]]


def spawn_to_tools_list(command: list[str], env: dict[str, str], calls: list[Call],
                        idle: float = IDLE_SECONDS) -> Start:
    """Spawn -> initialize -> tools/list over raw JSON-RPC lines; then idle and read VmRSS; then each call in turn,
    reading VmRSS after each (an idle again)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin is not None and proc.stdout is not None

    def send(message: dict[str, object]) -> None:
        proc.stdin.write((json.dumps(message) + "\n").encode())  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    def answer(request_id: int) -> dict[str, object]:  # skips notifications (log messages, progress)
        while line := proc.stdout.readline():  # type: ignore[union-attr]
            message = json.loads(line)
            if message.get("id") == request_id:
                return message
        raise RuntimeError(f"{command}: closed stdout before answering request {request_id}")

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})
        answer(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        listed = answer(2)
        elapsed = time.perf_counter() - start
        if "tools" not in listed.get("result", {}):  # type: ignore[operator]
            raise RuntimeError(f"{command}: no tools/list answer: {str(listed)[:200]}")
        used = _cpu_seconds(proc.pid)
        time.sleep(idle)
        idle_mb = _rss_mb(proc.pid)
        called = []
        for number, (tool, arguments) in enumerate(calls, start=3):
            send({"jsonrpc": "2.0", "id": number, "method": "tools/call",
                  "params": {"name": tool, "arguments": arguments}})
            result = answer(number).get("result") or {}
            if not isinstance(result, dict) or result.get("isError") or "content" not in result:
                raise RuntimeError(f"{command}: {tool} failed: {str(result)[:300]}")
            time.sleep(idle)
            called.append(_rss_mb(proc.pid))
        return Start(elapsed, used, idle_mb, called)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def _rss_mb(pid: int) -> float:
    """Resident memory (VmRSS of /proc/<pid>/status) in MB; NaN off Linux."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (fields 14 and 15 of /proc/<pid>/stat); NaN off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _migrated_state_file() -> dict[str, str]:
    """A state database of the benchmark's own (never the user's, which another version may have made newer),
    made and migrated as a returning user's would be, by the code under test (PYTHONPATH is passed on)."""
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='cold-start-')) / 'state.sqlite3'}"
    code = ("import anyio, sys; from integrations_mcp.state import StateStore; "
            "anyio.run(StateStore(sys.argv[1]).migrate)")
    subprocess.run([sys.executable, "-c", code, url], env=_env(), check=True, capture_output=True)
    return {"INTEGRATIONS_STATE_URL": url}


def cold_start(runs: int, before: str | None = None) -> None:
    state = _migrated_state_file()
    guide: Call = ("GetIntegrationGuide", {"guide": "common/guardrails"})
    read: Call = ("GetCxEngageIntegrations", {})
    variants = {"bare one-tool SDK server": (BARE, _env(), [("fetch", {"text": "x"})]),
                "ours, both vendors configured": (OURS, _env(**KEYS, **state), [guide]),
                "ours, --sandbox": ([*OURS, "--sandbox"], _env(**state), [guide, read])}
    if before:  # the same two, served from other source (`git archive <commit> src`), in the same interleaving
        old = {"PYTHONPATH": os.pathsep.join(filter(None, [before, os.environ.get("PYTHONPATH")]))}
        variants |= {"before, both vendors configured": (OURS, _env(**KEYS, **state, **old), [guide]),
                     "before, --sandbox": ([*OURS, "--sandbox"], _env(**state, **old), [guide, read])}
    for command, env, calls in variants.values():  # warm the file cache once
        spawn_to_tools_list(command, env, calls, idle=0)
    starts: dict[str, list[Start]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (command, env, calls) in variants.items():
            starts[name].append(spawn_to_tools_list(command, env, calls))
    bare = "bare one-tool SDK server"

    def median(name: str, figure: Callable[[Start], float]) -> float:
        return statistics.median(figure(start) for start in starts[name])

    def column(name: str, figure: Callable[[Start], float], scale: float, width: int, digits: int) -> str:
        value = median(name, figure)
        return f"{value * scale:>{width}.{digits}f}{value / median(bare, figure):>7.2f}"

    print(f"spawn -> tools/list over stdio, {runs} interleaved runs (goals: start <= 1.15x bare, idle RSS <= 1.10x). "
          "Wall time is noisy on a\nshared machine; CPU: the server process's own user+sys time when its tools/list "
          f"answer arrived; idle MB: its VmRSS {IDLE_SECONDS} s\nafter tools/list; call MB: {IDLE_SECONDS} s after one "
          "tool call (bare: `fetch` echoing; ours: GetIntegrationGuide common/guardrails).")
    print(f"  {'server':<32}{'median ms':>10}{'ratio':>7}{'min ms':>8}{'ratio':>7}{'CPU ms':>8}{'ratio':>7}"
          f"{'idle MB':>9}{'ratio':>7}{'call MB':>9}{'ratio':>7}")
    low_bare = min(start.seconds for start in starts[bare])
    for name in variants:
        low = min(start.seconds for start in starts[name])
        print(f"  {name:<32}{column(name, lambda s: s.seconds, 1000, 10, 0)}{low * 1000:>8.0f}{low / low_bare:>7.2f}"
              f"{column(name, lambda s: s.cpu, 1000, 8, 0)}{column(name, lambda s: s.idle_mb, 1, 9, 1)}"
              f"{column(name, lambda s: s.called_mb[0], 1, 9, 1)}")
    sandbox = "ours, --sandbox"
    print(f"  then {read[0]} on the sandbox (its emulator built in-process): "
          f"{median(sandbox, lambda s: s.called_mb[1]):.1f} MB, "
          f"{median(sandbox, lambda s: s.called_mb[1]) / median(bare, lambda s: s.called_mb[0]):.2f}x bare")


async def _timed_call(client: Client, tool: str, arguments: dict[str, object]) -> float:
    start = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - start
    if result.is_error:
        raise RuntimeError(f"{tool}: {result.content}")
    return elapsed


async def _emulator_url(errlog: object) -> str:
    for _ in range(600):
        errlog.seek(0)  # type: ignore[attr-defined]
        found = re.search(r"'cxengage': '([^']+)'", errlog.read())  # type: ignore[attr-defined]
        if found:
            return found.group(1)
        await anyio.sleep(0.05)
    raise RuntimeError("the sandbox did not log its emulator URLs")


async def tool_call(calls: int) -> None:
    """Both servers run side by side, ours on the sandbox and the bare one GETting ours' CxEngage emulator; their
    calls alternate, so both see the same machine load."""
    ours = StdioServerParameters(command=OURS[0], args=[*OURS[1:], "--sandbox"],
                                 env=_env(INTEGRATIONS_LOG_LEVEL="INFO", **_migrated_state_file()))
    with tempfile.TemporaryFile("w+") as errlog, tempfile.TemporaryFile("w+") as bare_log:
        async with Client(stdio_client(ours, errlog=errlog)) as client:
            await client.list_tools()
            url = await _emulator_url(errlog)
            basic = base64.b64encode(f"{SANDBOX_API_KEY}:{SANDBOX_API_SECRET}".encode()).decode()
            bare = StdioServerParameters(command=BARE[0], args=BARE[1:], env=_env(
                BARE_GET_URL=f"{url}/v1/tenants/{SANDBOX_TENANT_ID}/integrations",
                BARE_GET_HEADERS=f"authorization:Basic {basic}|accept:application/json"))
            async with Client(stdio_client(bare, errlog=bare_log)) as bare_client:
                times: dict[str, list[float]] = {"bare": [], "ours": []}
                for i in range(calls + 5):  # the first calls make clients and connections
                    bare_time = await _timed_call(bare_client, "fetch", {})
                    ours_time = await _timed_call(client, "GetCxEngageIntegrations", {})
                    if i >= 5:
                        times["bare"].append(bare_time)
                        times["ours"].append(ours_time)
    print(f"\nsandbox tool call over one stdio session, {calls} alternating calls each (goal: <= 1.2x the bare GET)")
    print(f"  {'tool':<52}{'median ms':>10}{'p90 ms':>8}{'ratio':>7}")
    base = statistics.median(times["bare"])
    for name, values in (("bare SDK tool, one GET of the CxEngage emulator", times["bare"]),
                         ("ours, GetCxEngageIntegrations on the sandbox", times["ours"])):
        values.sort()
        print(f"  {name:<52}{statistics.median(values) * 1000:>10.2f}{values[int(0.9 * len(values))] * 1000:>8.2f}"
              f"{statistics.median(values) / base:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100, help="0: no tool call part")
    parser.add_argument("--before", metavar="SRC", help="also serve ours from SRC (a `git archive` copy's src)")
    args = parser.parse_args()
    cold_start(args.runs, args.before)
    if args.calls:
        anyio.run(tool_call, args.calls)


if __name__ == "__main__":
    main()
