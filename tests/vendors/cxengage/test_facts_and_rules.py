"""Every assumption is a fact, and every rule is in a guide:
- each vendor-shaped literal of client.py and records.py is a constant of facts.py, and each constant there is read
  by a server module (no dead facts);
- each [C] fact that cites the seed cites lines that hold what it says;
- every "Rule:" heading of the CxEngage guides names a rule function of rules.py whose words it quotes, and every
  rule function has one."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import integrations_mcp.vendors.cxengage as package
from integrations_mcp.vendors.cxengage import facts, rules

SRC = Path(package.__file__).parent
SEED = Path("/work/shared/seeds/cxengage-create-integration.txt")
# Literals that are ours or HTTP's, not CxEngage's: operation names in error messages, HTTP methods and headers.
OWN = {"GetIntegrations", "GetIntegration", "CreateIntegration", "UpdateIntegration", "CreateToken", "GET", "POST",
       "PUT", "authorization", "CxEngage", "error", "before", "boolean",
       "allow", "ignore",  # pydantic's words for a shape's other keys (records.list_answer)
       "left_to_right"}  # and for how records._Boolean tries its two checks


def fact_constants() -> dict[str, object]:
    return {name: getattr(facts, name) for name in facts.__all__ if name != "FACTS"}


def wire_values() -> set[str]:
    values: set[str] = set()
    for value in fact_constants().values():
        if isinstance(value, str):
            values.add(value)
        elif isinstance(value, tuple | dict | frozenset):
            values.update(v for v in value if isinstance(v, str))
    return values


def literals(path: Path) -> list[str]:
    """String constants that could name something on the wire: no spaces, not a docstring, not an f-string's text,
    not a name of the module itself (`__all__`, a TypeVar)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef | ast.FunctionDef)}
    own |= {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
            if isinstance(t, ast.Name)}
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    in_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and id(node) not in in_fstrings and node.value and not re.search(r"\s", node.value)
            and node.value not in own]


@pytest.mark.parametrize("module", ["client.py", "records.py"])
def test_every_wire_literal_is_a_fact_constant(module: str) -> None:
    stray = sorted({s for s in literals(SRC / module) if s not in OWN and s not in wire_values()})
    assert stray == [], f"{module} relies on vendor-shaped literals that facts.py does not hold: {stray}"


def test_every_fact_constant_is_read_by_a_server_module() -> None:
    sources = {p.name: p.read_text(encoding="utf-8") for p in SRC.glob("*.py") if p.name != "facts.py"}
    dead = [name for name in fact_constants() if not any(re.search(rf"\b{name}\b", s) for s in sources.values())]
    assert dead == []


def test_every_fact_constant_names_its_fact() -> None:
    """Each constant's comment names the fact it belongs to (or is the seed's name)."""
    text = (SRC / "facts.py").read_text(encoding="utf-8")
    ids = {f.id for f in facts.FACTS}
    for name in fact_constants():
        line = next(line for line in text.splitlines() if re.match(rf"(\w+, )*{name}\b.*=", line))
        above = text.splitlines()[text.splitlines().index(line) - 1]
        assert any(i in line or i in above for i in ids), f"{name} names no fact"


SEED_LINES = {  # fact -> (lines the source cites, words each must hold)
    "cxengage.paths": ((19, 20), ("/v1/tenants/", "/integrations/")),
    "cxengage.result_envelope": ((60,), ('"result"',)),
    "cxengage.ids": ((96, 82), ("UUID", "UUID")),
    "cxengage.booleans": ((92, 24), ("boolean", '"true"')),
    "cxengage.flat_body": ((21,), ('"attribute"',)),
    "cxengage.type_names": ((42, 43, 44), ("Salesforce", "REST API", "Zendesk")),
}


@pytest.mark.parametrize("fact_id", sorted(SEED_LINES))
def test_each_seed_citation_points_at_lines_that_say_it(fact_id: str) -> None:
    if not SEED.exists():
        pytest.skip("the seed documents are not on this machine")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    fact = next(f for f in facts.FACTS if f.id == fact_id)
    numbers, words = SEED_LINES[fact_id]
    for number, word in zip(numbers, words, strict=True):
        assert word in lines[number - 1], (fact_id, number, lines[number - 1])
    cited = {int(n) for n in re.findall(r"\d+", fact.source)}
    cited |= {n for a, b in re.findall(r"(\d+)-(\d+)", fact.source) for n in range(int(a), int(b) + 1)}
    assert set(numbers) <= cited, (fact_id, numbers, fact.source)


def test_the_seed_does_not_say_types_are_lowercase() -> None:
    """type_names cites the SDK and the vendor's example page for the lowercase names, not the seed."""
    if SEED.exists():
        assert '"zendesk"' not in SEED.read_text(encoding="utf-8")
    fact = next(f for f in facts.FACTS if f.id == "cxengage.type_names")
    assert "SDK" in fact.source and "itself names only the titles" in fact.source


GUIDES = sorted((SRC / "guides").glob("*.md"))
HEADING = re.compile(r"^## Rule: `(?P<name>\w+)`\s*$", re.MULTILINE)


def rule_sections() -> dict[str, str]:
    sections: dict[str, str] = {}
    for guide in GUIDES:
        text = guide.read_text(encoding="utf-8")
        assert "Rule:" not in HEADING.sub("", text).replace("Rules:", ""), f"{guide.name}: a Rule: heading not in form"
        matches = list(HEADING.finditer(text))
        for match, after in zip(matches, [*matches[1:], None], strict=False):
            assert match["name"] not in sections, f"rule {match['name']} has two sections"
            sections[match["name"]] = text[match.end():after.start() if after else None]
    return sections


def rule_functions() -> dict[str, object]:
    return {name: getattr(rules, name) for name in rules.__all__ if inspect.isfunction(getattr(rules, name))}


def test_every_rule_heading_names_a_rule_function_and_every_rule_function_has_one() -> None:
    assert set(rule_sections()) == set(rule_functions())


@pytest.mark.parametrize("name", sorted(rule_functions()))
def test_each_rule_section_quotes_what_its_function_answers(name: str) -> None:
    section = rule_sections()[name]
    said = re.search(r"(?:Says|Asks): (.*?)\.\s", section, re.DOTALL)
    assert said, f"{name}: the section says what the server answers"
    # The source with implicitly joined string literals joined, so a sentence split over two lines still matches.
    source = re.sub(r'"\s*\n\s*[rf]*"', "", inspect.getsource(rule_functions()[name]))
    for quoted in re.findall(r"`([^`]+)`", said.group(1)):
        for fragment in (" ".join(f.split()) for f in quoted.split("…")):
            assert fragment in source, f"{name}: the guide quotes {fragment!r}, which the rule never answers"


def test_every_inferred_fact_names_the_emulator_switch_that_plays_its_other_reading() -> None:
    import dataclasses

    from integrations_mcp.vendors.cxengage.emulator import Contract

    switches = {f.name for f in dataclasses.fields(Contract)}
    for fact in facts.FACTS:
        if fact.status == "I":
            named = set(re.findall(r"Contract\.(\w+)", fact.settle))
            assert named and named <= switches, f"{fact.id} names no Contract switch ({fact.settle})"
    named_anywhere = {n for f in facts.FACTS for n in re.findall(r"Contract\.(\w+)", f.settle)}
    assert named_anywhere == switches, "a switch no fact explains"
