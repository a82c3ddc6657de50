"""What the model reads from GetCxEngageIntegrations on a large tenant: the answer's size (text and structured
content, in characters) for the first page, a filtered call and the widest page, at several tenant sizes.
Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/cxengage_list.py [integrations ...]"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.harness import connect, cxengage_settings  # noqa: E402  (a real MCP session on the emulator)


async def measure(count: int) -> list[tuple[str, int, int]]:
    emu = CxEngageEmulator()
    for n in range(count):
        emu.add_integration(SANDBOX_TENANT_ID, ("rest", "zendesk", "salesforce")[n % 3], f"Integration {n:05}",
                            description=f"Look-ups for team {n % 40} of the contact centre")
    rows = []
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        for label, arguments in (("first page (default)", {}), ("name filter", {"name": "00042"}),
                                 ("type filter, page 2", {"type": "Zendesk", "page": 2}),
                                 ("widest page (limit 200)", {"limit": 200})):
            result = await cx.call("GetCxEngageIntegrations", tenant_id=SANDBOX_TENANT_ID, **arguments)
            text = "".join(getattr(c, "text", "") for c in result.content)
            rows.append((label, len(text), len(json.dumps(result.structured_content))))
    return rows


def main() -> None:
    logging.disable(logging.INFO)  # the figures only, not every emulator request
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000, 5000]
    print(f"{'integrations':>12}  {'call':<26}{'text chars':>11}{'structured chars':>18}")
    for size in sizes:
        for label, text, structured in asyncio.run(measure(size)):
            print(f"{size:>12}  {label:<26}{text:>11}{structured:>18}")


if __name__ == "__main__":
    main()
