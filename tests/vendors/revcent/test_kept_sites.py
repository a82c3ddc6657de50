"""Site integrations kept by the JSON RevCent sent (kept_sites.py): the key holds every value with its type, a site
that is not valid is never kept, and what is kept is what validating the site gives."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from integrations_mcp.vendors.revcent import kept_sites
from integrations_mcp.vendors.revcent.kept_sites import kept_site, site_json
from integrations_mcp.vendors.revcent.records import SiteIntegration, UserIntegration

SITE: dict[str, Any] = {
    "id": "S" * 20, "name": "Tax provider", "description": "Sales tax.", "integration_type": "tax",
    "third_party_credentials": None,
    "third_party_options": [{"id": "company", "name": "Company", "required": True, "fields": [
        {"id": "company_id", "name": "Company", "field_type": "select", "required": "true",
         "select_settings": {"remote_asset": True, "options": ["a", "b"], "is_multiple": False}}]}],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    site = copy.deepcopy(SITE)
    where = site
    for step in path[:-1]:
        where = where[step]
    where[path[-1]] = value
    return site


def test_the_same_json_gives_the_same_site_as_validating_it() -> None:
    first, again = kept_site(copy.deepcopy(SITE)), kept_site(copy.deepcopy(SITE))
    assert first is again and first == SiteIntegration.model_validate(SITE)
    assert site_json(first) == first.__pydantic_serializer__.to_json(first)
    assert site_json(first.model_copy()) == site_json(first)  # a copy is not the kept instance: made anew, the same
    record = UserIntegration.model_validate({"id": "U" * 20, "name": "x", "site_third_party_integration": first})
    assert record == UserIntegration.model_validate({"id": "U" * 20, "name": "x", "site_third_party_integration": SITE})


@pytest.mark.parametrize("path, value", [
    (("name",), "Tax provider "),
    (("third_party_options", 0, "fields", 0, "select_settings", "options"), ["a", "b", "c"]),
    (("third_party_options", 0, "fields", 0, "select_settings", "options"), ["b", "a"]),
    (("third_party_options", 0, "fields", 0, "required"), True),  # "true" before: the same model, another key
    (("third_party_options", 0, "required"), "false"),
    (("third_party_credentials",), {"id": "creds", "fields": [{"id": "key", "required": True}]}),
])
def test_any_change_of_the_json_is_another_key(path: tuple[Any, ...], value: Any) -> None:
    kept = kept_site(copy.deepcopy(SITE))
    changed = _with(path, value)
    site = kept_site(changed)
    assert site is not kept and site == SiteIntegration.model_validate(changed)


@pytest.mark.parametrize("path, value", [
    (("third_party_credentials",), math.nan),  # NaN is not null (which is valid there): never the kept site
    (("third_party_options", 0, "required"), 1),  # 1 is not true to RevCent's booleans
    (("third_party_options", 0, "fields", 0, "required"), 1.0),
    (("id",), "S" * 19),
    (("integration_type",), None),
])
def test_a_site_that_is_not_valid_is_not_kept(path: tuple[Any, ...], value: Any) -> None:
    assert kept_site(copy.deepcopy(SITE)) is not None
    assert kept_site(_with(path, value)) is None


def test_what_has_no_json_or_is_no_object_is_not_kept() -> None:
    assert kept_site(_with(("name",), "lone \udc80 surrogate")) is None
    assert kept_site(None) is None and kept_site("S" * 20) is None and kept_site([SITE]) is None


def test_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept_sites, "KEPT_SITES_BYTES", 2000)
    kept = [kept_site(_with(("description",), f"Site {i}")) for i in range(20)]
    assert all(site is not None for site in kept)
    assert kept_sites._kept_bytes[0] <= 2000 and len(kept_sites._by_raw) == len(kept_sites._by_id) < 20


def _record(i: int, site: Any, **more: Any) -> UserIntegration:
    return UserIntegration.model_validate({"id": f"U{i:019d}", "name": f"Shop \"{i}\" ünï", "description": "d\n" * i,
                                           "enabled": i % 2 == 0, "site_third_party_integration": site, **more})


@pytest.mark.parametrize("kept", [True, False])
def test_a_views_json_made_of_kept_parts_is_its_serializers(kept: bool) -> None:
    """views.view_json (UserIntegrationView.structured_json): byte for byte the serializer's, for views of kept sites
    and readiness and of sites read without kept_site, copies of a view with another integration or readiness too."""
    from integrations_mcp.vendors.revcent.views import view

    site = kept_site(copy.deepcopy(SITE)) if kept else SiteIntegration.model_validate(SITE)
    saved = [{"id": "company", "fields": [{"id": "company_id", "value": ["a"]}]},
             {"id": "other", "fields": [{"id": "webhook_secret", "value": ["s3cr3t-value-0123456789"]}]}]
    views = [view(_record(i, site, third_party_options_saved=saved[: i % 3],
                          third_party_credentials_saved=["creds"] * (i % 2))) for i in range(6)]
    views += [views[1].model_copy(update={"integration": views[2].integration}),
              views[3].model_copy(update={"readiness": views[4].readiness.model_copy(update={"can_enable": True})})]
    for shown in views:
        assert shown.structured_json() == shown.__pydantic_serializer__.to_json(shown, by_alias=True)


def test_a_kept_readinesss_lines_are_its_lines_made_once() -> None:
    from integrations_mcp.vendors.revcent.views import readiness_lines, view

    site = kept_site(copy.deepcopy(SITE))
    shown = view(_record(1, site))
    again = view(_record(2, site))
    assert again.readiness is shown.readiness  # kept: shared
    first = readiness_lines(shown.readiness)
    assert first == shown.readiness.lines() and first is not readiness_lines(shown.readiness)
    first.append("changed by a caller")
    assert readiness_lines(again.readiness) == shown.readiness.lines()
    other = shown.readiness.model_copy(update={"can_enable": True})
    assert readiness_lines(other) == other.lines() != shown.readiness.lines()
