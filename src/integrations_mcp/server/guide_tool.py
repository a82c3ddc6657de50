"""The guides as a tool, for clients that do not let the model read MCP resources (Claude Desktop among them).

Same text as the `guide://` resources; a `section` returns one `##` part only (e.g. one CxEngage type), so a need
is met by a few hundred tokens instead of a whole guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.guardrails.outputs import clean_text, known_secrets, own_link
from integrations_mcp.toolkit.annotations import READ_ONLY
from integrations_mcp.toolkit.declare import DeferredModel, tool

__all__ = ["GuideTools"]

_HEADING = re.compile(r"^## ", re.MULTILINE)


class Guide(DeferredModel):
    guide: str
    section: str | None = None
    text: str
    sections: list[str] = Field(description="The guide's sections, for `section`.")

    def answer(self) -> str:
        return self.text  # the guide text is the answer


@dataclass(frozen=True)
class _Parsed:
    """A guide split once, on its first read: its text, section titles and `## ` sections."""

    text: str
    titles: tuple[str, ...]
    sections: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Parsed:
        _, *parts = _HEADING.split(text)
        return cls(text, tuple(part.splitlines()[0].strip() for part in parts),
                   tuple(f"## {part.strip()}" for part in parts))


class GuideTools:
    def __init__(self, guides: dict[str, str]) -> None:
        self.guides = guides  # uri -> markdown
        self._parsed: dict[str, _Parsed] = {}  # split on first read (not at start)
        self._secrets: frozenset[str] | None = None  # the configured secrets `_filtered` holds texts for
        self._filtered: dict[str, str] = {}

    def _passed(self, text: str) -> str:
        """`text` (the package's own guide or section) as the output filter gives it, filtered once per set of
        configured secrets (fixed for a server process), and registered to pass this call's filter whole: a whole
        guide is ~15 KB, whose scan for secret-looking values took ~10 ms on every call, twice (the text and the
        structured content). Only the answer's text is registered: a title is part of it, and is filtered as usual."""
        secrets = known_secrets()
        if secrets != self._secrets:
            self._secrets, self._filtered = secrets, {}
        filtered = self._filtered.get(text)
        if filtered is None:
            filtered = self._filtered[text] = clean_text(text)
        return own_link(filtered)

    @tool(READ_ONLY, title="Read a guide")
    async def GetIntegrationGuide(
        self,
        guide: Annotated[str, Field(max_length=200, description="e.g. common/guardrails, cxengage/types.")],
        section: Annotated[str | None, Field(max_length=200, description="e.g. zendesk.")]
        = None,
    ) -> Guide:
        """A guide (how-to, rules, per-type requirements) or one section; each tool has one by its name."""
        uri = guide if guide.startswith("guide://") else f"guide://{guide.strip('/')}"
        if uri not in self.guides:  # a bare tool name: its vendor's guide of that name
            uri = next((u for u in self.guides if u.endswith(f"/{guide.strip('/')}")), uri)
        if uri not in self.guides:
            names = ", ".join(u.removeprefix("guide://") for u in self.guides)
            raise GuardrailError(f"Refused: no guide {guide!r}. Guides: {names}.")
        parsed = self._parsed.get(uri) or self._parsed.setdefault(uri, _Parsed.of(self.guides[uri]))
        titles = list(parsed.titles)
        if section is None:
            return Guide(guide=uri, text=self._passed(parsed.text), sections=titles)
        wanted = section.strip().strip("`").casefold()
        for title, part in zip(parsed.titles, parsed.sections, strict=True):
            if wanted in title.replace("`", "").casefold():
                return Guide(guide=uri, section=title, text=self._passed(part), sections=titles)
        raise GuardrailError(f"Refused: no section {section!r} in {uri}. Sections: {'; '.join(parsed.titles)}.")
