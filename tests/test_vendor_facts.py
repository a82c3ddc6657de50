"""docs/vendor-facts.md and the vendors' facts.py list the same facts with the same status, and every [I] fact says
its reason and how to settle it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from integrations_mcp.vendors.base import Fact
from integrations_mcp.vendors.cxengage.facts import FACTS as CXENGAGE
from integrations_mcp.vendors.revcent.facts import FACTS as REVCENT

DOC = Path(__file__).resolve().parents[1] / "docs" / "vendor-facts.md"
ROW = re.compile(r"^\| `(?P<id>[a-z_.]+)` \| (?P<status>[CI]) \|", re.MULTILINE)


def table_rows() -> dict[str, str]:
    rows = [(m["id"], m["status"]) for m in ROW.finditer(DOC.read_text(encoding="utf-8"))]
    assert len(rows) == len(dict(rows)), "a fact is listed twice in docs/vendor-facts.md"
    return dict(rows)


def test_the_table_and_the_code_list_the_same_facts() -> None:
    code = {f.id: f.status for f in (*REVCENT, *CXENGAGE)}
    assert table_rows() == code


def row_of(fact: Fact) -> str:
    cells = [f"`{fact.id}`", fact.status, fact.statement, fact.source, fact.settle or "—"]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


@pytest.mark.parametrize("fact", [*REVCENT, *CXENGAGE], ids=lambda f: f.id)
def test_each_fact_reads_the_same_in_the_table(fact: Fact) -> None:
    assert row_of(fact) in DOC.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("fact", [*REVCENT, *CXENGAGE], ids=lambda f: f.id)
def test_each_fact_is_sourced(fact: Fact) -> None:
    assert fact.status in ("C", "I") and fact.statement and fact.source
    if fact.status == "I":
        assert fact.settle, f"{fact.id}: an inferred fact says how a real account settles it"
    assert fact.id.startswith(("revcent.", "cxengage."))


@pytest.mark.parametrize("module", ["revcent", "cxengage"])
def test_every_emulator_switch_names_its_other_settings(module: str) -> None:
    """Each [I] switch of an emulator's Contract is listed in INFERRED with settings other than its default, which
    the tests run the server against."""
    import dataclasses
    import importlib

    contract = importlib.import_module(f"integrations_mcp.vendors.{module}.emulator.contract")
    fields = {f.name: f.default for f in dataclasses.fields(contract.Contract)}
    assert set(contract.INFERRED) == set(fields)
    for name, others in contract.INFERRED.items():
        assert others and fields[name] not in others, name
