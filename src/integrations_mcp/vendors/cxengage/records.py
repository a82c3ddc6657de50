"""CxEngage's integration record as it arrives on the wire. The client validates every answer into these, so an
answer of another shape stops there; properties stay raw (secrets included) because they are compared on this
server and redacted only in what the model sees (`views.py`). Every wire name here is a constant of `facts.py`."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    JsonValue,
    StringConstraints,
    TypeAdapter,
    model_validator,
    with_config,
)
from pydantic_core import CoreSchema, core_schema
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


class _Boolean:
    """`read_bool` as a field's check, with a JSON boolean checked by pydantic-core itself and only a string handed
    to `read_bool`: a list of 1,000 rows makes no Python call for `active` (the same values pass, as the same
    booleans; anything else fails at the field, as before)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema(
            [core_schema.bool_schema(strict=True),
             core_schema.no_info_after_validator_function(read_bool, core_schema.str_schema())],
            mode="left_to_right", custom_error_type="boolean", custom_error_message="not a boolean")


Strict = Annotated[bool, _Boolean]
# Fact cxengage.ids: a UUID, in lowercase (tool arguments are lowercased too), checked by pydantic-core's own regex
# (no Python call per row). A failure names the field only: the value is never quoted.
Uuid = Annotated[str, StringConstraints(pattern=f"^{ID_RE.pattern}$", to_lower=True)]
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
class ListRow(TypedDict):
    """An entry of the tenant's list, checked as IntegrationRow is, as the dict pydantic-core builds (`list_rows`,
    `list_answer`): a list is read whole on every call (fact cxengage.no_paging), and no row is made in Python."""

    id: Uuid
    name: Annotated[str, Field(default="")]
    type: Annotated[str, Field(default="")]
    active: Strict
    description: Annotated[str | None, Field(default=None)]


_ListAnswer = TypedDict("_ListAnswer", {RESULT_KEY: list[ListRow]})  # noqa: UP013 (the wire name is a constant)


@cache
def list_rows() -> TypeAdapter[list[ListRow]]:
    """A list's entries, every row checked. Built on first use, not at start."""
    return TypeAdapter(list[ListRow])


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
        read = None  # a copy only once a value is read as a boolean (otherwise the answer is taken as it is)
        for prop in spec.properties:
            value = properties.get(prop.name)
            if prop.kind == "boolean" and isinstance(value, str) and value.strip().lower() in BOOLEAN_STRINGS:
                if read is None:
                    read = dict(properties)
                read[prop.name] = read_bool(value)
        return data if read is None else {**data, PROPERTIES_KEY: read}
