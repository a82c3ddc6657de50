"""The output filter has no skipped keys: only the links the server made for the person in this call pass whole
(registered by origin, `outputs.own_link`); a vendor's value under a key named `form_url` or `approval_url` is
filtered like any other."""

from __future__ import annotations

import json
import re

import pytest

from integrations_mcp.guardrails.outputs import clean_output, own_link, own_links, remember_configured_secrets
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_SECRET
from tests.harness import connect, text_of
from tests.vendors.cxengage.helpers import T

pytestmark = pytest.mark.anyio

BIDI = "\u202e"


async def test_a_vendor_value_under_a_link_key_is_masked_in_text_and_structured_content() -> None:
    async with connect() as s:
        iid = s.cxengage.add_integration(T, "rest", "Linked", {"endpointPrefix": "https://x.invalid/"})
        s.cxengage.integrations[T][iid].properties.update({
            "form_url": f"https://evil.invalid/?k={SANDBOX_API_SECRET}{BIDI}",
            "extra": {"approval_url": f"{BIDI}{SANDBOX_API_SECRET}", "form_url": SANDBOX_API_SECRET}})
        result = await s.call("GetCxEngageIntegration", integration_id=iid)
    assert not result.is_error
    shown = text_of(result) + json.dumps(result.structured_content, ensure_ascii=False)
    assert "evil.invalid" in shown  # the values are there, filtered
    assert SANDBOX_API_SECRET not in shown and SANDBOX_API_SECRET[:8] not in shown and BIDI not in shown


async def test_the_servers_own_form_link_reaches_the_person_whole() -> None:
    async with connect() as s:
        created = await s.ok("CreateCxEngageSecureForm", type="zendesk")
    # Whole: the page's own capability (not the form handle the model keeps), nothing masked in it.
    assert re.fullmatch(r"http://[^/]+/secure-forms/[A-Za-z0-9_-]{32}", created["form_url"]), created["form_url"]
    assert created["secure_form_id"] not in created["form_url"]


def test_only_the_exact_registered_string_passes_whole() -> None:
    remember_configured_secrets((), also=["Secret-Key-0123456789"])
    link = "http://127.0.0.1:9/forms/Secret-Key-0123456789"  # absurd, but the server made it: it passes
    with own_links() as links:
        own_link(link)
        cleaned = clean_output({"form_url": link, "approval_url": link + "x", "other": [link]}, keep=links)
    assert cleaned["form_url"] == link and cleaned["other"] == [link]
    assert "Secret-Key" not in cleaned["approval_url"]
    assert own_link("http://elsewhere.invalid/") and not links - {link}  # outside a call nothing is registered


def test_a_vendors_link_is_handed_over_whole_only_without_a_known_secret_or_hidden_characters() -> None:
    from integrations_mcp.guardrails.outputs import vendor_link

    remember_configured_secrets((), also=["Secret-Key-0123456789"])
    fine, leaky, hidden = ("https://revcent.invalid/secure_forms/abc?token=Zx9Lk2Qw8Rt5Yp3V",
                           "https://revcent.invalid/secure_forms/abc?k=secret-key-0123456789",
                           f"https://revcent.invalid/secure_forms/{BIDI}abc")
    with own_links() as links:
        for link in (fine, leaky, hidden):
            vendor_link(link)
    assert links == {fine}
