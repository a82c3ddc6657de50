"""The baseline the benchmarks compare against: a bare one-tool SDK server, over stdio (or streamable HTTP on
127.0.0.1:BARE_HTTP_PORT when that is set).

Its tool `fetch`:
- with BARE_REQUESTS (a JSON list of {"method", "url", "headers", "body"}), sends those requests in order (the same
  requests one of our tools sent: benchmarks/team.py records them) and returns the last answer's body;
- with BARE_GET_URL, does one GET of that URL (BARE_GET_HEADERS: `name:value|...`);
- with BARE_TEXT_FILE, returns that file's text (read once, at start: a constant of the size of our answer);
- otherwise echoes `text`.
One httpx2 client, made at start, keeping as many connections alive as ours does (lazy_http.VENDOR_CONNECTIONS), with
ours' default timeout;
logging at WARNING as the team benchmark runs ours (the SDK's default, INFO, writes a line per HTTP request): like
with like."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx2
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare", log_level="WARNING")
URL = os.environ.get("BARE_GET_URL")
HEADERS = {key: value for key, value in (h.split(":", 1) for h in os.environ.get("BARE_GET_HEADERS", "").split("|")
                                         if h)}
REQUESTS = json.loads(os.environ.get("BARE_REQUESTS", "[]"))
CONSTANT = Path(os.environ["BARE_TEXT_FILE"]).read_text(encoding="utf-8") if os.environ.get("BARE_TEXT_FILE") else None
LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
TIMEOUT = 20.0  # ours: INTEGRATIONS_HTTP_TIMEOUT's default (httpx2's 5 s failed bare calls waiting for a connection)
http = httpx2.AsyncClient(headers=HEADERS, limits=LIMITS, timeout=TIMEOUT) if URL or REQUESTS else None


@server.tool()
async def fetch(text: str = "") -> str:
    """Echo `text`, or return the configured constant, or send the configured request(s) and return the last
    body."""
    if CONSTANT is not None:
        return CONSTANT
    if http is None:
        return text
    if REQUESTS:
        body = ""
        for request in REQUESTS:
            response = await http.request(request["method"], request["url"], headers=request["headers"],
                                          content=request["body"].encode("latin-1") or None)
            body = response.text
        return body
    response = await http.get(URL)
    return response.text


if __name__ == "__main__":
    if port := os.environ.get("BARE_HTTP_PORT"):
        server.run("streamable-http", host="127.0.0.1", port=int(port))
    else:
        server.run()
