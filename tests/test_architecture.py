"""The shape docs/architecture.md promises: no module imports a layer above its own, a vendor never imports another
vendor, emulators stay independent of the product, and there are no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "integrations_mcp"

# Lower number = lower layer. A module may import only modules of its own layer or below.
LAYERS = {
    "integrations_mcp": 0, "errors": 0, "configuration_error": 0, "limits": 0, "loopback": 0, "client_capabilities": 0,
    "state": 0, "telemetry": 0, "once": 0,
    "guardrails": 1, "pipeline": 1, "approvals": 1, "pages": 1, "secure_forms": 1, "vendor_http": 1, "emulation": 1,
    "guides": 1, "lazy_http": 1,
    "toolkit": 2,
    "vendors": 3,
    "server": 4,
    "cli": 5, "demo": 5,
    "__main__": 6,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    targets: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                targets.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
    return targets


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else parts[0]]


def test_every_top_level_module_has_a_layer() -> None:
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module: str) -> None:
    upward = [t for t in _imports(MODULES[module]) if _layer(t) > _layer(module)]
    assert not upward, f"{module} (layer {_layer(module)}) imports {upward}"


def _vendor(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "vendors" and parts[2] != "base" else None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _vendor(m)))
def test_a_vendor_imports_no_other_vendor(module: str) -> None:
    others = [t for t in _imports(MODULES[module]) if _vendor(t) not in (None, _vendor(module))]
    assert not others, f"{module} imports {others}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if ".emulator" in m))
def test_emulators_import_only_shared_low_layers(module: str) -> None:
    """An emulator plays the vendor: it may share page pieces and recording, never the product's client or rules."""
    product = [t for t in _imports(MODULES[module]) if ".emulator" not in t and _layer(t) > 1]
    assert not product, f"{module} imports {product}"


def test_no_import_cycles() -> None:
    graph = {m: {t for t in _imports(p, top_level_only=True) if t in MODULES and t != m} for m, p in MODULES.items()}
    # A package imports its own submodules by design (re-exports); the cycle that matters is between modules.
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_only_the_demos_own_test_imports_the_demo() -> None:
    """The demo is a product command, tested in test_cli.py; no other test borrows its code."""
    tests = Path(__file__).resolve().parent
    users = sorted(p.relative_to(tests).as_posix() for p in tests.rglob("*.py")
                   if "integrations_mcp.demo" in _imports(p))
    assert users == ["test_cli.py"]
