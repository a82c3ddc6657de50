"""The one rule for every page a person submits: a POST is accepted only from the page's own form in a browser."""

from __future__ import annotations

import pytest

from integrations_mcp.pages.origin import origin_of, submitted_from_own_page
from tests.pages import ACCEPTED, OWN, REFUSED


@pytest.mark.parametrize("headers", ACCEPTED)
def test_the_persons_own_submit_is_accepted(headers: dict[str, str]) -> None:
    assert submitted_from_own_page(headers, [OWN])


@pytest.mark.parametrize("headers", REFUSED)
def test_a_post_from_anywhere_else_is_refused(headers: dict[str, str]) -> None:
    assert not submitted_from_own_page(headers, [OWN])


def test_a_configured_public_origin_counts_as_own() -> None:
    headers = {"origin": "https://forms.example.com", "sec-fetch-site": "same-origin"}
    assert not submitted_from_own_page(headers, [OWN])
    assert submitted_from_own_page(headers, [OWN, origin_of("https://forms.example.com/secure-forms/x")])


def test_origin_of_drops_path_and_case() -> None:
    assert origin_of("HTTP://127.0.0.1:8123/secure_forms/abc?x=1") == OWN
