"""Refusals stay small whatever the arguments: 20,000 unknown names, huge values, many problems."""

from __future__ import annotations

import pytest

from integrations_mcp.guardrails.outputs import MAX_ERROR_CHARS
from tests.harness import connect

pytestmark = pytest.mark.anyio


async def test_two_thousand_unknown_property_names_give_a_short_refusal() -> None:
    async with connect() as s:
        properties = {f"unknown_{i}": "x" for i in range(2_000)}
        text = await s.refused("CreateCxEngageIntegration", "is not a property of type rest", "and 1980 more",
                               name="Big", type="rest", properties=properties)
        assert len(text) < 5_000
        assert s.writes() == []


async def test_two_thousand_unknown_arguments_give_a_short_refusal() -> None:
    async with connect() as s:
        text = await s.refused("GetCxEngageIntegrations", "unknown argument", "and 1980 more",
                               **{f"arg{i}": 1 for i in range(2_000)})
        assert len(text) < 5_000


def _nested(depth: int) -> list:
    value: list = ["deep"]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("many", [{f"unknown_property_{i}": "x" for i in range(20_000)}, {"a": _nested(40)}],
                         ids=["20000 names", "34 levels"])
async def test_arguments_over_the_size_limit_are_refused_before_they_are_read(many: dict) -> None:
    async with connect() as s:
        text = await s.refused("CreateCxEngageIntegration", "too large at properties", "Nothing was sent",
                               name="Big", type="rest", properties=many)
        assert len(text) < 1_000 and "unknown_property" not in text and "deep" not in text
        assert s.writes() == []
        text = await s.refused("GetCxEngageIntegrations", "too large", **{f"arg{i}": 1 for i in range(20_000)})
        assert "arg1" not in text  # an unknown name is never echoed (it may be a pasted secret)


async def test_a_huge_property_value_is_refused_without_being_echoed() -> None:
    async with connect() as s:
        text = await s.refused("CreateCxEngageIntegration", "longer than 10000 characters", name="Big", type="rest",
                               properties={"endpointPrefix": "https://x.invalid/" + "a" * 50_000, "username": "u"})
        assert len(text) < MAX_ERROR_CHARS and "a" * 200 not in text


async def test_many_option_problems_are_listed_up_to_twenty() -> None:
    async with connect() as s:
        uid = s.revcent.add_user_integration(name="Tax", site_id=s.revcent.site_id("tax"))
        options = [{"id": f"no_such_option_{i}", "fields": [{"id": "f", "value": ["v"]}]} for i in range(150)]
        text = await s.refused("EditUserThirdPartyIntegration", "and 130 more problems",
                               user_third_party_integration_id=uid, third_party_options=options)
        assert len(text) < 5_000
