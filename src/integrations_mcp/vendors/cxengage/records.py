"""CxEngage's integration record as it arrives on the wire. The client validates every answer into these, so an
answer of another shape stops there; properties stay raw (secrets included) because they are compared on this
server and redacted only in what the model sees (`views.py`). Every wire name here is a constant of `facts.py`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, NotRequired

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from integrations_mcp.toolkit.declare import DeferredModel
from integrations_mcp.vendors.cxengage.catalog import TYPES, normalise_type
from integrations_mcp.vendors.cxengage.facts import (
    BOOLEAN_STRINGS,
    ID_RE,
    PROPERTIES_KEY,
    RESULT_KEY,
    TENANT_KEY,
    TYPE_KEY,
)

__all__ = ["IntegrationRecord", "IntegrationRef", "IntegrationRow", "ListRow", "RawProperties", "list_answer",
           "list_rows", "read_bool"]


def read_bool(value: Any) -> bool:
    """Fact cxengage.booleans: a JSON boolean or exactly "true"/"false" (any case); anything else is no boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_STRINGS:
        return BOOLEAN_STRINGS[value.strip().lower()]
    raise ValueError("not a boolean")  # the value is not quoted: it may be anything, a secret included


def _uuid(value: str) -> str:
    """Fact cxengage.ids: a UUID, in lowercase (tool arguments are lowercased too). The value is never quoted."""
    if not ID_RE.fullmatch(value):
        raise ValueError("not a UUID")
    return value.lower()


Strict = Annotated[bool, BeforeValidator(read_bool)]
Uuid = Annotated[str, AfterValidator(_uuid)]
RawProperties = Annotated[dict[str, JsonValue], BeforeValidator(lambda value: value or {})]


class IntegrationRef(DeferredModel):
    """What every answer about one integration carries. A create's answer is read no further: the record is
    read back."""

    model_config = ConfigDict(frozen=True)

    id: Uuid


class IntegrationRow(IntegrationRef):
    """An entry of the tenant's list."""

    name: str = ""
    type: str = ""
    active: Strict
    description: str | None = None


@with_config(ConfigDict(extra="ignore"))  # its own, not the list answer's
class _RowShape(TypedDict):
    """IntegrationRow's fields and checks, for a whole list at once (below)."""

    id: Uuid
    name: NotRequired[str]
    type: NotRequired[str]
    active: Strict
    description: NotRequired[str | None]


@dataclass(frozen=True, slots=True)
class ListRow:
    """An entry of the tenant's list, checked as IntegrationRow is (`list_rows`, `list_answer`). A list is read whole
    on every call (fact cxengage.no_paging): one validation of the whole list and a plain object per row cost about
    half of a model per row."""

    id: str
    name: str = ""
    type: str = ""
    active: bool = False
    description: str | None = None


_ListAnswer = TypedDict("_ListAnswer", {RESULT_KEY: list[_RowShape]})  # noqa: UP013 (the wire name is a constant)


@cache
def list_rows() -> TypeAdapter[list[_RowShape]]:
    """A list's entries, every row checked (then ListRow(**entry) each). Built on first use, not at start."""
    return TypeAdapter(list[_RowShape])


@cache
def list_answer() -> TypeAdapter[Any]:
    """A list answer read from its JSON in one pass: the rows checked, the answer's other keys (paging) kept as they
    came, and nothing else of the rows built (their properties, secrets among them, are skipped)."""
    return TypeAdapter(with_config(ConfigDict(extra="allow"))(_ListAnswer))


class IntegrationRecord(IntegrationRow):
    """One integration as read by id. Boolean properties of a known type sent as "true"/"false" are read as
    booleans (fact cxengage.booleans), so they compare equal with what was sent."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str
    type: str
    tenant_id: Uuid | None = Field(None, alias=TENANT_KEY)
    properties: RawProperties = Field(default_factory=dict)
    created: str | None = None
    updated: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _boolean_properties(cls, data: Any) -> Any:
        kind = data.get(TYPE_KEY) if isinstance(data, dict) else None
        spec = TYPES.get(normalise_type(kind) or "") if isinstance(kind, str) else None
        properties = data.get(PROPERTIES_KEY) if spec is not None else None
        if spec is None or not isinstance(properties, dict):
            return data
        read = dict(properties)
        for prop in spec.properties:
            value = read.get(prop.name)
            if prop.kind == "boolean" and isinstance(value, str) and value.strip().lower() in BOOLEAN_STRINGS:
                read[prop.name] = read_bool(value)
        return {**data, PROPERTIES_KEY: read}
