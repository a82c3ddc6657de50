"""Lean schemas keep what a model needs: the checks that tools/list as a whole cannot show case by case."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from integrations_mcp.toolkit.lean_schema import lean_input_schema, lean_output_schema


class Inner(BaseModel):
    title: str  # a property called "title" is a property, not pydantic's title keyword
    code: Annotated[str, Field(min_length=4, max_length=4, pattern=r"^[A-Z]{4}$")]
    free: Annotated[str, Field(min_length=1, max_length=9)]


class Outer(BaseModel):
    inner: Inner | None = None
    many: list[Inner]
    tags: list[str] = []
    either: str | int = "x"
    note: Annotated[str, Field(max_length=2000)] = ""
    ids: Annotated[list[str], Field(min_length=1, max_length=200)] = ["a"]
    page: Annotated[int, Field(ge=1)] = 1
    size: Annotated[int, Field(ge=1, le=25)] = 10


def test_inputs_are_flat_and_optional_means_optional() -> None:
    schema = lean_input_schema(Outer.model_json_schema())
    assert "$defs" not in schema and "$ref" not in str(schema)
    inner = schema["properties"]["inner"]
    assert inner["type"] == "object" and "anyOf" not in inner and "default" not in inner
    assert set(inner["properties"]) == {"title", "code", "free"} and "title" not in schema
    assert inner["properties"]["code"] == {"pattern": "^[A-Z]{4}$", "type": "string"}  # the pattern says the length
    assert inner["properties"]["free"] == {"maxLength": 9, "type": "string"}  # minLength 1: a model assumes it
    assert schema["properties"]["either"] == {"type": ["string", "integer"], "default": "x"}
    assert schema["properties"]["many"]["items"]["properties"]["code"]["type"] == "string"
    # Caps of 50 and more guard the server (pydantic still enforces them); they say nothing a model needs.
    assert schema["properties"]["note"] == {"type": "string", "default": ""}
    assert schema["properties"]["ids"] == {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                           "default": ["a"]}
    assert Outer.model_fields["note"].metadata[0].max_length == 2000
    assert schema["properties"]["page"] == {"type": "integer", "minimum": 1}  # the default is the first page
    assert schema["properties"]["size"] == {"type": "integer", "minimum": 1, "maximum": 25, "default": 10}


def test_outputs_keep_one_level_and_say_null() -> None:
    schema = lean_output_schema(Outer.model_json_schema())
    assert schema["properties"]["inner"] == {"type": ["object", "null"]}
    assert schema["properties"]["many"] == {"type": "array"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert "required" not in schema and "$defs" not in schema
