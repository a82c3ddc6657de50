"""The guides as a tool, for clients that do not let the model read MCP resources (Claude Desktop among them).

Same text as the `guide://` resources; a `section` returns one `##` part only (e.g. one CxEngage type), so a need
is met by a few hundred tokens instead of a whole guide.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field

from integrations_mcp.errors import GuardrailError
from integrations_mcp.toolkit.annotations import READ_ONLY
from integrations_mcp.toolkit.declare import tool

__all__ = ["GuideTools"]

_HEADING = re.compile(r"^## ", re.MULTILINE)


class Guide(BaseModel):
    guide: str
    section: str | None = None
    text: str
    sections: list[str] = Field(description="The guide's sections, for `section`.")

    def answer(self) -> str:
        return self.text  # the guide text is the answer


class GuideTools:
    def __init__(self, guides: dict[str, str]) -> None:
        self.guides = guides  # uri -> markdown

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
        text = self.guides.get(uri)
        if text is None:
            names = ", ".join(u.removeprefix("guide://") for u in self.guides)
            raise GuardrailError(f"Refused: no guide {guide!r}. Guides: {names}.")
        head, *parts = _HEADING.split(text)
        titles = [part.splitlines()[0].strip() for part in parts]
        if section is None:
            return Guide(guide=uri, text=text, sections=titles)
        wanted = section.strip().strip("`").casefold()
        for title, part in zip(titles, parts, strict=True):
            if wanted in title.replace("`", "").casefold():
                return Guide(guide=uri, section=title, text=f"## {part.strip()}", sections=titles)
        raise GuardrailError(f"Refused: no section {section!r} in {uri}. Sections: {'; '.join(titles)}.")
