"""What the server costs an agent: the size of tools/list (paid in every conversation) and the latency of a tool
call in-process against the emulators, per vendor configuration. Figures, not assertions: run it side by side
before and after a change (`python benchmarks/footprint.py`) and compare.

Tokens are estimated as characters / 4 (a rough rule for English and JSON); compare ratios, not absolutes."""

from __future__ import annotations

import json
import statistics
import time

import anyio
from emulated import emulated_server  # this folder (run as a script)
from mcp import Client

CALLS = 200


async def measure(vendors: set[str]) -> dict[str, float]:
    server = emulated_server(vendors=vendors)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        listing = json.dumps([t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools])
        tool, args = (("GetSiteThirdPartyIntegrations", {"limit": 5}) if "revcent" in vendors
                      else ("GetCxEngageIntegrations", {}))
        timings = []
        for _ in range(CALLS):
            start = time.perf_counter()
            result = await client.call_tool(tool, args)
            timings.append(time.perf_counter() - start)
            assert not result.is_error
    timings.sort()
    return {"tools": len(tools), "list_chars": len(listing), "list_tokens_est": len(listing) / 4,
            "call_median_ms": statistics.median(timings) * 1000, "call_p95_ms": timings[int(0.95 * CALLS)] * 1000}


async def main() -> None:
    print(f"{'vendors':<18}{'tools':>6}{'list chars':>12}{'~tokens':>9}{'call median ms':>16}{'p95 ms':>8}")
    for vendors in ({"revcent"}, {"cxengage"}, {"revcent", "cxengage"}):
        r = await measure(vendors)
        print(f"{'+'.join(sorted(vendors)):<18}{r['tools']:>6}{r['list_chars']:>12}{r['list_tokens_est']:>9.0f}"
              f"{r['call_median_ms']:>16.2f}{r['call_p95_ms']:>8.2f}")


if __name__ == "__main__":
    anyio.run(main)
