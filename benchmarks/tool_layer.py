"""The cost inside a tool call (issue 22): ours against a bare SDK tool sending the same vendor requests, in one run.

Configuration: the team's (benchmarks/team.py): both vendors with keys of real length, INTEGRATIONS_STATE_KEY, six
bearer tokens (the output filter masks all of them, so its cost depends on them), the journal on a SQLite file. The
emulators run in a process of their own, on loopback HTTP, so this process's CPU is the MCP client and server only.

1. In memory: for each read tool of both vendors and one write (EditCxEngageIntegration of the sandbox
   integration's description, which the bare tool's replayed PUT sets back each time; journal on the SQLite file),
   ours through an in-memory MCP client session against a bare `MCPServer` tool, also in memory, sending exactly
   the requests that tool sent (recorded by a transport around the vendor clients') to the same emulators with one
   httpx2 client. Calls alternate (bare, ours); per call the wall time and this process's CPU time
   (`time.process_time`: every thread, so the journal's SQLite thread too), and the server's part of it (the CPU
   time of the SDK's `serve_one` for that request: the client's own work, such as checking structuredContent
   against the tool's output schema, left out). Medians and ratios ours/bare. Log
   records below WARNING are dropped on both sides (the SDK's MCPServer sets the root logger to INFO).
2. Over stdio: `serve --sandbox` (a fresh SQLite state file, the default log level), a read tool against an MCP ping
   on the same session, alternating: wall medians, the server process's CPU per call (/proc) and the ratios.

Figures, not assertions: `python benchmarks/tool_layer.py [--calls 200] [--stdio-calls 200]`. Compare the ratios of
one run (the machine is shared). Goals (issue 22): in memory <= 1.3x bare for reads, CPU <= 2x for the write with
the journal on SQLite, a sandbox read over stdio <= 3x a ping. To compare with older code in the same run:
`git archive <commit> src | tar -x -C /tmp/before` and `--before /tmp/before/src`: the in-memory part then runs in
child processes, this source and that one by turns (`--rounds`, who goes first alternating), each against its own
bare server, with the same emulators; it prints each round's server-CPU ratio per tool and their medians."""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from team import TOKEN_NAMES, real_length_keys  # noqa: E402  (the team configuration, shared)

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID, SANDBOX_TENANT_ID  # noqa: E402

DROP_HEADERS = {"host", "content-length", "connection", "user-agent", "accept-encoding"}
# (tool, arguments); "@site" is filled in from the RevCent emulator's fixtures, "@user" from the first listed one.
READS: list[tuple[str, dict[str, Any]]] = [
    ("GetCxEngageIntegrations", {}),
    ("GetCxEngageIntegration", {"integration_id": SANDBOX_INTEGRATION_ID}),
    ("GetSiteThirdPartyIntegrations", {}),
    ("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": "@site"}),
    ("GetUserThirdPartyIntegrations", {}),
    ("GetUserThirdPartyIntegration", {"user_third_party_integration_id": "@user"}),
]
WRITE = ("EditCxEngageIntegration", {"integration_id": SANDBOX_INTEGRATION_ID})
DESCRIPTIONS = ("Tickets from the web shop", "Tickets from the web shop and the app")  # recorded, then ours


# --- the emulators, in a process of their own -------------------------------------------------------------------------

def run_emulators() -> None:
    """The `_emulators` role: both emulators on loopback, their URLs (and fixture ids) on stdout, until killed."""
    from integrations_mcp.loopback import LoopbackServer
    from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
    from integrations_mcp.vendors.revcent.emulator import RevCentEmulator

    logging.disable(logging.WARNING)
    revcent = RevCentEmulator(api_key=os.environ["REVCENT_API_KEY"], keep_requests=0)
    cxengage = CxEngageEmulator(api_key=os.environ["CXENGAGE_API_KEY"], api_secret=os.environ["CXENGAGE_API_SECRET"],
                                keep_requests=0)
    servers = [LoopbackServer(revcent.app).start(), LoopbackServer(cxengage.app).start()]
    print(json.dumps({"revcent": servers[0].url, "cxengage": servers[1].url, "site": revcent.site_id("tax")}),
          flush=True)
    while True:
        time.sleep(3600)


@contextmanager
def emulators(keys: dict[str, str]) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH")}
    proc = subprocess.Popen([sys.executable, __file__, "_emulators"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**env, **keys})
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=15)


class Recording(httpx2.AsyncBaseTransport):
    """Real HTTP, with the requests noted while `on` (what the bare tool then sends)."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.on = False
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.on:
            body = await request.aread()
            self.sent.append({"method": request.method, "url": str(request.url), "body": body,
                              "headers": {k: v for k, v in request.headers.items() if k.lower() not in DROP_HEADERS}})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- in memory --------------------------------------------------------------------------------------------------------

def team_settings(keys: dict[str, str], urls: dict[str, str], folder: Path) -> Any:
    from integrations_mcp.server.settings import load_settings

    tokens = folder / "tokens"
    tokens.write_text("".join(f"{name} {os.urandom(24).hex()} {scopes}\n" for name, scopes in TOKEN_NAMES))
    return load_settings({**keys, "REVCENT_BASE_URL": urls["revcent"] + "/v2", "CXENGAGE_BASE_URL": urls["cxengage"],
                          "CXENGAGE_TENANT_ID": SANDBOX_TENANT_ID, "INTEGRATIONS_STATE_KEY": os.urandom(32).hex(),
                          "INTEGRATIONS_STATE_URL": f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}",
                          "INTEGRATIONS_AUTH_TOKENS_FILE": str(tokens), "INTEGRATIONS_LOG_LEVEL": "WARNING"})


def bare_server(http: httpx2.AsyncClient, replay: list[list[dict[str, Any]]]) -> Any:
    """A bare SDK server whose `fetch` sends the requests in `replay[0]` and returns the last body."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bare")

    @server.tool()
    async def fetch(text: str = "") -> str:
        """Send the configured requests; return the last body."""
        body = text
        for request in replay[0]:
            response = await http.request(request["method"], request["url"], headers=request["headers"],
                                          content=request["body"] or None)
            body = response.text
        return body

    return server


SERVED: list[float] = [0.0]  # CPU seconds of the last request the in-memory servers served


def count_server_cpu() -> None:
    """The server's part of a call: this process's CPU time while the SDK's `serve_one` (the in-memory path's
    server entry, the same for both servers) handled it; calls are sequential, so nothing else runs meanwhile but
    the server's own threads."""
    from mcp.server import runner

    serve_one = runner.serve_one

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return await serve_one(*args, **kwargs)
        finally:
            SERVED[0] = time.process_time() - started

    runner.serve_one = timed  # type: ignore[assignment]


async def measured(client: Any, tool: str, arguments: dict[str, Any]) -> tuple[float, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = await client.call_tool(tool, arguments)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if result.is_error:
        raise RuntimeError(f"{tool}: {str(result.content)[:300]}")
    return wall, cpu, SERVED[0]


async def in_memory(keys: dict[str, str], urls: dict[str, str], calls: int, quiet: bool = False
                    ) -> dict[str, list[float]]:
    """The in-memory table (printed unless `quiet`); per tool [wall, CPU, server] medians in ms, bare then ours."""
    from mcp import Client

    from integrations_mcp.guardrails.outputs import known_secrets
    from integrations_mcp.server.app import build_server

    logging.disable(logging.INFO)  # the SDK's MCPServer sets the root logger to INFO: both servers' lines, unwritten
    folder = Path(tempfile.mkdtemp(prefix="tool-layer-"))
    recorders = {"revcent": Recording(), "cxengage": Recording()}
    server = build_server(team_settings(keys, urls, folder), transports=dict(recorders))  # type: ignore[arg-type]
    replay: list[list[dict[str, Any]]] = [[]]
    values = {"@site": urls["site"]}
    count_server_cpu()
    rows: dict[str, list[float]] = {}
    say = (lambda *a: None) if quiet else print
    say(f"in memory, {calls} alternating calls each (bare first); the output filter knows {len(known_secrets())} "
          "secrets; medians in ms: wall, CPU of this process (client + server), and the server's part of it")
    say(f"  {'tool':<32}{'requests':>9}{'bare':>7}{'ours':>7}{'ratio':>7}"
          f"{'CPU bare':>10}{'ours':>7}{'ratio':>7}{'server bare':>13}{'ours':>7}{'ratio':>7}")
    async with httpx2.AsyncClient() as http, Client(server) as ours, Client(bare_server(http, replay)) as bare:
        for tool, raw in [*READS, WRITE]:
            arguments = {k: values.get(v, v) for k, v in raw.items()}
            if "@user" in arguments.values():
                listed = await ours.call_tool("GetUserThirdPartyIntegrations", {})
                items = [v for v in (listed.structured_content or {}).values() if isinstance(v, list)]
                if not items or not items[0]:
                    say(f"  {tool:<32} skipped: the emulator lists no user integration")
                    continue
                arguments = {"user_third_party_integration_id": items[0][0]["id"]}
            write = tool == WRITE[0]
            for recorder in recorders.values():
                recorder.on, recorder.sent = True, []
            first = await ours.call_tool(tool, {**arguments, "description": DESCRIPTIONS[0]} if write else arguments)
            for recorder in recorders.values():
                recorder.on = False
            if first.is_error:
                say(f"  {tool:<32} refused: {str(first.content)[:200]}")
                continue
            replay[0] = [r for recorder in recorders.values() for r in recorder.sent]
            times: dict[str, list[tuple[float, float, float]]] = {"bare": [], "ours": []}
            for i in range(calls + 5):  # the first calls warm pools and caches
                # The bare tool's replayed PUT saves the first description back: ours changes it again each time.
                given = {**arguments, "description": DESCRIPTIONS[1]} if write else arguments
                b = await measured(bare, "fetch", {})
                o = await measured(ours, tool, given)
                if i >= 5:
                    times["bare"].append(b)
                    times["ours"].append(o)
            bw, bc, bs = (statistics.median(t[k] for t in times["bare"]) * 1000 for k in (0, 1, 2))
            ow, oc, os_ = (statistics.median(t[k] for t in times["ours"]) * 1000 for k in (0, 1, 2))
            rows[tool + (" (write)" if write else "")] = [bw, bc, bs, ow, oc, os_]
            say(f"  {tool + (' (write)' if write else ''):<32}{len(replay[0]):>9}{bw:>7.2f}{ow:>7.2f}{ow / bw:>7.2f}"
                f"{bc:>10.2f}{oc:>7.2f}{oc / bc:>7.2f}{bs:>13.2f}{os_:>7.2f}{os_ / bs:>7.2f}")
    return rows


def in_memory_child(calls: int) -> None:
    """The `_in_memory` role (`--before`): the in-memory part with the source on PYTHONPATH, its rows as JSON."""
    given = json.loads(os.environ["TOOL_LAYER_RUN"])
    rows = anyio.run(in_memory, given["keys"], given["urls"], calls, True)
    print(json.dumps(rows), flush=True)


def compare(keys: dict[str, str], urls: dict[str, str], calls: int, before: str, rounds: int) -> None:
    """This source against `before`, each in a child process of its own by turns: server-CPU ratios per round."""
    sides = {"after": os.environ.get("PYTHONPATH"), "before": os.pathsep.join(
        filter(None, [before, os.environ.get("PYTHONPATH")]))}
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
    env["TOOL_LAYER_RUN"] = json.dumps({"keys": keys, "urls": urls})
    found: dict[str, list[dict[str, list[float]]]] = {"before": [], "after": []}
    for round_ in range(rounds):
        for side in (("after", "before") if round_ % 2 else ("before", "after")):
            path = {"PYTHONPATH": sides[side]} if sides[side] else {}
            done = subprocess.run([sys.executable, __file__, "_in_memory", str(calls)], env={**env, **path},
                                  capture_output=True, text=True, check=True)
            found[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"in memory, before ({before}) and after (this source) by turns, {rounds} rounds of {calls} alternating "
          "calls each against a bare server in the same process; server CPU per call: ratio ours/bare per round, "
          "then the medians of ms and ratio")
    print(f"  {'tool':<32}{'before, each round':>26}{'after, each round':>26}{'bare ms':>9}{'before':>8}{'after':>8}"
          f"{'ratio before':>14}{'after':>7}")
    for tool in found["after"][0]:
        ratios = {side: [r[tool][5] / r[tool][2] for r in found[side] if tool in r] for side in found}
        bare = statistics.median(r[tool][2] for side in found for r in found[side] if tool in r)
        ms = {side: statistics.median(r[tool][5] for r in found[side] if tool in r) for side in found}
        print(f"  {tool:<32}{' '.join(f'{x:.2f}' for x in ratios['before']):>26}"
              f"{' '.join(f'{x:.2f}' for x in ratios['after']):>26}{bare:>9.2f}{ms['before']:>8.2f}{ms['after']:>8.2f}"
              f"{statistics.median(ratios['before']):>14.2f}{statistics.median(ratios['after']):>7.2f}")


# --- over stdio: a sandbox read against a ping ------------------------------------------------------------------------

def _children_cpu() -> dict[int, float]:
    """CPU seconds of this process's child processes (the stdio server), from /proc."""
    found: dict[int, float] = {}
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


async def stdio_ping(calls: int, tool: str) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    keep = ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH")
    state = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='tool-layer-')) / 'state.sqlite3'}"
    params = StdioServerParameters(command=sys.executable, args=["-m", "integrations_mcp", "serve", "--sandbox"],
                                   env={**{k: v for k, v in os.environ.items() if k in keep},
                                        "INTEGRATIONS_STATE_URL": state})
    arguments = {"integration_id": SANDBOX_INTEGRATION_ID} if tool == "GetCxEngageIntegration" else {}
    before = set(_children_cpu())
    times: dict[str, list[float]] = {"ping": [], "read": []}
    cpu: dict[str, float] = {"ping": 0.0, "read": 0.0}
    with open(os.devnull, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:  # ping: legacy era
            (pid,) = set(_children_cpu()) - before
            for i in range(calls + 5):
                for name in ("ping", "read"):
                    used = _children_cpu()[pid]
                    started = time.perf_counter()
                    if name == "ping":
                        await client.send_ping()
                    else:
                        result = await client.call_tool(tool, arguments)
                        if result.is_error:
                            raise RuntimeError(f"{tool}: {str(result.content)[:300]}")
                    if i >= 5:
                        times[name].append(time.perf_counter() - started)
                        cpu[name] += _children_cpu()[pid] - used
    ping, read = statistics.median(times["ping"]), statistics.median(times["read"])
    logging.disable(logging.NOTSET)
    print(f"\nover stdio, `serve --sandbox` (default log level), {calls} alternating calls each on one session")
    print(f"  {'call':<40}{'median ms':>10}{'ratio':>7}{'server CPU ms':>15}{'ratio':>7}")
    for name, median in (("MCP ping", ping), (f"{tool} (sandbox)", read)):
        key = "ping" if name == "MCP ping" else "read"
        print(f"  {name:<40}{median * 1000:>10.2f}{median / ping:>7.2f}{cpu[key] * 1000 / calls:>15.2f}"
              f"{cpu[key] / max(cpu['ping'], 1e-9):>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per tool in memory (0 skips)")
    parser.add_argument("--stdio-calls", type=int, default=200, help="0 skips the stdio part")
    parser.add_argument("--stdio-tool", default="GetCxEngageIntegration")
    parser.add_argument("--before", metavar="SRC", help="also run the in-memory part with this source folder first "
                        "on PYTHONPATH (e.g. `git archive <commit> src | tar -x -C /tmp/before`, then /tmp/before/src)")
    parser.add_argument("--rounds", type=int, default=3, help="with --before: rounds of both, by turns")
    args = parser.parse_args()
    keys = real_length_keys()
    if args.calls:
        with emulators(keys) as urls:
            if args.before:
                compare(keys, urls, args.calls, args.before, args.rounds)
            else:
                anyio.run(in_memory, keys, urls, args.calls)
    if args.stdio_calls:
        anyio.run(stdio_ping, args.stdio_calls, args.stdio_tool)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_emulators":
        run_emulators()
    elif len(sys.argv) > 2 and sys.argv[1] == "_in_memory":
        in_memory_child(int(sys.argv[2]))
    else:
        main()
