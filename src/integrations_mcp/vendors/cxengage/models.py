"""Typed shapes of CxEngage tool inputs and outputs. Property values in outputs are always redacted of secrets."""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from integrations_mcp.guardrails.secret_values import mask_secret_values
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.pipeline.changes import CHANGES_DESCRIPTION, VERIFIED_DESCRIPTION, FieldChange
from integrations_mcp.toolkit.answers import compact_json, write_answer
from integrations_mcp.toolkit.declare import DeferredModel
from integrations_mcp.vendors.cxengage.records import ListRow

LIST_LIMIT, MAX_LIST_LIMIT = 50, 200  # rows of GetCxEngageIntegrations per page: by default, at most
ROW_TEXT_CHARS = 200  # a list row's name or description beyond this is cut (the list stays bounded)

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Lowercased on the way in: the vendor writes UUIDs in lowercase, and ids are compared as strings.
# The schema says `format: uuid` (a few characters) instead of the 90-character pattern that is still enforced.
TenantId = Annotated[str, Field(pattern=UUID_PATTERN), WithJsonSchema({"type": "string", "format": "uuid"}),
                     AfterValidator(str.lower)]
IntegrationId = Annotated[str, Field(pattern=UUID_PATTERN), WithJsonSchema({"type": "string", "format": "uuid"}),
                          AfterValidator(str.lower)]
PropertyValue = str | bool | int | float | dict[str, Any]
Properties = Annotated[dict[str, PropertyValue], Field(
    description="Non-secret (GetIntegrationGuide cxengage/types, section=<type>).")]


class Integration(DeferredModel):
    id: str
    tenant_id: str | None = None
    name: str
    type: str
    description: str | None = None
    active: bool = False
    properties: dict[str, Any] = Field(description="Secret values are shown as [redacted] when set.")
    created: str | None = None
    updated: str | None = None


class Readiness(DeferredModel):
    missing_required: list[str] = Field(description="Required properties with no value.")
    secrets_set: list[str]
    secrets_missing: list[str] = Field(description="Required secrets to provide via CreateCxEngageSecureForm.")
    can_activate: bool
    blockers: list[str]

    def lines(self, *, blockers: bool = True) -> list[str]:
        """`blockers=False` in a write's answer, whose next steps already name them."""
        lines = [f"Readiness: can_activate={str(self.can_activate).lower()}; secrets set: "
                 f"{', '.join(self.secrets_set) or 'none'}"
                 + (f"; secrets missing: {', '.join(self.secrets_missing)}" if self.secrets_missing else "")
                 + (f"; required without a value: {', '.join(self.missing_required)}" if self.missing_required
                    else "") + "."]
        return lines + [f"Blocker: {b}" for b in self.blockers if blockers]


class IntegrationView(DeferredModel):
    integration: Integration
    readiness: Readiness
    learned: list[str] = []  # what this read taught the server about CxEngage (learned.py)

    def summary(self) -> str:
        i = self.integration
        return (f"{i.id} \"{i.name}\" ({i.type}): {'active' if i.active else 'inactive'}; properties "
                f"{compact_json(i.properties)}")

    def answer(self) -> str:
        return "\n".join([f"Integration {self.summary()}.", *self.readiness.lines(), *self.learned])


class IntegrationSummary(DeferredModel):
    id: str
    name: str
    type: str
    active: bool
    description: str | None = None


def summary(row: ListRow) -> dict[str, Any]:
    """A list row as the model sees it (IntegrationSummary's fields): bounded, and any secret-looking text in it
    masked. Plain fields: IntegrationList checks a page of them in one validation."""
    description = row["description"]
    return {"id": row["id"], "name": _bounded(mask_secret_values(row["name"], REDACTED)),
            "type": _bounded(mask_secret_values(row["type"], REDACTED), 60), "active": row["active"],
            "description": _bounded(mask_secret_values(description, REDACTED)) if description else description}


def _bounded(text: str, limit: int = ROW_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class IntegrationList(DeferredModel):
    tenant_id: str
    count: int  # integrations that match, on every page
    page: int = 1
    limit: int = LIST_LIMIT
    next_page: int | None = None
    complete: bool = True  # False: CxEngage's answer may leave integrations out (`note` says why)
    note: str | None = None
    results: list[IntegrationSummary]

    def answer(self) -> str:
        made = _made_for(self)
        if made is None:
            return self._answer()
        if made.text is None:
            made.text = self._answer()
            made.count(len(made.text))
        return made.text

    def structured_json(self) -> bytes:
        """This page's JSON as its serializer writes it (by alias), made once for a kept page (toolkit/answers.py)."""
        made = _made_for(self)
        if made is None:
            return self.__pydantic_serializer__.to_json(self, by_alias=True)
        if made.json is None:
            made.json = self.__pydantic_serializer__.to_json(self, by_alias=True)
            made.count(len(made.json))
        return made.json

    def model_dump(self, **options: Any) -> dict[str, Any]:  # type: ignore[override]
        """As pydantic's; the JSON dump (the SDK's structuredContent: `toolkit/server._converted`) of a kept page is
        made once and copied: a new dict, new rows, the same values (strings, numbers, booleans, None: every field
        of this model and of IntegrationSummary), so no call shares a container with another."""
        made = _made_for(self)
        if made is None or options != _JSON_DUMP or not _PLAIN:
            return super().model_dump(**options)
        if made.dump is None:
            made.dump = super().model_dump(**options)
            made.count(len(made.dump[_RESULTS]) * 64)
        dump = made.dump
        return {**dump, _RESULTS: [dict(row) for row in dump[_RESULTS]]}

    def _answer(self) -> str:
        rows = [f"- {r.id}: {r.name} ({r.type}, {'active' if r.active else 'inactive'})" for r in self.results]
        first = (self.page - 1) * self.limit + 1
        head = (f"{self.count} integrations in tenant {self.tenant_id}"
                + (f"; rows {first}-{first + len(rows) - 1}" if rows else "; none on this page") + ":")
        tail = [f"More: call again with page={self.next_page}."] if self.next_page else []
        warning = [f"Warning: {self.note}"] if self.note else []
        return "\n".join([*warning, head, *rows, *tail])


_JSON_DUMP = {"mode": "json", "by_alias": True}  # how the server dumps a tool's result (toolkit/server._converted)
_RESULTS = "results"
# The fields IntegrationList.model_dump's copy knows to hold plain values (strings, numbers, booleans, None) and its
# rows: another field turns the copy off (every dump is pydantic's).
_PLAIN = set(IntegrationList.model_fields) == {"tenant_id", "count", "page", "limit", "next_page", "complete", "note",
                                               _RESULTS} \
    and set(IntegrationSummary.model_fields) == {"id", "name", "type", "active", "description"}


class _Made:
    """What is made of a kept page (its JSON, its dump, its text), once asked for. Found by the page's id in `_made`,
    holding its page (so the id is not reused while it is there)."""

    __slots__ = ("dump", "json", "page", "text")

    def __init__(self, page: IntegrationList) -> None:
        self.page = page
        self.json: bytes | None = None
        self.dump: dict[str, Any] | None = None
        self.text: str | None = None

    def count(self, size: int) -> None:
        _made_bytes[0] += size


# Pages of GetCxEngageIntegrations kept on their listing (client.Listing.pages, tools.py): what is made of each, made
# once (a kept page is shared by the calls that read it and never changed). Bounded by what is made and by pages
# (emptied when full; a page no longer kept is made anew).
KEPT_MADE_BYTES = 4_000_000
KEPT_MADE_PAGES = 256
_made: dict[int, _Made] = {}
_made_bytes = [0]


def keep_page(page: IntegrationList) -> IntegrationList:
    """`page`, kept on a listing: what is made of it from now on is made once."""
    if _made_bytes[0] > KEPT_MADE_BYTES or len(_made) >= KEPT_MADE_PAGES:
        _made.clear()
        _made_bytes[0] = 0
    _made[id(page)] = _Made(page)
    return page


def _made_for(page: IntegrationList) -> _Made | None:
    made = _made.get(id(page))
    return made if made is not None and made.page is page else None


class SecureFormCreated(DeferredModel):
    secure_form_id: str
    form_url: str | None = Field(description="Give this link to the user (never open it yourself); absent when the "
                                             "user's client opened the form for them.")
    expires_at: int = Field(description="Unix seconds; the form and anything typed in it are deleted then.")
    type: str
    integration_id: str | None = None
    fields: list[str] = Field(description="The secret properties the user is asked for.")
    next_step: str

    def answer(self) -> str:
        expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.expires_at))
        lines = [f"Secure form {self.secure_form_id} for a {self.type} integration asks for {', '.join(self.fields)}; "
                 f"expires {expires}."]
        if self.form_url:
            lines.append(f"form_url (for the user to open; never open it yourself): {self.form_url}")
        return "\n".join([*lines, f"Next: {self.next_step}"])


class WriteResult(DeferredModel):
    dry_run: bool
    integration_id: str | None = None
    sent: dict[str, Any] = Field(description="Body sent (dry run: to send), secrets redacted.")
    changes: list[FieldChange] = Field(description=CHANGES_DESCRIPTION)
    verified: IntegrationView | None = Field(None, description=VERIFIED_DESCRIPTION)
    mismatches: list[str] = Field(default_factory=list, description="Read-back differences.")
    next_steps: list[str] = []

    def answer(self) -> str:
        return write_answer(dry_run=self.dry_run, target=self.integration_id, changes=self.changes,
                            read_back=self.verified.summary() if self.verified else None, mismatches=self.mismatches,
                            readiness=self.verified.readiness.lines(blockers=False) if self.verified else (),
                            next_steps=self.next_steps)
