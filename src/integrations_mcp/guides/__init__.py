"""Markdown guides served as MCP resources at guide://<folder>/<name>: the vendor-neutral ones here (common/), each
vendor's in its own folder (vendors/<name>/guides/)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resources import TextResource

__all__ = ["common_guides", "read_guides", "register_guides"]


def read_guides(folders: dict[str, Traversable]) -> dict[str, str]:
    """{uri: markdown} for every guide in the given folders ({"common": <dir>, "revcent": <dir>})."""
    guides: dict[str, str] = {}
    for name, directory in folders.items():
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                guides[f"guide://{name}/{entry.name.removesuffix('.md')}"] = entry.read_text(encoding="utf-8")
    return guides


def common_guides() -> Traversable:
    return files(__package__).joinpath("common")


def register_guides(server: MCPServer, guides: dict[str, str]) -> None:
    """`guides`: {uri: markdown}, as `read_guides` gives them."""
    for uri, text in guides.items():
        title = text.splitlines()[0].lstrip("# ").strip() if text else uri
        server.add_resource(TextResource(uri=uri, name=uri.removeprefix("guide://"), title=title,
                                         description=title, mime_type="text/markdown", text=text))
