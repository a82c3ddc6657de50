"""The team benchmark (issue 22): ours in a realistic team configuration beside the bare SDK server, in one run.

Configuration: both vendors with real-length keys (the emulators check them), INTEGRATIONS_STATE_KEY, six bearer
tokens (two read-only), and PostgreSQL state when Debian's postgresql is installed (as tests/state starts it),
otherwise a SQLite file: the output says which.

1. HTTP load: for each session count (default 50, 200, 500), the bare server (benchmarks/bare_server.py over
   streamable HTTP, its tool doing the same GET of the same emulator) and ours (`GetCxEngageIntegrations`) take
   turns. The load generator runs in a process of its own (one TLS/HTTP context shared by its sessions: one client
   per token, all on one SSL context), the emulators in another, so neither competes with the measured server for
   its interpreter. First each server's idle RSS (started, no request yet; anonymous and file-backed parts), again
   after the warm-up and after ours' first journal read (the state database's first use: ours imports SQLAlchemy
   and the driver then, its start-up migration ran in a child process). Per run: calls a second, p50/p99 per
   call, errors (and the first ones), the server's CPU per call (/proc utime and stime, before and after), the load
   generator's and the emulators' CPU per call (if the generator's is near a core's worth, it sets the pace), and
   the server's RSS after. `--rounds N` repeats each session count N times, rotating the order (with `--before`,
   each of the three servers runs first, second and last in turn over three rounds), and prints the median ratios
   with their range over the rounds (with `--before`, also ours against before directly, round by round). With two
   or more CPUs the HTTP servers run on a CPU of their own and everything else (this process, PostgreSQL, the
   emulators, the load generator) on the others, the same for every server (`--no-pin` to let them share): the
   first line of the output says which.
2. Per tool over stdio: each tool of ours against the bare server sending exactly the requests that tool sent
   (recorded at the emulators), calls alternating; medians, p90 and ratios.

Figures, not assertions: `python benchmarks/team.py [--sessions 50 200 500] [--calls 5] [--stdio-calls 30]
[--rounds 1] [--no-pin]`.
The machine is shared: compare the ratios of one run. Goals (issue 22): 0 errors at 200 and 500 sessions,
throughput >= 0.9x bare, p99 <= 1.5x bare, CPU per call <= 1.3x bare for reads."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
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
from urllib.parse import urlsplit

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.harness import SERVE, _wait_until_listening, clean_env, free_port  # noqa: E402

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID  # noqa: E402

BARE = [sys.executable, str(HERE / "bare_server.py")]
TENANT = SANDBOX_TENANT_ID
LOAD_CLIENT = "wire"  # or "sdk" (--client): the SDK's Client in every session
READ_TOOL = "GetCxEngageIntegrations"
SERVER_CPUS: set[int] = set()  # --pin: the CPU(s) of the measured servers; everything else runs on the others
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
    for n in range(int(os.environ.get("TEAM_INTEGRATIONS", "0"))):  # a larger tenant (as cxengage_list.py makes)
        cxengage.add_integration(TENANT, ("rest", "zendesk", "salesforce")[n % 3], f"Integration {n:05}",
                                 description=f"Look-ups for team {n % 40} of the contact centre")
    servers = [LoopbackServer(revcent.app).start(), LoopbackServer(cxengage.app).start()]
    print(json.dumps({"revcent": servers[0].url, "cxengage": servers[1].url}), flush=True)
    while True:
        time.sleep(3600)


def pin_cpus(pin: bool) -> str:
    """With `pin` and at least two CPUs: the measured HTTP servers (ours, bare, before) get the last CPU of this
    process's set, and this process, whatever it starts (PostgreSQL, the emulators, the load generator) and the
    stdio servers get the others, so that the server under test does not share its CPU with the load it is
    measured under, and each server gets the same treatment. Returns what the output says about it."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(allowed) < 2:
        return f"not pinned ({len(allowed) or os.cpu_count()} CPU(s){'' if pin else ', --no-pin'})"
    SERVER_CPUS.add(allowed[-1])
    os.sched_setaffinity(0, allowed[:-1])
    return f"HTTP servers pinned to CPU {allowed[-1]}, everything else to CPU(s) {','.join(map(str, allowed[:-1]))}"


def _on_server_cpus() -> None:  # in the child, before exec: threads the server starts inherit it
    os.sched_setaffinity(0, SERVER_CPUS)


@contextmanager
def process(command: list[str], env: dict[str, str], port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                preexec_fn=_on_server_cpus if SERVER_CPUS else None)
        try:
            if port is not None:
                _wait_until_listening(proc, port, output)
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@contextmanager
def emulators(keys: dict[str, str], integrations: int = 0) -> Iterator[dict[str, Any]]:
    """The emulators' process (CxEngage with `integrations` more than its fixtures); the URLs it prints, and its pid
    (key "pid")."""
    proc = subprocess.Popen([sys.executable, __file__, "_emulators"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=clean_env(**keys, TEAM_INTEGRATIONS=str(integrations)))
    try:
        assert proc.stdout is not None
        yield {**json.loads(proc.stdout.readline()), "pid": proc.pid}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


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


PROTOCOL = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": PROTOCOL,
        "io.modelcontextprotocol/clientInfo": {"name": "mcp", "version": "0.1.0"},
        "io.modelcontextprotocol/clientCapabilities": {}}


class WireConnection:
    """One keep-alive HTTP/1.1 connection sending the bytes httpx2 sends for the SDK client's POSTs (same headers, in
    its order), reading answers with a Content-Length or chunked (an SSE stream). A few hundred microseconds of CPU a
    request, where httpx2 takes milliseconds."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.fixed = (f"Host: {parts.netloc}\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
                      "User-Agent: python-httpx2/2.17.0\r\nAccept: application/json, text/event-stream\r\n"
                      f"Content-Type: application/json\r\nMcp-Protocol-Version: {PROTOCOL}\r\n")
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, method: str, name: str | None, body: bytes) -> tuple[int, str, bytes]:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {self.path} HTTP/1.1\r\n{self.fixed}Mcp-Method: {method}\r\n"
                + (f"Mcp-Name: {name}\r\n" if name else "") + f"{self.auth}Content-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        if "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            content = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                content += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), headers.get("content-type", ""), content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def generate_wire_load(url: str, sessions: int, calls: int, tool: str, arguments: dict[str, Any],
                             tokens: list[str]) -> dict[str, Any]:
    """The HTTP requests the SDK's `Client` sends (protocol 2026-07-28: `server/discover`, then the calls, with the
    `tools/list` it sends after the first call to learn the output schema, counted in that call's time), one
    connection per session, without the client's own work (httpx2, models, output-schema validation): a fraction of
    its CPU per call, so that the servers, not the generator, set the pace. Answers as JSON or as an SSE stream."""
    latencies: list[float] = []
    errors: list[str] = []

    async def rpc(http: WireConnection, number: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": number, "method": method, "params": {**params, "_meta": META}}
        status, kind, content = await http.post(method, params.get("name"),
                                                json.dumps(body, separators=(",", ":")).encode())
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {content[:150].decode(errors='replace')}")
        if kind.startswith("text/event-stream"):
            events = [json.loads(line[5:]) for line in content.decode().splitlines() if line.startswith("data:")]
            answer = next((e for e in events if e.get("id") == number), None)
            if answer is None:
                raise RuntimeError("SSE stream ended without the answer")
        else:
            answer = json.loads(content)
        if "error" in answer:
            raise RuntimeError(f"JSON-RPC error {answer['error']}"[:200])
        return answer["result"]

    async def session(n: int) -> None:
        http, done = WireConnection(url, tokens[n % len(tokens)] if tokens else ""), 0
        try:
            await rpc(http, 1, "server/discover", {})
            for call in range(calls):
                started = time.perf_counter()
                result = await rpc(http, 2 + 2 * call, "tools/call", {"name": tool, "arguments": arguments})
                if call == 0:
                    await rpc(http, 3, "tools/list", {})
                elapsed = time.perf_counter() - started
                done += 1
                if result.get("isError"):
                    errors.append(str(result.get("content"))[:200])
                else:
                    latencies.append(elapsed)
        except Exception as exc:  # a refused or broken session: its remaining calls are errors
            errors.extend([repr(exc)[:200]] * (calls - done))
        finally:
            http.close()

    began = time.perf_counter()
    async with anyio.create_task_group() as group:
        for n in range(sessions):
            group.start_soon(session, n)
    wall = time.perf_counter() - began
    return {"wall": wall, "latencies": latencies, "errors": len(errors), "first_errors": sorted(set(errors))[:3]}


def run_load(args: list[str]) -> None:
    url, sessions, calls, tool, arguments = args[0], int(args[1]), int(args[2]), args[3], json.loads(args[4])
    tokens = [t for t in os.environ.get("LOAD_TOKENS", "").split(",") if t]
    generate = generate_load if os.environ.get("LOAD_CLIENT") == "sdk" else generate_wire_load
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = anyio.run(generate, url, sessions, calls, tool, arguments, tokens)
    after = resource.getrusage(resource.RUSAGE_SELF)  # the load's own CPU: not the start-up's imports
    result["load_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps(result))


def load(url: str, pid: int, sessions: int, calls: int, tool: str, tokens: list[str],
         emulator_pid: int | None = None) -> dict[str, Any]:
    """One load run: the generator's figures, plus the CPU the server (user, system), the generator and the
    emulators spent meanwhile, and the server's RSS after."""
    user, system = cpu_seconds(pid)
    emulator = sum(cpu_seconds(emulator_pid)) if emulator_pid else 0.0
    done = subprocess.run([sys.executable, __file__, "_load", url, str(sessions), str(calls), tool, "{}"],
                          capture_output=True, text=True, check=False,
                          env=clean_env(LOAD_TOKENS=",".join(tokens), LOAD_CLIENT=LOAD_CLIENT))
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    user_after, system_after = cpu_seconds(pid)
    result["cpu_user"], result["cpu_sys"] = user_after - user, system_after - system
    result["cpu"] = result["cpu_user"] + result["cpu_sys"]
    result["emulator_cpu"] = sum(cpu_seconds(emulator_pid)) - emulator if emulator_pid else float("nan")
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


def http_table(keys: dict[str, str], urls: dict[str, Any], state_url: str, session_counts: list[int],
               calls: int, rounds: int = 1, before: str | None = None) -> None:
    tokens = {name: secrets.token_urlsafe(32) for name, _ in TOKEN_NAMES}
    folder = Path(tempfile.mkdtemp(prefix="team-tokens-"))
    tokens_file = folder / "tokens"
    tokens_file.write_text("".join(f"{name} {tokens[name]} {scopes}\n" for name, scopes in TOKEN_NAMES))
    ours_port, bare_port = free_port(), free_port()
    with ExitStack() as stack:
        ours = stack.enter_context(process([*SERVE, "--transport", "http", "--port", str(ours_port)],
                                           clean_env(**team_env(keys, urls, state_url, tokens_file)), ours_port))
        bare = stack.enter_context(process(BARE, bare_env(keys, urls, BARE_HTTP_PORT=str(bare_port)), bare_port))
        targets = {"bare SDK server": (f"http://127.0.0.1:{bare_port}/mcp", bare.pid, "fetch", []),
                   "ours, team config": (f"http://127.0.0.1:{ours_port}/mcp", ours.pid, READ_TOOL,
                                         list(tokens.values()))}
        if before:  # the same configuration served by other source (`git archive <commit> src`): before/after
            before_port = free_port()
            env = clean_env(**team_env(keys, urls, state_url, tokens_file), PYTHONPATH=before)
            old = stack.enter_context(process([*SERVE, "--transport", "http", "--port", str(before_port)], env,
                                              before_port))
            targets["ours, before"] = (f"http://127.0.0.1:{before_port}/mcp", old.pid, READ_TOOL,
                                       list(tokens.values()))
        time.sleep(1)  # both listening: let start-up finish before reading their memory
        print_memory("idle RSS before any request", targets)
        for url, pid, tool, who in targets.values():  # warm-up: imports, pools, the first database connections
            load(url, pid, 6, 2, tool, who)
        print_memory("RSS after the warm-up (6 sessions, 2 calls each)", targets)
        for url, pid, _, who in targets.values():  # a read of the journal: the state database's first use
            if who:
                load(url, pid, 1, 1, "GetIntegrationChanges", who)
        print_memory("RSS after one GetIntegrationChanges (ours' first use of the state database)", targets)
        for sessions in session_counts:
            ratios = []
            for turn in range(rounds):  # rotate: over len(targets) rounds each server runs in each place
                items = list(targets.items())
                order = items[turn % len(items):] + items[:turn % len(items)]
                results = {name: load(url, pid, sessions, calls, tool, who, urls.get("pid"))
                           for name, (url, pid, tool, who) in order}
                ratios.append(print_http_rows(sessions, calls, results, f" (round {turn + 1})" if rounds > 1 else ""))
            if rounds > 1:
                for name in ratios[0]:
                    print(f"  median of {rounds} rounds, {name} / bare (range): " + ", ".join(
                        f"{label} {spread([r[name][key] for r in ratios])}"
                        for key, label in (("rate", "throughput"), ("p99", "p99"), ("cpu", "CPU per call"))))
            if before:  # after against before directly, round by round (they run side by side in each round)
                after, prior = "ours, team config", "ours, before"
                print(f"  {'median' if rounds > 1 else 'one round'}, {after} / before (range): " + ", ".join(
                    f"{label} {spread([r[after][key] / r[prior][key] for r in ratios])}"
                    for key, label in (("rate", "throughput"), ("p99", "p99"), ("cpu", "CPU per call"))))


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def print_memory(title: str, targets: dict[str, tuple[str, int, str, list[str]]]) -> None:
    """Each server's VmRSS with its ratio to the bare server's, and the anonymous (heap, modules' objects) and
    file-backed (shared libraries, code) parts from /proc/PID/smaps_rollup."""
    figures = {name: memory_mb(pid) for name, (_, pid, _, _) in targets.items()}
    bare = figures["bare SDK server"]["rss"]
    print(f"{title}: " + ", ".join(f"{name} {mb['rss']:.1f} MB ({mb['rss'] / bare:.2f}x; anon {mb['anon']:.0f}, "
                                   f"file {mb['file']:.0f})" for name, mb in figures.items()))


def memory_mb(pid: int) -> dict[str, float]:
    rollup = {line.split(":")[0]: int(line.split()[1]) / 1024
              for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]}
    return {"rss": rss_mb(pid), "anon": rollup["Anonymous"], "file": rollup["Rss"] - rollup["Anonymous"]}


def print_http_rows(sessions: int, calls: int, results: dict[str, dict[str, Any]], title: str = "") -> dict:
    """The rows of one load run; returns, for each of ours, its ratios to bare (throughput, p99, CPU per call)."""
    base = summary(results["bare SDK server"], calls * sessions)
    print(f"\n{sessions} sessions x {calls} calls ({sessions * calls} calls each){title}")
    print(f"  {'server':<18}{'calls/s':>8}{'ratio':>6}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>6}{'errors':>7}"
          f"{'CPU ms/call':>12}{'(user':>6}{'sys)':>5}{'ratio':>6}{'load gen':>9}{'emulators':>10}{'RSS MB':>7}")
    ours: dict[str, dict[str, float]] = {}
    for name, result in results.items():
        row = summary(result, calls * sessions)
        ratios = {k: row[k] / base[k] for k in ("rate", "p99", "cpu")}
        if name != "bare SDK server":
            ours[name] = ratios
        print(f"  {name:<18}{row['rate']:>8.1f}{ratios['rate']:>6.2f}{row['p50']:>8.0f}{row['p99']:>8.0f}"
              f"{ratios['p99']:>6.2f}{result['errors']:>7d}{row['cpu']:>12.2f}{row['user']:>6.1f}{row['sys']:>5.1f}"
              f"{ratios['cpu']:>6.2f}{row['load']:>9.2f}{row['emulators']:>10.2f}{result['rss']:>7.0f}")
        for error in result["first_errors"]:
            print(f"    error: {error}")
    return ours


def summary(result: dict[str, Any], calls: int) -> dict[str, float]:
    """Calls a second, p50/p99 in ms, and CPU ms per call: the server's (user, system), the load generator's and
    the emulators'."""
    latencies = sorted(result["latencies"]) or [float("nan")]
    ok = len(result["latencies"])
    per_call = 1000 / max(1, calls)
    return {"rate": ok / result["wall"], "p50": statistics.median(latencies) * 1000,
            "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
            "cpu": result["cpu"] * per_call, "user": result["cpu_user"] * per_call,
            "sys": result["cpu_sys"] * per_call, "load": result["load_cpu"] * per_call,
            "emulators": result["emulator_cpu"] * per_call}


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
    parser.add_argument("--client", choices=("wire", "sdk"), default="wire",
                        help="load generator: the SDK client's requests sent directly (default), or the SDK's Client")
    parser.add_argument("--before", metavar="SRC", help="also serve the team configuration from this source folder "
                        "(PYTHONPATH), e.g. `git archive <commit> src | tar -x -C /tmp/before` then /tmp/before/src")
    parser.add_argument("--integrations", type=int, default=0, help="CxEngage integrations added to the emulator's "
                        "fixtures for the HTTP load (40: ours answers a full default page, bare the whole list)")
    parser.add_argument("--rounds", type=int, default=1, help="load runs per session count (alternating who goes "
                        "first), with the median ratios")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="let every process run on any CPU "
                        "(default: the HTTP servers on a CPU of their own, when there are two or more)")
    args = parser.parse_args()
    global LOAD_CLIENT
    LOAD_CLIENT = args.client
    keys = real_length_keys()
    pinning = pin_cpus(args.pin)  # before PostgreSQL and the emulators start: they inherit this process's CPUs
    with ExitStack() as stack:
        state_url, state_kind = stack.enter_context(state_database(stack))
        print(f"team configuration: both vendors (keys of real length), INTEGRATIONS_STATE_KEY, {len(TOKEN_NAMES)} "
              f"bearer tokens; state: {state_kind}; CPUs: {os.cpu_count()}, {pinning}")
        urls = stack.enter_context(emulators(keys, args.integrations))
        print(f"HTTP: load generator and emulators in processes of their own; tool: ours {READ_TOOL}, bare one GET "
              f"of the same endpoint; CxEngage integrations added to the fixtures: {args.integrations}")
        http_table(keys, urls, state_url, args.sessions, args.calls, args.rounds, args.before)
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
