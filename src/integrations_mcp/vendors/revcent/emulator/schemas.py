"""Request/response JSON schemas, taken unmodified from the seed OpenAPI operations. The one extension, `secure_form_id`
(the agent guide's, not the OpenAPI's), is added only while `Contract.accept_secure_form_id` is on."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from integrations_mcp.vendors.revcent.emulator.contract import FORM_SOURCES, ID_LENGTH, ApiError, ErrorCode

__all__ = ["check", "create_body", "edit_body", "error_response", "get_response", "secure_form_body",
           "write_response"]

_FILES = {
    "create": "revcent-create-user-integration.openapi.json",
    "edit": "revcent-edit-user-integration.openapi.json",
    "get": "revcent-get-user-integration.openapi.json",
}
# [I] the MCP guides send credentials as a completed secure form's id; the stored operation JSONs do not list it.
_SECURE_FORM_ID = {"type": "string", "minLength": ID_LENGTH, "maxLength": ID_LENGTH}


@cache
def operation(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schemas", _FILES[name]).read_text(encoding="utf-8")
    return json.loads(text)


def _request_schema(name: str, *, secure_form_id: bool) -> dict[str, Any]:
    schema = copy.deepcopy(operation(name)["requestBody"]["content"]["application/json"]["schema"])
    if secure_form_id:
        schema["properties"]["secure_form_id"] = dict(_SECURE_FORM_ID)
    return schema


def _response_schema(name: str, status: str) -> dict[str, Any]:
    return operation(name)["responses"][status]["content"]["application/json"]["schema"]


def create_body(*, secure_form_id: bool = False) -> dict[str, Any]:
    return _request_schema("create", secure_form_id=secure_form_id)


def edit_body(*, secure_form_id: bool = False) -> dict[str, Any]:
    return _request_schema("edit", secure_form_id=secure_form_id)


def get_response() -> dict[str, Any]:
    """The GetUserThirdPartyIntegration answer as one object schema.

    The seed writes it as `allOf` of the envelope and the record, each with `additionalProperties: false`, which
    strict JSON Schema can never satisfy; OpenAPI tooling reads it as the merged object, and so do we.
    """
    merged: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
    for part in _response_schema("get", "200")["allOf"]:
        merged["properties"].update(copy.deepcopy(part["properties"]))
    return merged


def write_response() -> dict[str, Any]:
    return _response_schema("create", "200")


def error_response() -> dict[str, Any]:
    return _response_schema("create", "default")


def secure_form_body() -> dict[str, Any]:
    # From CreateSecureForm.json (stored excerpt); `required` is [I]: the form needs to know what it is for.
    return {"type": "object", "additionalProperties": False, "required": ["form_source"],
            "properties": {"form_source": {"type": "string", "enum": list(FORM_SOURCES)},
                           "form_source_id": {"type": "string"}}}


@cache
def _validator(kind: str, secure_form_id: bool) -> Draft202012Validator:
    if kind == "secure_form":
        return Draft202012Validator(secure_form_body())
    build = {"create": create_body, "edit": edit_body}[kind]
    return Draft202012Validator(build(secure_form_id=secure_form_id))


def check(kind: str, body: Any, *, secure_form_id: bool = False) -> dict[str, Any]:
    """Validate a request body; the first (most relevant) violation becomes a validation_error. A field the schema
    does not know is named (RevCent's wording is undocumented; the server reads the name from the message)."""
    error = best_match(_validator(kind, secure_form_id).iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid request ({where}): {error.message}")
    return body
