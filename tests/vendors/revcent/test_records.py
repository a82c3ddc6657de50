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

SITE = {"id": "S" * 20, "name": "Tax provider", "integration_type": "tax"}


@pytest.mark.parametrize("row, flat", [
    ({"id": "U1", "name": "Tax", "enabled": True, "site_third_party_integration": SITE},
     {"site_third_party_integration_id": "S" * 20, "site_name": "Tax provider", "integration_type": "tax"}),
    ({"id": "U1", "name": "Tax", "description": None, "site_third_party_integration": "S" * 20},
     {"site_third_party_integration_id": "S" * 20, "site_name": None, "integration_type": None}),
    ({"id": "U1", "name": "Tax"},
     {"site_third_party_integration_id": None, "site_name": None, "integration_type": None}),
])
def test_a_list_row_is_flattened(row: dict[str, Any], flat: dict[str, Any]) -> None:
    summary = UserIntegrationSummary.model_validate(row)
    assert summary.model_dump() == {"id": "U1", "name": "Tax", "description": "",
                                    "enabled": bool(row.get("enabled")), **flat}
    assert UserIntegrationSummary.model_validate(summary.model_dump()) == summary  # flattening twice changes nothing


@pytest.mark.parametrize("row", ["oops", {"name": "no id"}, {"id": "U1", "name": None}])
def test_a_row_of_another_shape_is_refused(row: Any) -> None:
    with pytest.raises(ValidationError):
        UserIntegrationSummary.model_validate(row)


@pytest.mark.parametrize("results", [None, []])
def test_an_empty_page_may_omit_its_results(results: Any) -> None:
    assert SiteIntegrationList.model_validate({"code": 1, "results": results}).results == []


def test_secure_form_ids_as_each_operation_names_them() -> None:
    assert NewSecureForm.model_validate({"secure_form_id": "F1", "form_url": "https://f"}).id == "F1"
    got = SecureFormRecord.model_validate({"id": "F1", "completed": None})
    assert got.id == "F1" and got.completed is False
    with pytest.raises(ValidationError):
        NewSecureForm.model_validate({"form_url": "https://f"})
