"""Every assumption about a vendor is a fact (issue 20, item 1), checked per vendor module:

- the vendor client and records hold no vendor-shaped literal of their own: each comes from `facts.py`;
- each constant of `facts.py` names the fact it stands for (`CONSTANTS`), and some server module reads it;
- each [C] fact cites the exact place in a seed document (line and quote, or JSON pointer), and the test finds it;
- each [I] fact is played by an emulator `Contract` switch (`SWITCHES`), or says why none can (`NO_SWITCH`).

Parametrised by vendor: a vendor joins by giving its facts.py `CONSTANTS`, `SWITCHES` and `NO_SWITCH`."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "integrations_mcp"
VENDORS = ["revcent"]  # cxengage joins once its facts.py has CONSTANTS, SWITCHES and NO_SWITCH
TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./{}-]*$")
# Not vendor-shaped: pydantic's own words, English words inside messages, the vendor's display name.
NOT_VENDOR = {"ignore", "before", "after", "forbid", "none", "one", "several", "RevCent", "CxEngage"}
SEED = re.compile(r"seed (?P<file>[\w.-]+?\.(?:md|json))(?::(?P<line>\d+) \"(?P<quote>[^\"]+)\"|(?P<pointer>#\S+))")


def facts(vendor: str) -> ModuleType:
    return importlib.import_module(f"integrations_mcp.vendors.{vendor}.facts")


def literals(path: Path) -> list[tuple[int, str]]:
    """Token-shaped string literals of a module that are not docstrings, names it defines or exports, or the field
    names of its own models."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs, own = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            own.add(node.name)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.add(node.target.id)
        if isinstance(node, ast.Assign):
            own |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
            and TOKEN.match(node.value) and len(node.value) > 1 and node.value not in own | NOT_VENDOR
            and not node.value.isupper() and not re.match(r"^[A-Z]+_[A-Z_]+$", node.value)]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("module", ["client.py", "records.py"])
def test_the_client_and_records_hold_no_vendor_literal_of_their_own(vendor: str, module: str) -> None:
    found = literals(SRC / "vendors" / vendor / module)
    assert found == [], f"{vendor}/{module}: vendor-shaped literals not taken from facts.py: {found}"


def constants(module: ModuleType) -> list[str]:
    """Public names facts.py defines besides the tables themselves."""
    tables = {"FACTS", "CONSTANTS", "SWITCHES", "NO_SWITCH"}
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            elts = target.elts if isinstance(target, ast.Tuple) else [target]
            names += [e.id for e in elts if isinstance(e, ast.Name)]
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
    return [n for n in names if not n.startswith("_") and n not in tables]


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_constant_stands_for_a_fact(vendor: str) -> None:
    module = facts(vendor)
    ids = {f.id for f in module.FACTS}
    assert set(constants(module)) == set(module.CONSTANTS), "a constant without its fact, or a stale entry"
    assert set(module.CONSTANTS.values()) <= ids


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_dead_fact_constants(vendor: str) -> None:
    """Each constant is read by a server module (not facts.py, not the emulator, not tests): settling the fact is a
    change of that constant, and it takes effect."""
    module_name = f"integrations_mcp.vendors.{vendor}.facts"
    read: set[str] = set()
    for path in SRC.rglob("*.py"):
        if path.name == "facts.py" or "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == module_name:
                read |= {alias.name for alias in node.names}  # ruff (F401) keeps only imports that are used
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "facts":
                read.add(node.attr)
    dead = [name for name in constants(facts(vendor)) if name not in read]
    assert dead == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_inferred_facts_are_played_by_a_switch_or_say_why_not(vendor: str) -> None:
    module = facts(vendor)
    contract = importlib.import_module(f"integrations_mcp.vendors.{vendor}.emulator.contract")
    switches = {f.name for f in dataclasses.fields(contract.Contract)}
    inferred = {f.id for f in module.FACTS if f.status == "I"}
    assert set(module.SWITCHES.values()) <= switches
    assert switches <= set(module.SWITCHES.values()), "a Contract switch that plays no fact"
    assert inferred <= set(module.SWITCHES) | set(module.NO_SWITCH)
    assert not set(module.SWITCHES) & set(module.NO_SWITCH)


SEEDS = SRC / "vendors" / "revcent" / "emulator" / "schemas"


def pointer(document: object, path: str) -> object:
    for part in path.lstrip("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        document = document[int(part)] if isinstance(document, list) else document[part]  # type: ignore[index]
    return document


@pytest.mark.parametrize("fact", [f for f in facts("revcent").FACTS if f.status == "C"], ids=lambda f: f.id)
def test_confirmed_facts_cite_the_exact_seed_place(fact: object) -> None:
    """A [C] fact cites a seed line with its quote, or a JSON pointer into a seed, or a vendor page said as such; each
    seed citation is found where it says."""
    source = fact.source  # type: ignore[attr-defined]
    cited = list(SEED.finditer(source))
    assert cited or source.startswith("vendor page "), source
    for match in cited:
        path = SEEDS / match["file"]
        if match["line"]:
            line = path.read_text(encoding="utf-8").splitlines()[int(match["line"]) - 1]
            assert match["quote"] in line, (match["line"], line)
        else:
            pointer(json.loads(path.read_text(encoding="utf-8")), match["pointer"].rstrip(";,"))
