"""The tools that read nothing from a vendor, over stdio, against a bare SDK server returning the same answer
(issue 22): GetIntegrationGuide (a whole guide, one section) and GetIntegrationChanges (a page, a filtered page, one
change in full) on a journal of --rows changes in a SQLite file.

Ours: `integrations-mcp serve` in the team configuration's shape (both vendors with keys of real length, a state key,
the SQLite file). Bare: benchmarks/bare_server.py returning, as a constant read at its start, the exact text our tool
answered first, so both send answers of the same size; ours also sends the structured content, reads the guide or
the database and passes its output filter. Calls alternate; medians of the time per call, and each server's CPU per
call (/proc utime+stime). Figures, not assertions; the machine may be shared: compare the ratios of one run.
Run: .venv/bin/python benchmarks/local_reads.py [--calls 40] [--rows 1000]"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from cxengage_list import child_pid, cpu_seconds  # noqa: E402
from journal_rows import _rows  # noqa: E402
from tests.harness import SERVE, clean_env  # noqa: E402

TOOLS: list[tuple[str, dict[str, Any]]] = [
    ("GetIntegrationGuide", {"guide": "common/guardrails"}),
    ("GetIntegrationGuide", {"guide": "cxengage/types", "section": "zendesk"}),
    ("GetIntegrationChanges", {}),
    ("GetIntegrationChanges", {"vendor": "cxengage", "days": 7}),
    ("GetIntegrationChanges", {"change_id": "@newest"}),
]
WARM_UP = 3


async def journal_file(folder: Path, rows: int) -> str:
    from sqlalchemy import insert

    from integrations_mcp.state.schema import journal
    from integrations_mcp.state.store import StateStore

    url = f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}"
    store = StateStore(url)
    made = _rows(rows, time.time())
    async with store.begin() as conn:
        for start in range(0, rows, 500):
            await conn.execute(insert(journal), made[start:start + 500])
    await store.close()
    return url


def team_env(state_url: str) -> dict[str, str]:
    return clean_env(REVCENT_API_KEY=secrets.token_hex(20), CXENGAGE_API_KEY=str(uuid.uuid4()),
                     CXENGAGE_API_SECRET=secrets.token_urlsafe(32), CXENGAGE_TENANT_ID=str(uuid.uuid4()),
                     INTEGRATIONS_STATE_URL=state_url, INTEGRATIONS_STATE_KEY=secrets.token_urlsafe(32),
                     INTEGRATIONS_LOG_LEVEL="WARNING")


async def measure(calls: int, rows: int) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    with tempfile.TemporaryDirectory() as folder:
        url = await journal_file(Path(folder), rows)
        ours = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=team_env(url))
        print(f"{calls} alternating calls each over stdio, a journal of {rows} changes (SQLite file); bare: the same "
              "answer text as a constant")
        print(f"  {'tool':<22}{'arguments':<34}{'chars':>7}{'bare ms':>9}{'ours ms':>9}{'ratio':>7}"
              f"{'bare CPU':>9}{'ours CPU':>9}{'ratio':>7}")
        with open(os.devnull, "w") as errlog:
            async with Client(stdio_client(ours, errlog=errlog)) as client:
                ours_pid = child_pid("integrations_mcp")
                newest = (await client.call_tool("GetIntegrationChanges", {"limit": 1})).structured_content
                values = {"@newest": newest["results"][0]["id"] if newest else 1}
                for tool, raw in TOOLS:
                    arguments = {k: values.get(v, v) if isinstance(v, str) else v for k, v in raw.items()}
                    first = await client.call_tool(tool, arguments)
                    if first.is_error:
                        raise RuntimeError(f"{tool}: {first.content}")
                    text = "".join(getattr(c, "text", "") for c in first.content)
                    constant = Path(folder) / "answer.txt"
                    constant.write_text(text, encoding="utf-8")
                    bare = StdioServerParameters(command=sys.executable, args=[str(HERE / "bare_server.py")],
                                                 env=clean_env(BARE_TEXT_FILE=str(constant)))
                    async with Client(stdio_client(bare, errlog=errlog)) as bare_client:
                        bare_pid = child_pid("bare_server.py")
                        runs = {"bare": (bare_client, "fetch", {}, bare_pid),
                                "ours": (client, tool, arguments, ours_pid)}
                        times: dict[str, list[float]] = {"bare": [], "ours": []}
                        cpu: dict[str, float] = {}
                        for i in range(calls + WARM_UP):
                            if i == WARM_UP:
                                cpu = {name: -cpu_seconds(run[3]) for name, run in runs.items()}
                            for name, (c, t, a, _) in runs.items():
                                started = time.perf_counter()
                                result = await c.call_tool(t, a)
                                if result.is_error:
                                    raise RuntimeError(f"{t}: {result.content}")
                                if i >= WARM_UP:
                                    times[name].append(time.perf_counter() - started)
                        cpu = {name: (value + cpu_seconds(runs[name][3])) * 1000 / calls
                               for name, value in cpu.items()}
                    b, o = statistics.median(times["bare"]) * 1000, statistics.median(times["ours"]) * 1000
                    shown = ", ".join(f"{k}={v}" for k, v in arguments.items()) or "(none)"
                    print(f"  {tool:<22}{shown[:33]:<34}{len(text):>7}{b:>9.2f}{o:>9.2f}{o / b:>7.2f}"
                          f"{cpu['bare']:>9.2f}{cpu['ours']:>9.2f}{cpu['ours'] / max(cpu['bare'], 1e-9):>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    asyncio.run(measure(args.calls, args.rows))


if __name__ == "__main__":
    main()
