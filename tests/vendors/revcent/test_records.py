"""RevCent's records: what the client accepts from the wire, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from integrations_mcp.vendors.revcent.records import (
    NewSecureForm,
    SecureFormRecord,
    SiteIntegrationList,
    UserIntegrationSummary,
)

U1, F1 = "U" * 19 + "1", "F" * 19 + "1"
SITE = {"id": "S" * 20, "name": "Tax provider", "integration_type": "tax"}


@pytest.mark.parametrize("row, flat", [
    ({"id": U1, "name": "Tax", "enabled": True, "site_third_party_integration": SITE},
     {"site_third_party_integration_id": "S" * 20, "site_name": "Tax provider", "integration_type": "tax"}),
    ({"id": U1, "name": "Tax", "description": None, "site_third_party_integration": "S" * 20},
     {"site_third_party_integration_id": "S" * 20, "site_name": None, "integration_type": None}),
    ({"id": U1, "name": "Tax"},
     {"site_third_party_integration_id": None, "site_name": None, "integration_type": None}),
])
def test_a_list_row_is_flattened(row: dict[str, Any], flat: dict[str, Any]) -> None:
    summary = UserIntegrationSummary.model_validate(row)
    assert summary.model_dump() == {"id": U1, "name": "Tax", "description": "", "enabled": row.get("enabled"), **flat}
    assert UserIntegrationSummary.model_validate(summary.model_dump()) == summary  # flattening twice changes nothing


@pytest.mark.parametrize("row", ["oops", {"name": "no id"}, {"id": U1, "name": None}])
def test_a_row_of_another_shape_is_refused(row: Any) -> None:
    with pytest.raises(ValidationError):
        UserIntegrationSummary.model_validate(row)


@pytest.mark.parametrize("results", [None, []])
def test_an_empty_page_may_omit_its_results(results: Any) -> None:
    assert SiteIntegrationList.model_validate({"code": 1, "results": results}).results == []


def test_secure_form_ids_as_each_operation_names_them() -> None:
    assert NewSecureForm.model_validate({"secure_form_id": F1, "form_url": "https://f"}).id == F1
    got = SecureFormRecord.model_validate({"id": F1})
    assert got.id == F1 and got.completed is False
    with pytest.raises(ValidationError):
        NewSecureForm.model_validate({"form_url": "https://f"})


@pytest.mark.parametrize("value, read", [(True, True), (False, False), ("true", True), ("false", False),
                                         ("False", False), (" TRUE ", True)])
def test_booleans_are_read_strictly(value: Any, read: bool) -> None:
    """[I] revcent.booleans: "false" never reads as true (it did: bool("false")); JSON and the two strings only."""
    row = {"id": U1, "name": "Tax", "enabled": value}
    assert UserIntegrationSummary.model_validate(row).enabled is read
    assert SecureFormRecord.model_validate({"id": F1, "completed": value}).completed is read


def test_a_row_that_does_not_say_whether_it_is_enabled_reads_unknown() -> None:
    assert UserIntegrationSummary.model_validate({"id": U1, "name": "Tax", "enabled": None}).enabled is None
    with pytest.raises(ValidationError):
        SecureFormRecord.model_validate({"id": F1, "completed": None})


@pytest.mark.parametrize("value", [1, 0, "yes", "no", "", [], "falsey"])
def test_other_booleans_are_refused_not_guessed(value: Any) -> None:
    with pytest.raises(ValidationError):
        UserIntegrationSummary.model_validate({"id": U1, "name": "Tax", "enabled": value})
    with pytest.raises(ValidationError):
        SecureFormRecord.model_validate({"id": F1, "completed": value})


@pytest.mark.parametrize("ident", ["a_b-C0123456789abcde", "-" * 20, "A" * 20, "ab_cd_ef_gh_ij_kl_mn"])
def test_ids_with_underscore_and_dash_are_read(ident: str) -> None:
    """[I] revcent.id_charset: an account whose ids hold `_` or `-` is read (they were refused before)."""
    assert UserIntegrationSummary.model_validate({"id": ident, "name": "Tax"}).id == ident


@pytest.mark.parametrize("ident", ["AKIAIOSFODNN7EXAMPLE", "x" * 19, "x" * 21, "a b-C0123456789abcde", "é" * 20])
def test_ids_of_another_shape_or_shaped_like_a_key_are_refused(ident: str) -> None:
    with pytest.raises(ValidationError):
        UserIntegrationSummary.model_validate({"id": ident, "name": "Tax"})


@pytest.mark.parametrize("names", [("third_party_asset", "multiple"), ("remote_asset", "is_multiple")])
def test_both_select_setting_spellings_are_read(names: tuple[str, str]) -> None:
    """[C] revcent.select_names: the Get schema's names and the Edit description's."""
    from integrations_mcp.vendors.revcent.records import SelectSettings

    settings = SelectSettings.model_validate({names[0]: True, names[1]: "true", "options": ["a"]})
    assert settings.third_party_asset is True and settings.multiple is True
