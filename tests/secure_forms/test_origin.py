"""The one rule for every secure form page: a POST is accepted only from the form's own page."""

from __future__ import annotations

import pytest

from integrations_mcp.secure_forms.origin import origin_of, submitted_from_own_page
from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT

OWN = "http://127.0.0.1:8123"

# What real clients send. Both form pages are tested against these same lists.
ACCEPTED = [
    pytest.param(dict(BROWSER_SUBMIT), id="chromium-own-page-no-referrer"),
    pytest.param({"origin": OWN, "sec-fetch-site": "same-origin"}, id="browser-own-origin"),
    pytest.param({"origin": OWN}, id="older-browser-own-origin"),
    pytest.param({}, id="not-a-browser"),
]
REFUSED = [
    pytest.param({"origin": "https://evil.example", "sec-fetch-site": "cross-site"}, id="other-site"),
    pytest.param({"origin": "http://localhost:9000", "sec-fetch-site": "cross-site"}, id="localhost-vs-ip"),
    pytest.param({"origin": "http://127.0.0.1:9000", "sec-fetch-site": "same-site"}, id="other-port-same-host"),
    pytest.param({"origin": "null", "sec-fetch-site": "cross-site"}, id="null-cross-site"),
    pytest.param({"origin": "null"}, id="null-unvouched"),
    pytest.param({"sec-fetch-site": "same-site"}, id="same-site-no-origin"),
    pytest.param({"origin": OWN, "sec-fetch-site": "cross-site"}, id="own-origin-but-cross-site"),
    pytest.param({"origin": "https://evil.example"}, id="older-browser-other-origin"),
    pytest.param({"origin": OWN + ".evil.example"}, id="prefix-look-alike"),
]


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
