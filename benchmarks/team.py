"""The team benchmark (issue 22): ours in a realistic team configuration beside the bare SDK server, in one run.

Configuration: both vendors with real-length keys (the emulators check them), INTEGRATIONS_STATE_KEY, six bearer
tokens (two read-only), and PostgreSQL state when Debian's postgresql is installed (as tests/state starts it),
otherwise a SQLite file: the output says which.

1. HTTP load: for each session count (default 50, 200, 500), the bare server (benchmarks/bare_server.py over
   streamable HTTP, its tool doing the same GET of the same emulator) and ours (`GetCxEngageIntegrations`) take
   turns. The load generator runs in a process of its own (one TLS/HTTP context shared by its sessions: one client
   per token, all on one SSL context), the emulators in another, so neither competes with the measured server for
   its interpreter. Per run: calls a second, p50/p99 per call, errors (and the first ones), the server's CPU per
   call (/proc utime+stime, before and after) and its RSS after.
2. Per tool over stdio: each tool of ours against the bare server sending exactly the requests that tool sent
   (recorded at the emulators), calls alternating; medians, p90 and ratios.

Figures, not assertions: `python benchmarks/team.py [--sessions 50 200 500] [--calls 5] [--stdio-calls 30]`.
The machine is shared: compare the ratios of one run. Goals (issue 22): 0 errors at 200 and 500 sessions,
throughput >= 0.9x bare, p99 <= 1.5x bare, CPU per call <= 1.3x bare for reads."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.harness import SERVE, _wait_until_listening, clean_env, free_port  # noqa: E402

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID  # noqa: E402

BARE = [sys.executable, str(HERE / "bare_server.py")]
TENANT = SANDBOX_TENANT_ID
READ_TOOL = "GetCxEngageIntegrations"
TOKEN_NAMES = [("lead", "integrations:read integrations:write"), ("ops", "integrations:read integrations:write"),
               ("payments", "integrations:read integrations:write"), ("voice", "integrations:read integrations:write"),
               ("audit", "integrations:read"), ("support", "integrations:read")]


def real_length_keys() -> dict[str, str]:
    """Keys as long as real ones: RevCent's 40-character key, CxEngage's UUID key and 43-character secret."""
    import uuid

    return {"REVCENT_API_KEY": secrets.token_hex(20), "CXENGAGE_API_KEY": str(uuid.uuid4()),
            "CXENGAGE_API_SECRET": secrets.token_urlsafe(32)}


# --- processes -----------------------------------------------------------------------------------------------------

def run_emulators() -> None:
    """The `_emulators` role: both emulators on loopback in this process, their URLs on stdout, until killed."""
    import logging

    from integrations_mcp.loopback import LoopbackServer
    from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
    from integrations_mcp.vendors.revcent.emulator import RevCentEmulator

    logging.disable(logging.WARNING)
    revcent = RevCentEmulator(api_key=os.environ["REVCENT_API_KEY"], keep_requests=0)
    cxengage = CxEngageEmulator(api_key=os.environ["CXENGAGE_API_KEY"], api_secret=os.environ["CXENGAGE_API_SECRET"],
                                keep_requests=0)
    servers = [LoopbackServer(revcent.app).start(), LoopbackServer(cxengage.app).start()]
    print(json.dumps({"revcent": servers[0].url, "cxengage": servers[1].url}), flush=True)
    while True:
        time.sleep(3600)


@contextmanager
def process(command: list[str], env: dict[str, str], port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            if port is not None:
                _wait_until_listening(proc, port, output)
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@contextmanager
def emulators(keys: dict[str, str]) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen([sys.executable, __file__, "_emulators"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=clean_env(**keys))
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the load generator (its own process) ---------------------------------------------------------------------------

async def generate_load(url: str, sessions: int, calls: int, tool: str, arguments: dict[str, Any],
                        tokens: list[str]) -> dict[str, Any]:
    """`sessions` MCP sessions at once, each making `calls` calls of `tool`; one SSL context for every client, one
    HTTP client per token (shared by that token's sessions)."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    context = ssl.create_default_context()
    limits = httpx2.Limits(max_connections=sessions, max_keepalive_connections=sessions)
    timeout = httpx2.Timeout(300, connect=60)
    clients = [httpx2.AsyncClient(verify=context, limits=limits, timeout=timeout,
                                  headers={"authorization": f"Bearer {t}"} if t else {}) for t in tokens or [""]]
    latencies: list[float] = []
    errors: list[str] = []

    async def session(n: int) -> None:
        done = 0
        try:
            async with Client(streamable_http_client(url, http_client=clients[n % len(clients)])) as client:
                for _ in range(calls):
                    started = time.perf_counter()
                    result = await client.call_tool(tool, arguments)
                    elapsed = time.perf_counter() - started
                    done += 1
                    if result.is_error:
                        errors.append(str(result.content)[:200])
                    else:
                        latencies.append(elapsed)
        except Exception as exc:  # a refused or broken session: its remaining calls are errors
            while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
                exc = exc.exceptions[0]
            errors.extend([repr(exc)[:200]] * (calls - done))

    began = time.perf_counter()
    async with anyio.create_task_group() as group:
        for n in range(sessions):
            group.start_soon(session, n)
    wall = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    return {"wall": wall, "latencies": latencies, "errors": len(errors), "first_errors": sorted(set(errors))[:3]}


def run_load(args: list[str]) -> None:
    url, sessions, calls, tool, arguments = args[0], int(args[1]), int(args[2]), args[3], json.loads(args[4])
    tokens = [t for t in os.environ.get("LOAD_TOKENS", "").split(",") if t]
    result = anyio.run(generate_load, url, sessions, calls, tool, arguments, tokens)
    print(json.dumps(result))


def load(url: str, pid: int, sessions: int, calls: int, tool: str, tokens: list[str]) -> dict[str, Any]:
    cpu_before = cpu_seconds(pid)
    done = subprocess.run([sys.executable, __file__, "_load", url, str(sessions), str(calls), tool, "{}"],
                          capture_output=True, text=True, env=clean_env(LOAD_TOKENS=",".join(tokens)), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["cpu"] = cpu_seconds(pid) - cpu_before
    result["rss"] = rss_mb(pid)
    return result


# --- the configuration -----------------------------------------------------------------------------------------------

@contextmanager
def state_database(stack: ExitStack) -> Iterator[tuple[str, str]]:
    """(URL, what it is): a fresh PostgreSQL database when Debian's postgresql is installed, else a SQLite file."""
    from tests.state.postgres import running_postgres

    postgres = stack.enter_context(running_postgres())
    if postgres is not None:
        yield anyio.run(postgres.new_database), "PostgreSQL (a local server, as tests/state starts it)"
    else:
        folder = Path(tempfile.mkdtemp(prefix="team-bench-"))
        yield f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}", "SQLite file (PostgreSQL is not installed)"


def team_env(keys: dict[str, str], urls: dict[str, str], state_url: str, tokens_file: Path) -> dict[str, str]:
    return {**keys, "REVCENT_BASE_URL": urls["revcent"] + "/v2", "CXENGAGE_BASE_URL": urls["cxengage"],
            "CXENGAGE_TENANT_ID": TENANT, "INTEGRATIONS_STATE_URL": state_url,
            "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32), "INTEGRATIONS_AUTH_TOKENS_FILE": str(tokens_file),
            "INTEGRATIONS_LOG_LEVEL": "WARNING"}


def bare_env(keys: dict[str, str], urls: dict[str, str], **more: str) -> dict[str, str]:
    basic = base64.b64encode(f"{keys['CXENGAGE_API_KEY']}:{keys['CXENGAGE_API_SECRET']}".encode()).decode()
    return clean_env(BARE_GET_URL=f"{urls['cxengage']}/v1/tenants/{TENANT}/integrations",
                     BARE_GET_HEADERS=f"authorization:Basic {basic}|accept:application/json", **more)


def http_table(keys: dict[str, str], urls: dict[str, str], state_url: str, session_counts: list[int],
               calls: int) -> None:
    tokens = {name: secrets.token_urlsafe(32) for name, _ in TOKEN_NAMES}
    folder = Path(tempfile.mkdtemp(prefix="team-tokens-"))
    tokens_file = folder / "tokens"
    tokens_file.write_text("".join(f"{name} {tokens[name]} {scopes}\n" for name, scopes in TOKEN_NAMES))
    ours_port, bare_port = free_port(), free_port()
    rows = []
    with ExitStack() as stack:
        ours = stack.enter_context(process([*SERVE, "--transport", "http", "--port", str(ours_port)],
                                           clean_env(**team_env(keys, urls, state_url, tokens_file)), ours_port))
        bare = stack.enter_context(process(BARE, bare_env(keys, urls, BARE_HTTP_PORT=str(bare_port)), bare_port))
        targets = {"bare SDK server": (f"http://127.0.0.1:{bare_port}/mcp", bare.pid, "fetch", []),
                   "ours, team config": (f"http://127.0.0.1:{ours_port}/mcp", ours.pid, READ_TOOL,
                                         list(tokens.values()))}
        for url, pid, tool, who in targets.values():  # warm-up: imports, pools, the first database connections
            load(url, pid, 6, 2, tool, who)
        for sessions in session_counts:
            results = {name: load(url, pid, sessions, calls, tool, who)
                       for name, (url, pid, tool, who) in targets.items()}
            rows.append((sessions, results))
            print_http_rows(sessions, calls, results)


def print_http_rows(sessions: int, calls: int, results: dict[str, dict[str, Any]]) -> None:
    bare = results["bare SDK server"]
    base = summary(bare, calls * sessions)
    print(f"\n{sessions} sessions x {calls} calls ({sessions * calls} calls each)")
    print(f"  {'server':<20}{'calls/s':>9}{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>7}{'errors':>8}"
          f"{'CPU ms/call':>12}{'ratio':>7}{'RSS MB':>8}")
    for name, result in results.items():
        row = summary(result, calls * sessions)
        print(f"  {name:<20}{row['rate']:>9.1f}{row['rate'] / base['rate']:>7.2f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
              f"{row['p99'] / base['p99']:>7.2f}{result['errors']:>8d}{row['cpu']:>12.2f}"
              f"{row['cpu'] / base['cpu']:>7.2f}{result['rss']:>8.0f}")
        for error in result["first_errors"]:
            print(f"    error: {error}")


def summary(result: dict[str, Any], calls: int) -> dict[str, float]:
    latencies = sorted(result["latencies"]) or [float("nan")]
    ok = len(result["latencies"])
    return {"rate": ok / result["wall"], "p50": statistics.median(latencies) * 1000,
            "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
            "cpu": result["cpu"] * 1000 / max(1, calls)}


# --- per tool over stdio ---------------------------------------------------------------------------------------------

STDIO_TOOLS: list[tuple[str, dict[str, Any]]] = [
    ("GetCxEngageIntegrations", {}),
    ("GetCxEngageIntegration", {"integration_id": "@cx_integration"}),
    ("GetSiteThirdPartyIntegrations", {}),
    ("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": "@site_id"}),
    ("GetUserThirdPartyIntegrations", {}),
    ("GetIntegrationGuide", {"guide": "common/guardrails"}),
    ("GetIntegrationChanges", {}),
]
DROP_HEADERS = {"host", "content-length", "connection", "user-agent", "accept-encoding"}


async def stdio_table(keys: dict[str, str], state_url: str, calls: int) -> None:
    """Emulators in this process (their recorded requests tell what each tool sent); ours and, per tool, a bare
    server replaying those requests, both over stdio; calls alternate."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from integrations_mcp.loopback import LoopbackServer
    from integrations_mcp.vendors.cxengage.emulator import SANDBOX_INTEGRATION_ID, CxEngageEmulator
    from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
    from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS

    revcent = RevCentEmulator(api_key=keys["REVCENT_API_KEY"])
    cxengage = CxEngageEmulator(api_key=keys["CXENGAGE_API_KEY"], api_secret=keys["CXENGAGE_API_SECRET"])
    servers = [LoopbackServer(revcent.app).start(), LoopbackServer(cxengage.app).start()]
    urls = {"revcent": servers[0].url, "cxengage": servers[1].url}
    values = {"@cx_integration": SANDBOX_INTEGRATION_ID, "@site_id": SITE_IDS["tax"]}
    env = {k: v for k, v in team_env(keys, urls, state_url, Path("/dev/null")).items()
           if k != "INTEGRATIONS_AUTH_TOKENS_FILE"}
    ours = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=clean_env(**env))
    print(f"\nper tool over stdio, {calls} alternating calls each (bare: the same requests to the same emulator)")
    print(f"  {'tool':<32}{'requests':>9}{'bare ms':>9}{'ours ms':>9}{'ratio':>7}{'ours p90':>9}{'bare p90':>9}")
    try:
        with open(os.devnull, "w") as errlog:
            async with Client(stdio_client(ours, errlog=errlog)) as client:
                for tool, raw in STDIO_TOOLS:
                    arguments = {k: values.get(v, v) for k, v in raw.items()}
                    for emulator in (revcent, cxengage):
                        emulator.requests.clear()
                    first = await client.call_tool(tool, arguments)
                    if first.is_error:
                        print(f"  {tool:<32} refused: {str(first.content)[:100]}")
                        continue
                    sent = [_replayable(r, urls[name]) for name, emulator in (("revcent", revcent),
                                                                              ("cxengage", cxengage))
                            for r in emulator.requests]
                    bare = StdioServerParameters(command=BARE[0], args=BARE[1:], env=clean_env(
                        BARE_REQUESTS=json.dumps(sent)))
                    async with Client(stdio_client(bare, errlog=errlog)) as bare_client:
                        times: dict[str, list[float]] = {"bare": [], "ours": []}
                        for i in range(calls + 3):
                            for name, c, t, a in (("bare", bare_client, "fetch", {}), ("ours", client, tool,
                                                                                      arguments)):
                                started = time.perf_counter()
                                result = await c.call_tool(t, a)
                                if result.is_error:
                                    raise RuntimeError(f"{t}: {result.content}")
                                if i >= 3:
                                    times[name].append(time.perf_counter() - started)
                    b, o = sorted(times["bare"]), sorted(times["ours"])
                    print(f"  {tool:<32}{len(sent):>9}{statistics.median(b) * 1000:>9.2f}"
                          f"{statistics.median(o) * 1000:>9.2f}{statistics.median(o) / statistics.median(b):>7.2f}"
                          f"{o[int(0.9 * len(o))] * 1000:>9.2f}{b[int(0.9 * len(b))] * 1000:>9.2f}")
    finally:
        for server in servers:
            server.stop()


def _replayable(request: Any, base: str) -> dict[str, Any]:
    return {"method": request.method, "url": f"{base}{request.path}" + (f"?{request.query}" if request.query else ""),
            "headers": {k: v for k, v in request.headers.items() if k.lower() not in DROP_HEADERS},
            "body": request.body.decode("latin-1")}


# --- main ------------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--calls", type=int, default=5, help="calls per session")
    parser.add_argument("--stdio-calls", type=int, default=30, help="0 skips the stdio table")
    args = parser.parse_args()
    keys = real_length_keys()
    with ExitStack() as stack:
        state_url, state_kind = stack.enter_context(state_database(stack))
        print(f"team configuration: both vendors (keys of real length), INTEGRATIONS_STATE_KEY, {len(TOKEN_NAMES)} "
              f"bearer tokens; state: {state_kind}; server CPUs: {os.cpu_count()}")
        urls = stack.enter_context(emulators(keys))
        print(f"HTTP: load generator and emulators in processes of their own; tool: ours {READ_TOOL}, bare one GET "
              "of the same endpoint")
        http_table(keys, urls, state_url, args.sessions, args.calls)
        if args.stdio_calls:
            anyio.run(stdio_table, keys, state_url, args.stdio_calls)


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that a killed run still stops its servers and PostgreSQL


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_term)
    if len(sys.argv) > 1 and sys.argv[1] == "_emulators":
        run_emulators()
    elif len(sys.argv) > 1 and sys.argv[1] == "_load":
        run_load(sys.argv[2:])
    else:
        main()
