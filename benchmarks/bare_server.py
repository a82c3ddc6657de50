"""The baseline the cold-start benchmark compares against: a bare one-tool SDK server over stdio.

With BARE_GET_URL set, its tool does one GET of that URL with an httpx2 client made at start (the sandbox tool-call
baseline); otherwise it echoes."""

from __future__ import annotations

import os

import httpx2
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")
URL = os.environ.get("BARE_GET_URL")
HEADERS = {key: value for key, value in (h.split(":", 1) for h in os.environ.get("BARE_GET_HEADERS", "").split("|")
                                         if h)}
http = httpx2.AsyncClient(headers=HEADERS) if URL else None


@server.tool()
async def fetch(text: str = "") -> str:
    """Echo `text`, or GET the configured URL and return its body."""
    if http is None:
        return text
    response = await http.get(URL)
    return response.text


if __name__ == "__main__":
    server.run()
