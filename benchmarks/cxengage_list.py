"""GetCxEngageIntegrations on a large tenant (issue 22).

1. What the model reads: the answer's size (text and structured content, in characters) for the first page, a
   filtered call and the widest page, at several tenant sizes.
2. What a call costs, against a bare SDK tool doing the same: one GET of the tenant's integrations from the same
   emulator (CxEngage's list is one array, fact cxengage.no_paging, so ours sends exactly that request too), returning
   CxEngage's answer as it came (the whole list, as text). Ours reads that answer, checks every row's shape, filters
   and answers one page (50 rows) in text and structured content through the output filter. Both with CxEngage keys
   of real length.
   - In memory: both servers in this process on one emulator over ASGI (no sockets), calls alternating; time per
     call and this process's CPU per call, and the same with the emulator's own share (a bare GET, measured
     alongside) taken off.
   - Over stdio: both servers as subprocesses (ours: `integrations-mcp serve`; bare: benchmarks/bare_server.py),
     the emulator in a process of its own on loopback HTTP; time per call and each server's CPU per call
     (/proc utime+stime).
Prints figures; asserts nothing. The machine may be shared: compare the ratios of one run.
Run: .venv/bin/python benchmarks/cxengage_list.py [integrations ...] [--calls 30] [--timing 1000 ...]
(sizes default 100 1000 5000; timing defaults to 1000 integrations)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from pydantic import SecretStr

from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.harness import CXENGAGE_URL, SERVE, clean_env, connect, cxengage_settings  # noqa: E402

LIST_PATH = f"/v1/tenants/{SANDBOX_TENANT_ID}/integrations"
WARM_UP = 3


def seeded(count: int, **keys: str) -> CxEngageEmulator:
    emu = CxEngageEmulator(keep_requests=0, **keys)
    for n in range(count):
        emu.add_integration(SANDBOX_TENANT_ID, ("rest", "zendesk", "salesforce")[n % 3], f"Integration {n:05}",
                            description=f"Look-ups for team {n % 40} of the contact centre")
    return emu


# --- 1. sizes --------------------------------------------------------------------------------------------------------

async def sizes(count: int) -> list[tuple[str, int, int]]:
    rows = []
    async with connect(cxengage_settings(), cxengage=seeded(count)) as cx:
        for label, arguments in (("first page (default)", {}), ("name filter", {"name": "00042"}),
                                 ("type filter, page 2", {"type": "Zendesk", "page": 2}),
                                 ("widest page (limit 200)", {"limit": 200})):
            result = await cx.call("GetCxEngageIntegrations", tenant_id=SANDBOX_TENANT_ID, **arguments)
            text = "".join(getattr(c, "text", "") for c in result.content)
            rows.append((label, len(text), len(json.dumps(result.structured_content))))
    return rows


# --- 2. time and CPU -------------------------------------------------------------------------------------------------

def real_keys() -> dict[str, str]:
    return {"api_key": str(uuid.uuid4()), "api_secret": secrets.token_urlsafe(32)}


def basic(keys: dict[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{keys['api_key']}:{keys['api_secret']}".encode()).decode()


async def in_memory(count: int, calls: int) -> dict[str, float]:
    import httpx2
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    keys = real_keys()
    emu = seeded(count, **keys)
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emu.app), base_url=CXENGAGE_URL,
                              headers={"authorization": basic(keys), "accept": "application/json"})
    bare = MCPServer("bare")

    @bare.tool()
    async def fetch() -> str:
        """The tenant's integrations, as CxEngage answered."""
        return (await http.get(LIST_PATH)).text

    async def emulator_alone() -> None:
        (await http.get(LIST_PATH)).raise_for_status()

    vendor = CxEngageSettings(SecretStr(keys["api_key"]), SecretStr(keys["api_secret"]), CXENGAGE_URL)
    settings = Settings(vendors={"cxengage": vendor})
    times: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": [], "emulator": []}
    async with connect(settings, cxengage=emu) as ours, Client(bare) as bare_client:
        runs = {"bare": lambda: bare_client.call_tool("fetch", {}),
                "ours": lambda: ours.client.call_tool("GetCxEngageIntegrations", {"tenant_id": SANDBOX_TENANT_ID}),
                "emulator": emulator_alone}
        for i in range(calls + WARM_UP):
            for name, run in runs.items():
                wall, cpu = time.perf_counter(), time.process_time()
                result = await run()
                if getattr(result, "is_error", False):
                    raise RuntimeError(f"{name}: {result.content}")
                if i >= WARM_UP:
                    times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    await http.aclose()
    return {f"{name} {what}": statistics.median(t[k] for t in pairs) * 1000
            for name, pairs in times.items() for k, what in ((0, "ms"), (1, "cpu"))}


def run_emulator(count: int) -> None:
    """The `_emulator` role: a seeded emulator on loopback in this process, its URL on stdout, until killed."""
    from integrations_mcp.loopback import LoopbackServer

    logging.disable(logging.WARNING)
    server = LoopbackServer(seeded(count, api_key=os.environ["EMU_KEY"], api_secret=os.environ["EMU_SECRET"]).app)
    print(server.start().url, flush=True)
    while True:
        time.sleep(3600)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(marker: str) -> int:
    """The pid of this process's child whose command line holds `marker` (the stdio client spawns it)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if ppid == os.getpid() and marker in cmdline:
            return int(stat.parent.name)
    raise RuntimeError(f"no child process running {marker}")


async def over_stdio(count: int, calls: int) -> dict[str, float]:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    keys = real_keys()
    emulator = subprocess.Popen([sys.executable, __file__, "_emulator", str(count)], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=clean_env(EMU_KEY=keys["api_key"],
                                                                        EMU_SECRET=keys["api_secret"]))
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().decode().strip()
        ours = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=clean_env(
            CXENGAGE_API_KEY=keys["api_key"], CXENGAGE_API_SECRET=keys["api_secret"], CXENGAGE_BASE_URL=url,
            CXENGAGE_TENANT_ID=SANDBOX_TENANT_ID, INTEGRATIONS_LOG_LEVEL="WARNING"))
        bare = StdioServerParameters(command=sys.executable, args=[str(HERE / "bare_server.py")], env=clean_env(
            BARE_GET_URL=url + LIST_PATH, BARE_GET_HEADERS=f"authorization:{basic(keys)}|accept:application/json"))
        times: dict[str, list[float]] = {"bare": [], "ours": []}
        cpu: dict[str, float] = {}
        with tempfile.TemporaryFile("w+") as errlog:
            async with Client(stdio_client(ours, errlog=errlog)) as ours_client, \
                    Client(stdio_client(bare, errlog=errlog)) as bare_client:
                pids = {"ours": child_pid("integrations_mcp"), "bare": child_pid("bare_server.py")}
                runs = {"bare": (bare_client, "fetch"), "ours": (ours_client, "GetCxEngageIntegrations")}
                for i in range(calls + WARM_UP):
                    if i == WARM_UP:
                        cpu = {name: -cpu_seconds(pid) for name, pid in pids.items()}
                    for name, (client, tool) in runs.items():
                        started = time.perf_counter()
                        result = await client.call_tool(tool, {})
                        if result.is_error:
                            raise RuntimeError(f"{name}: {result.content}")
                        if i >= WARM_UP:
                            times[name].append(time.perf_counter() - started)
                cpu = {name: value + cpu_seconds(pids[name]) for name, value in cpu.items()}
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)
    return {**{f"{name} ms": statistics.median(t) * 1000 for name, t in times.items()},
            **{f"{name} cpu": value * 1000 / calls for name, value in cpu.items()}}


def print_timing(count: int, calls: int) -> None:
    print(f"\n{count} integrations, {calls} alternating calls each (medians): ours GetCxEngageIntegrations (first "
          "page of 50) vs a bare SDK tool doing the same GET and returning CxEngage's whole answer")
    print(f"  {'transport':<10}{'':<26}{'bare':>9}{'ours':>9}{'ratio':>7}")
    memory = asyncio.run(in_memory(count, calls))
    emulator = memory["emulator cpu"]
    rows = [("in memory", "ms a call", memory["bare ms"], memory["ours ms"]),
            ("", "CPU ms a call (process)", memory["bare cpu"], memory["ours cpu"]),
            ("", "CPU ms, emulator's taken off", memory["bare cpu"] - emulator, memory["ours cpu"] - emulator)]
    stdio = asyncio.run(over_stdio(count, calls))
    rows += [("stdio", "ms a call", stdio["bare ms"], stdio["ours ms"]),
             ("", "server CPU ms a call", stdio["bare cpu"], stdio["ours cpu"])]
    for transport, what, bare, ours in rows:
        print(f"  {transport:<10}{what:<26}{bare:>9.2f}{ours:>9.2f}{ours / bare:>7.2f}")
    print(f"  (in memory, the emulator alone: {memory['emulator ms']:.2f} ms and {emulator:.2f} ms CPU a GET)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--timing", type=int, nargs="*", default=[1000], help="tenant sizes to time (none: skip)")
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the figures only, not every emulator request
    print(f"{'integrations':>12}  {'call':<26}{'text chars':>11}{'structured chars':>18}")
    for size in args.sizes:
        for label, text, structured in asyncio.run(sizes(size)):
            print(f"{size:>12}  {label:<26}{text:>11}{structured:>18}")
    for count in args.timing:
        print_timing(count, args.calls)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_emulator":
        run_emulator(int(sys.argv[2]))
    else:
        main()
