"""Markdown guides served as MCP resources at guide://<folder>/<name>: the vendor-neutral ones here (common/), each
vendor's in its own folder (vendors/<name>/guides/).

A guide's text is read from its file each time it is asked for, never kept: the server holds only the names and
titles (about 200 KB of text that a start, and most conversations, never read)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resources import FunctionResource

__all__ = ["Guides", "common_guides", "read_guides", "register_guides"]


class Guides(Mapping[str, str]):
    """{uri: markdown}, in the order the guides were found; each text is read when it is looked up."""

    def __init__(self, sources: dict[str, Traversable]) -> None:
        self._sources = sources

    def __getitem__(self, uri: str) -> str:
        return self._sources[uri].read_text(encoding="utf-8")

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def title(self, uri: str) -> str:
        """The first line without its `#`s (the uri for an empty guide)."""
        text = self[uri]
        return text.splitlines()[0].lstrip("# ").strip() if text else uri


def read_guides(folders: dict[str, Traversable]) -> Guides:
    """Every guide in the given folders ({"common": <dir>, "revcent": <dir>}), by uri."""
    sources: dict[str, Traversable] = {}
    for name, directory in folders.items():
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                sources[f"guide://{name}/{entry.name.removesuffix('.md')}"] = entry
    return Guides(sources)


def common_guides() -> Traversable:
    return files(__package__).joinpath("common")


def register_guides(server: MCPServer, guides: Guides) -> None:
    """Each guide as a text/markdown resource, read when a client reads it."""
    for uri in guides:
        title = guides.title(uri)

        async def read(uri: str = uri) -> str:
            return guides[uri]

        server.add_resource(FunctionResource(uri=uri, name=uri.removeprefix("guide://"), title=title,
                                             description=title, mime_type="text/markdown", fn=read))
