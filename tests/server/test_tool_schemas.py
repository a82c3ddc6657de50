"""The tools' schemas are shipped with the package (`<module>.schemas.json`, cold start): they are exactly what the SDK
derives from the code today, the list a client receives is byte for byte the one derived at start, in every
configuration, and a tool's first call validates and refuses exactly as before."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit import sdk_tools
from integrations_mcp.toolkit.access import READ_SCOPE
from tests.harness import both_settings, connect, cxengage_settings, revcent_settings, text_of

pytestmark = pytest.mark.anyio

SRC = Path(__file__).resolve().parents[2] / "src"
MODULES = sdk_tools.tool_modules()
TENANT = "00000000-0000-4000-8000-000000000001"


def test_every_module_declaring_tools_ships_the_schemas_the_sdk_derives_from_its_code() -> None:
    assert len(MODULES) >= 4  # both vendors, the journal, the guides
    for module in MODULES:
        importlib.import_module(module)
        path = sdk_tools.schema_file(module)
        assert path.exists(), f"{path} is missing: run `python -m integrations_mcp.toolkit.sdk_tools`"
        assert path.read_text(encoding="utf-8") == sdk_tools.render(sdk_tools.derive_schemas(module)), (
            f"{path} is out of date: run `python -m integrations_mcp.toolkit.sdk_tools`")
    shipped = {p.relative_to(SRC) for p in SRC.rglob("*" + sdk_tools.SUFFIX)}
    assert shipped == {sdk_tools.schema_file(m).relative_to(SRC) for m in MODULES}  # none left behind


def test_a_changed_description_title_or_annotation_makes_the_file_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start lists each tool's description, title and annotations from the file without importing its module: the
    file must follow every change of them (the test above then fails until it is written again)."""
    from integrations_mcp.server import guide_tool
    from integrations_mcp.toolkit.annotations import EDITS
    from integrations_mcp.toolkit.declare import ToolDeclaration

    module, fn = guide_tool.__name__, guide_tool.GuideTools.GetIntegrationGuide
    shipped = sdk_tools.schema_file(module).read_text(encoding="utf-8")
    declaration = fn.__integrations_tool__  # type: ignore[attr-defined]
    assert json.loads(shipped)["GuideTools.GetIntegrationGuide"]["title"] == declaration.title
    for attribute, value in (("__doc__", f"{fn.__doc__} One more sentence."),
                             ("__integrations_tool__", ToolDeclaration(declaration.annotations, "Another title")),
                             ("__integrations_tool__", ToolDeclaration(EDITS, declaration.title))):
        with monkeypatch.context() as patch:
            patch.setattr(fn, attribute, value)
            assert sdk_tools.render(sdk_tools.derive_schemas(module)) != shipped, attribute
    assert sdk_tools.render(sdk_tools.derive_schemas(module)) == shipped


@contextmanager
def derived_at_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Servers built inside derive every tool at start, as before schemas were shipped (no file is read)."""
    with monkeypatch.context() as patch:
        patch.setattr(sdk_tools, "_shipped", {module: "" for module in MODULES})
        yield


CONFIGURATIONS: dict[str, Any] = {
    "both, policy model": lambda: both_settings(),
    "both, policy person": lambda: both_settings(confirmation=ConfirmationPolicy.PERSON),
    "both, read-only": lambda: both_settings(read_only=True),
    "RevCent only": lambda: revcent_settings(),
    "RevCent, server form": lambda: revcent_settings(credentials_via="server-form"),
    "CxEngage only, person": lambda: cxengage_settings(confirmation=ConfirmationPolicy.PERSON),
    "CxEngage, pinned tenant": lambda: cxengage_settings(tenant_id=TENANT),
    "no vendor (placeholders)": lambda: Settings(vendors={}, placeholders=("REVCENT_API_KEY",)),
}


async def _listed(settings: Settings, *, read_scope: bool = False) -> tuple[str, list[Any]]:
    user = AuthenticatedUser(AccessToken(token="t", client_id="c", scopes=[READ_SCOPE])) if read_scope else None
    reset = auth_context_var.set(user)
    try:
        async with connect(settings, forms=SecureFormServer(base_url="http://127.0.0.1:1")) as session:
            listed = await session.client.list_tools()
            specs = list(session.server.tool_specs.values())
    finally:
        auth_context_var.reset(reset)
    return listed.model_dump_json(by_alias=True, exclude_none=True), specs


@pytest.mark.parametrize("read_scope", [False, True], ids=["full scope", "read scope"])
@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
async def test_the_listed_tools_are_the_ones_derived_at_start(configuration: str, read_scope: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    shipped, specs = await _listed(CONFIGURATIONS[configuration](), read_scope=read_scope)
    with derived_at_start(monkeypatch):
        derived, derived_specs = await _listed(CONFIGURATIONS[configuration](), read_scope=read_scope)
    assert shipped == derived
    tools = json.loads(shipped)["tools"]
    assert all(t["annotations"]["readOnlyHint"] for t in tools) if read_scope else len(tools) == len(specs)
    assert [s.name for s in specs] == [s.name for s in derived_specs] and specs
    # Listing built no tool's argument or output model: they wait for the tool's first call.
    assert all(isinstance(s.tool.fn_metadata, sdk_tools._OnFirstCall) and s.tool.fn_metadata._built is None
               for s in specs)
    assert not any(isinstance(s.tool.fn_metadata, sdk_tools._OnFirstCall) for s in derived_specs)
    for spec, twin in zip(specs, derived_specs, strict=True):
        assert (spec.tool.is_async, spec.tool.context_kwarg, spec.fixed) == \
               (twin.tool.is_async, twin.tool.context_kwarg, twin.fixed), spec.name


def _wrong(schema: dict[str, Any]) -> Any:
    """A value of the wrong type for a property."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "not-a-list" if "array" in kinds else ["not", "a", "scalar"]


def _bad_calls(tools: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tool in tools:
        properties = tool.input_schema.get("properties", {})
        yield tool.name, {}  # a required argument missing (or a valid call of a tool that needs none)
        for name, schema in properties.items():
            yield tool.name, {name: _wrong(schema)}
        yield tool.name, {name: _wrong(schema) for name, schema in properties.items()}


@pytest.mark.parametrize("configuration", ["both, policy model", "both, policy person", "CxEngage, pinned tenant"])
async def test_a_first_call_validates_and_refuses_as_when_derived_at_start(configuration: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every tool's first call with each argument of the wrong type, all of them, and none: the same answers."""

    async def answers() -> list[tuple[str, bool, str, Any]]:
        async with connect(CONFIGURATIONS[configuration](),
                           forms=SecureFormServer(base_url="http://127.0.0.1:1")) as session:
            tools = (await session.client.list_tools()).tools
            seen = []
            for name, arguments in _bad_calls(tools):
                result = await session.client.call_tool(name, arguments)
                text = text_of(result)
                if not result.is_error:  # a valid call of a tool that needs no argument: its shape, not its data
                    text = json.dumps(sorted(result.structured_content or {}))
                seen.append((name, result.is_error, text, json.dumps(arguments)))
            return seen

    shipped = await answers()
    with derived_at_start(monkeypatch):
        derived = await answers()
    assert len(shipped) > 40 and sum(error for _, error, _, _ in shipped) > 40
    assert shipped == derived
