"""The one adapter onto the SDK's `Tool`.

Why it exists: the SDK generates a tool's input and output schemas from the function signature and offers no
public hook to post-process them. Schemas are sent in every conversation, so this module derives the SDK's `Tool`
with `Tool.from_function` and then adjusts the generated schemas: both made lean (`lean_schema.py`: flat inputs,
outputs to one level), unknown top-level arguments declared refused, and the arguments that the configuration
fixes (a pinned tenant) or the confirmation policy hides removed. `FuncMetadata.output_schema` is documented as
read live, so reassigning it is supported.

Start-up (cold start): deriving 16 tools' pydantic argument and output models and their JSON schemas took ~70-90 ms
of every start, before tools/list could be answered. The lean schemas, titles, descriptions and annotations depend
only on the code, so they are derived at development time and shipped next to the module that declares the tools
(`tools.py` -> `tools.schemas.json`, written by `python -m integrations_mcp.toolkit.sdk_tools`;
tests/server/test_tool_schemas.py derives them again and fails on any difference). A served tool is built from that
file: `deferred_tools` does it without importing the module (its tools object, and what that imports, is made by
the first call: `registration.deferred_tool_specs`), `build_tool` for a function at hand. The SDK's argument and
output models (`FuncMetadata`, exactly what `Tool.from_function` makes) are built when the tool is first called:
validation, refusals and results are the SDK's own, as before. A module without its file is derived at start, as
before.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata, func_metadata
from mcp.types import ToolAnnotations

from integrations_mcp.toolkit.declare import ToolDeclaration, declared_tools

__all__ = ["build_tool", "deferred_tools", "derive_schemas", "schema_file"]

SUFFIX = ".schemas.json"
_shipped: dict[str, str] = {}  # module name -> its file's text ("" when it has none), read once per process


def build_tool(fn: Callable[..., Any], declaration: ToolDeclaration, *, fixed: Mapping[str, Any],
               hidden: Callable[[str], bool] = lambda name: False) -> Tool:
    """`fixed` arguments are filled in by the server; `hidden` ones keep their defaults. Neither is in the schema,
    and a caller who sends one is refused like any unknown argument."""
    entry = _shipped_entry(fn)
    if entry is None:
        sdk_tool, parameters, output = _derive(fn, declaration, _description(fn))
        if output is not None:
            sdk_tool.fn_metadata.output_schema = output
        _remove(parameters, fixed, hidden)
        sdk_tool.parameters = parameters
        return sdk_tool
    return _shipped_tool(fn.__name__, entry, declaration, _description(fn), lambda: fn, fn, fixed=fixed,
                         hidden=hidden)


def deferred_tools(module: str, method: Callable[[str], Callable[..., Any]], *, fixed: Mapping[str, Any],
                   hidden: Callable[[str], bool] = lambda name: False,
                   ) -> list[tuple[Tool, ToolDeclaration]] | None:
    """The tools declared in `module`, built from its shipped schema file alone, without importing `module`:
    `method(name)` gives a tool's function when it is first called (and is asked then, not before). None when
    `module` ships no schemas (its tools are then built from the code, as `build_tool` does)."""
    entries = _entries(module, schema_file(module))
    if not entries:
        return None
    built = []
    for qualname, entry in entries.items():
        name = qualname.rsplit(".", 1)[-1]
        declaration = ToolDeclaration(ToolAnnotations.model_validate(entry["annotations"]), entry["title"])
        resolve = functools.partial(method, name)
        built.append((_shipped_tool(name, entry, declaration, entry["description"], resolve,
                                    _calling(resolve, entry["async"]), fixed=fixed, hidden=hidden), declaration))
    return built


def _shipped_tool(name: str, entry: dict[str, Any], declaration: ToolDeclaration, description: str,
                  resolve: Callable[[], Callable[..., Any]], fn: Callable[..., Any], *, fixed: Mapping[str, Any],
                  hidden: Callable[[str], bool]) -> Tool:
    """The SDK's `Tool` from a file entry (a fresh parse: its schemas are this tool's own to trim)."""
    parameters = entry["input"]
    _remove(parameters, fixed, hidden)
    return Tool.model_construct(
        fn=fn, name=name, title=declaration.title, description=description, parameters=parameters,
        fn_metadata=_OnFirstCall(resolve, entry["context"], entry["output"]), is_async=entry["async"],
        context_kwarg=entry["context"], resolved_params={}, resolver_plans={}, annotations=declaration.annotations,
        icons=None, meta=None)


def _remove(parameters: dict[str, Any], fixed: Mapping[str, Any], hidden: Callable[[str], bool]) -> None:
    for name in [*fixed, *filter(hidden, list(parameters["properties"]))]:
        parameters["properties"].pop(name, None)
        if name in parameters.get("required", []):
            parameters["required"].remove(name)


def _calling(resolve: Callable[[], Callable[..., Any]], is_async: bool) -> Callable[..., Any]:
    """What the SDK calls for a tool whose function is resolved by its first call: that function."""
    if is_async:
        async def call(**arguments: Any) -> Any:
            return await resolve()(**arguments)

        return call
    return lambda **arguments: resolve()(**arguments)


def _description(fn: Callable[..., Any]) -> str:
    # Docstrings are indented; every token of a description is paid for in every conversation, so collapse it.
    return " ".join((fn.__doc__ or "").split())


def _derive(fn: Callable[..., Any], declaration: ToolDeclaration,
            description: str) -> tuple[Tool, dict[str, Any], dict[str, Any] | None]:
    """The SDK's tool for `fn`, its lean input schema (unknown arguments refused) and lean output schema."""
    from integrations_mcp.toolkit.lean_schema import lean_input_schema, lean_output_schema  # not for shipped ones

    sdk_tool = Tool.from_function(fn, name=fn.__name__, title=declaration.title, description=description,
                                  annotations=declaration.annotations, structured_output=True)
    parameters = lean_input_schema(sdk_tool.parameters)
    parameters["additionalProperties"] = False  # the server refuses them (IntegrationsServer.call_tool)
    output = sdk_tool.fn_metadata.output_schema
    return sdk_tool, parameters, None if output is None else lean_output_schema(output)


class _OnFirstCall:
    """Stands in for the SDK's `FuncMetadata` of a tool built from its shipped schemas: the published output schema
    is here from the start; anything else (validating arguments, calling, converting the result, the output model)
    builds the SDK's own `FuncMetadata` first, once, as `Tool.from_function` would have at start, from the function
    `resolve()` gives (for a deferred tool, that call imports its module and makes its tools object)."""

    def __init__(self, resolve: Callable[[], Callable[..., Any]], context_kwarg: str | None,
                 output_schema: dict[str, Any] | None):
        self._resolve, self._context_kwarg, self._built = resolve, context_kwarg, None
        self.output_schema = output_schema

    def built(self) -> FuncMetadata:
        if self._built is None:
            skip = [self._context_kwarg] if self._context_kwarg is not None else []
            built = func_metadata(self._resolve(), skip_names=skip, structured_output=True)
            built.output_schema = self.output_schema
            self._built = built
        return self._built

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy/pickle probing an instance (or one not yet initialised): nothing to build
            raise AttributeError(name)
        value = getattr(self.built(), name)
        self.__dict__[name] = value  # the built metadata is not changed after `built`: the next call reads it here
        return value


def schema_file(module: str) -> Path:
    """The shipped schemas of the tools declared in `module`: next to its source, found without importing `module`
    (its package is imported)."""
    spec = importlib.util.find_spec(module)
    source = Path((spec.origin if spec is not None else None) or "")
    return source.with_name(source.stem + SUFFIX)


def _shipped_entry(fn: Callable[..., Any]) -> dict[str, Any] | None:
    module = getattr(fn, "__module__", None)
    if module is None or module not in sys.modules:
        return None
    return _entries(module, schema_file(module)).get(fn.__qualname__)


def _entries(module: str, path: Path) -> dict[str, Any]:
    """The module's file's entries, parsed anew on each call (a server changes what it builds from them); the text
    is read once per process."""
    text = _shipped.get(module)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:  # not shipped (or unreadable): its tools are derived at start, as before
            text = ""
        _shipped[module] = text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def derive_schemas(module: str) -> dict[str, Any]:
    """What `module`'s schema file holds: per tool (`Class.method`), the name of its Context parameter and its lean
    input and output schemas, derived by the SDK from the code as `build_tool` used to at every start."""
    entries: dict[str, Any] = {}
    for cls in _tool_classes(module):
        instance = object.__new__(cls)  # only the signatures are read
        for fn, declaration in declared_tools(instance):
            sdk_tool, parameters, output = _derive(fn, declaration, "")
            if sdk_tool.resolved_params:
                raise ValueError(f"{fn.__qualname__}: Resolve(...) parameters are not supported")
            entries[fn.__qualname__] = {
                "title": declaration.title, "description": _description(fn),
                "annotations": declaration.annotations.model_dump(mode="json", by_alias=True, exclude_unset=True),
                "async": sdk_tool.is_async, "context": sdk_tool.context_kwarg, "input": parameters, "output": output}
    return entries


def _tool_classes(module: str) -> Iterator[type]:
    for value in vars(sys.modules[module]).values():
        if isinstance(value, type) and value.__module__ == module and declared_tools(object.__new__(value)):
            yield value


def render(entries: dict[str, Any]) -> str:
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"


def tool_modules(package: str = "integrations_mcp") -> list[str]:
    """The modules of `package` that declare tools (their source uses `@tool(`)."""
    root = Path(sys.modules[package].__file__ or "").parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if "@tool(" in path.read_text(encoding="utf-8") and path.parent != Path(__file__).parent:
            parts = path.relative_to(root.parent).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def main() -> None:
    """Write every tool module's schema file (run after changing a tool's signature, types or their models)."""
    import importlib

    for module in tool_modules():
        importlib.import_module(module)
        path, entries = schema_file(module), derive_schemas(module)
        text = render(entries)
        if entries and (not path.exists() or path.read_text(encoding="utf-8") != text):
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
