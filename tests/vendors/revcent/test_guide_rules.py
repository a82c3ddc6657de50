"""The guides and the rules agree (issue 20, item 6): every "Rule:" heading of a RevCent guide names a rule function
of rules.py, and every rule function has its heading; the rule table of RevCent's agent guide
(docs/revcent-guide-rules.md) quotes the seed where it says and names only functions that exist."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from integrations_mcp.vendors.revcent import rules

ROOT = Path(__file__).resolve().parents[3]
GUIDES = ROOT / "src" / "integrations_mcp" / "vendors" / "revcent" / "guides"
SEED = ROOT / "src" / "integrations_mcp" / "vendors" / "revcent" / "emulator" / "schemas" / \
    "revcent-edit-user-integration.mcp-guide.md"
TABLE = ROOT / "docs" / "revcent-guide-rules.md"
HEADING = re.compile(r"^#+ Rule: `(?P<name>\w+)`", re.MULTILINE)
ROW = re.compile(r"^\| (?P<n>\d+) \| (?P<line>\d+) \| (?P<quote>.+?) \| (?P<status>enforced|model) \| (?P<how>.+) \|$",
                 re.MULTILINE)


def rule_functions() -> set[str]:
    """The refusals (refuse_*, require_*, check_*) and the confirmations (*_confirmation) of rules.py."""
    return {name for name, obj in vars(rules).items() if inspect.isfunction(obj) and obj.__module__ == rules.__name__
            and (name.startswith(("refuse_", "require_", "check_")) or name.endswith("_confirmation"))}


def headings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for guide in GUIDES.glob("*.md"):
        for match in HEADING.finditer(guide.read_text(encoding="utf-8")):
            found.setdefault(match["name"], []).append(guide.name)
    return found


def test_every_rule_heading_names_a_rule_function() -> None:
    assert set(headings()) <= rule_functions(), set(headings()) - rule_functions()


def test_every_rule_function_has_a_rule_heading() -> None:
    assert rule_functions() <= set(headings()), rule_functions() - set(headings())


def test_the_rules_docstring_lists_every_rule() -> None:
    """rules.py's table of which tool runs which guardrail names each one."""
    missing = [name for name in rule_functions() if name not in (rules.__doc__ or "")]
    assert missing == []


def rows() -> list[re.Match[str]]:
    return list(ROW.finditer(TABLE.read_text(encoding="utf-8")))


def test_the_agent_guide_has_37_rules_each_enforced_or_the_models_job() -> None:
    found = rows()
    assert [int(r["n"]) for r in found] == list(range(1, 38))
    assert len({(r["line"], r["quote"]) for r in found}) == 37
    counts = {status: sum(r["status"] == status for r in found) for status in ("enforced", "model")}
    assert f"Now: {counts['enforced']} enforced, {counts['model']} the model's job" in TABLE.read_text(encoding="utf-8")


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["n"])
def test_each_rule_quotes_its_line_and_names_real_functions(row: re.Match[str]) -> None:
    line = SEED.read_text(encoding="utf-8").splitlines()[int(row["line"]) - 1]
    assert row["quote"].replace("\\|", "|") in line
    references = re.findall(r"`(\w+)\.([\w.]+)`", row["how"])
    if row["status"] == "enforced":
        assert references, "an enforced rule names what enforces it"
    for module, path in references:
        target: object = importlib.import_module(f"integrations_mcp.vendors.revcent.{module}")
        for part in path.split("."):
            target = getattr(target, part)


def test_the_models_part_is_in_the_edit_guide() -> None:
    """The rules only the model can follow are listed in the tool's guide, with the reason."""
    guide = (GUIDES / "EditUserThirdPartyIntegration.md").read_text(encoding="utf-8")
    assert "## Your part" in guide
    for needle in ("asked for this change", "names", "never default to the first", "integration type", "Function"):
        assert needle in guide, needle
