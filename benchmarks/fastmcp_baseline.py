"""The token baseline: FastMCP's OpenAPI importer over the three RevCent seed operations. Runs in its own venv
(benchmarks/tokens.py makes it; fastmcp is never a dependency of the project) and prints the tools/list it serves as
JSON: `python fastmcp_baseline.py SEEDS_DIR`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx2
from fastmcp import Client, FastMCP

SEEDS = ("revcent-create-user-integration.openapi.json", "revcent-edit-user-integration.openapi.json",
         "revcent-get-user-integration.openapi.json")
SERVER = "https://api.revcent.com/v2"


def openapi_document(seeds: Path) -> dict[str, object]:
    """The seed files are single operations (method, path, operation); put them in one OpenAPI document."""
    paths: dict[str, dict[str, object]] = {}
    for name in SEEDS:
        operation = json.loads((seeds / name).read_text(encoding="utf-8"))
        method, path = operation.pop("method").lower(), operation.pop("path").removeprefix(SERVER)
        paths.setdefault(path, {})[method] = operation
    return {"openapi": "3.1.0", "info": {"title": "RevCent", "version": "2"}, "servers": [{"url": SERVER}],
            "paths": paths}


async def main() -> None:
    server = FastMCP.from_openapi(openapi_spec=openapi_document(Path(sys.argv[1])),
                                  client=httpx2.AsyncClient(base_url=SERVER), name="revcent-openapi")
    async with Client(server) as client:
        tools = await client.list_tools()
    print(json.dumps([tool.model_dump(by_alias=True, exclude_none=True, mode="json") for tool in tools]))


if __name__ == "__main__":
    asyncio.run(main())
