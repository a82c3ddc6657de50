"""Markdown guides shipped in the package and served as MCP resources at guide://<folder>/<name>."""

from __future__ import annotations

from importlib.resources import files

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resources import TextResource

__all__ = ["guide_uris", "read_guides", "register_guides"]


def read_guides(folders: list[str]) -> dict[str, str]:
    """{uri: markdown} for every guide in the given folders (e.g. "common", "revcent")."""
    root = files(__package__)
    guides: dict[str, str] = {}
    for folder in folders:
        directory = root.joinpath(folder)
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                guides[f"guide://{folder}/{entry.name.removesuffix('.md')}"] = entry.read_text(encoding="utf-8")
    return guides


def guide_uris(folders: list[str]) -> list[str]:
    return list(read_guides(folders))


def register_guides(server: MCPServer, folders: list[str]) -> None:
    for uri, text in read_guides(folders).items():
        title = text.splitlines()[0].lstrip("# ").strip() if text else uri
        server.add_resource(TextResource(uri=uri, name=uri.removeprefix("guide://"), title=title,
                                         description=title, mime_type="text/markdown", text=text))
