"""What the person is asked, in words for a person: one question naming the integration (no tool names, ids or
instructions meant for the model), every field the write changes (secrets only as set or replaced), each line
once, and what happens if they agree. The same question is the elicitation message (`text`) and the approval page
(`approvals.page`), which stores it with the approval (`to_json`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations_mcp.guardrails.outputs import clean_text
from integrations_mcp.pipeline.changes import FieldChange

__all__ = ["Question", "label_of", "person_target"]

_IDS = re.compile(r"\s*\([^()]*\)\s*$")  # "… 'Support CRM' (3f2a…, tenant 9c1e…)": the ids the person need not read
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def person_target(target: str) -> str:
    """The integration as the person reads it, without the ids the model needs."""
    return clean_text(_IDS.sub("", target))


def label_of(field_path: str, labels: Mapping[str, str]) -> str:
    """A plain label: the vendor's own when it gave one, else the path in words ("properties.endpointPrefix" →
    "Endpoint prefix")."""
    if field_path in labels:
        return labels[field_path]
    parts = [p for p in field_path.split(".") if p not in ("properties", "third_party_options")]
    words = [_CAMEL.sub(" ", p).replace("_", " ").strip().lower() for p in parts] or [field_path]
    text = " › ".join(words)
    return text[:1].upper() + text[1:]


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return f"“{value}”" if isinstance(value, str) else str(value)


def change_line(change: FieldChange, *, secret: bool, labels: Mapping[str, str]) -> str:
    label = label_of(change.field, labels)
    if secret:
        return f"{label}: {'replaced' if change.overwrites else 'set'} (the value is not shown)"
    return f"{label}: {_value(change.saved)} → {_value(change.proposed)}"


def _again(template: str) -> str:
    """A further question about the same integration, joined to the first: "…, and rename it"."""
    for whole, short in (("the saved secrets of {target}", "its saved secrets"), ("Turn off {target}", "turn it off"),
                         (" of {target}", ""), ("{target}", "it")):
        template = template.replace(whole, short)
    text = template.rstrip("?")
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class Question:
    title: str  # "Turn off the CxEngage Salesforce integration 'Support CRM'?"
    changes: list[str] = field(default_factory=list)  # one line per field, in the write's order
    consequences: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, titles: Iterable[str], target: str, changes: Iterable[FieldChange], secrets: Iterable[str],
           consequences: Iterable[str], labels: Mapping[str, str] | None = None) -> Question:
        """`titles`: each request's question with `{target}` for the integration; the first is the question, the
        others join it ("…, and rename it?")."""
        target = person_target(target)
        templates = list(dict.fromkeys(titles)) or ["Change {target}?"]
        first, *more = templates
        title = first.format(target=target)
        if more:
            title = title.rstrip("?") + " and " + " and ".join(_again(t) for t in more) + "?"
        hidden = set(secrets)
        lines = [change_line(c, secret=c.field in hidden or c.field.split(".")[-1] in hidden, labels=labels or {})
                 for c in changes]
        return cls(clean_text(title), [clean_text(line) for line in dict.fromkeys(lines)],
                   [clean_text(c) for c in dict.fromkeys(consequences) if c])

    def text(self) -> str:
        """For an elicitation message (plain text)."""
        parts = [self.title, "", "What changes:", *(f"• {line}" for line in self.changes)]
        if self.consequences:
            parts += ["", "What this means:", *self.consequences]
        parts += ["", "Nothing is written unless you approve."]
        return "\n".join(parts)

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "changes": self.changes, "consequences": self.consequences})

    @classmethod
    def from_json(cls, stored: str) -> Question:
        try:
            data = json.loads(stored)
            return cls(str(data["title"]), [str(x) for x in data["changes"]], [str(x) for x in data["consequences"]])
        except (ValueError, KeyError, TypeError):  # an approval stored before questions were: its text as one line
            return cls("Approve this change?", [line.lstrip("- ") for line in stored.splitlines() if line.strip()])
