"""The text of a tool result is a short summary (what changed, what is verified, what is next) that a client reading
only text can act on; structuredContent holds the data. Write results carry readiness and the diff, not the site
integration's schema."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.harness import CXENGAGE_SECRET, Session, both_settings, connect, text_of
from tests.vendors.cxengage.helpers import REST_ID
from tests.vendors.revcent.helpers import completed_form, create, set_option, static_single_select

pytestmark = pytest.mark.anyio

TYPICAL_WRITE_ANSWER_CHARS = 1_500


@pytest.fixture
async def session() -> Session:
    async with connect(both_settings()) as s:
        yield s


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


async def test_a_create_answer_is_a_short_summary_with_what_is_next(session: Session) -> None:
    form_id = await completed_form(session.client, session.revcent)
    result = await session.client.call_tool("CreateUserThirdPartyIntegration", {
        "name": "Tax main", "site_third_party_integration": session.revcent.site_id("tax"), "secure_form_id": form_id})
    text, data = text_of(result), result.structured_content
    assert not result.is_error and not _is_json(text) and len(text) <= TYPICAL_WRITE_ANSWER_CHARS, len(text)
    uid = data["user_third_party_integration_id"]
    assert uid in text and "Verified: stored as sent (this does not test the connection" in text
    assert "can_enable=false" in text and "Next: " in text
    # A client that reads only text still sees every choice's value and label.
    for choice in data["verified"]["readiness"]["choices"]:
        assert f"{choice['option_id']}.{choice['field_id']}" in text and choice["label"] in text
        assert all(v["value"] in text for v in choice["values"])
    # The data: the saved state read back and readiness, not the site integration's schema again.
    assert set(data["verified"]) == {"integration", "readiness"}
    assert "site_third_party_integration" not in data["verified"]["integration"]
    assert "third_party_options" not in json.dumps(data["verified"]).replace("third_party_options_saved", "")


async def test_a_dry_run_of_an_overwrite_names_the_confirmation_it_will_need(session: Session) -> None:
    uid = await create(session.client, session.revcent)
    option_id, field_id, values = static_single_select(session.revcent)
    await set_option(session.client, uid, option_id, field_id, [values[0]])
    result = await session.client.call_tool("EditUserThirdPartyIntegration", {
        "user_third_party_integration_id": uid, "dry_run": True,
        "third_party_options": [{"id": option_id, "fields": [{"id": field_id, "value": [values[1]]}]}]})
    text = text_of(result)
    assert text.startswith("Dry run: nothing was written.")
    assert f"{option_id}.{field_id}: {values[0]} → {values[1]}" in text
    assert "confirm_overwrite=true" in text and "any confirmation" not in text


async def test_reads_and_lists_are_compact(session: Session) -> None:
    uid = await create(session.client, session.revcent)
    view = await session.client.call_tool("GetUserThirdPartyIntegration", {"user_third_party_integration_id": uid})
    listing = await session.client.call_tool("GetUserThirdPartyIntegrations", {})
    cx_list = await session.call("GetCxEngageIntegrations")
    for result in (view, listing, cx_list):
        text = text_of(result)
        assert not result.is_error and not _is_json(text) and "\n  " not in text
    assert uid in text_of(view) and "Option " in text_of(view) and "Readiness:" in text_of(view)
    assert uid in text_of(listing) and len(text_of(listing)) < 400
    assert all(row["id"] in text_of(cx_list) for row in cx_list.structured_content["results"])


async def test_a_cxengage_write_answer(session: Session) -> None:
    result = await session.call("EditCxEngageIntegration", integration_id=REST_ID, description="New words")
    text = text_of(result)
    assert not result.is_error and not _is_json(text) and len(text) <= TYPICAL_WRITE_ANSWER_CHARS, text
    assert "description:" in text and "New words" in text and "Verified: stored as sent" in text
    assert "can_activate=" in text


async def test_a_connectors_requirements_fit_in_a_few_hundred_tokens(session: Session) -> None:
    site = session.revcent.site_integrations[session.revcent.site_id("tax")]
    result = await session.client.call_tool("GetSiteThirdPartyIntegration",
                                            {"site_third_party_integration_id": site["id"]})
    text = text_of(result)
    assert not result.is_error and len(text) < 1_200, len(text)
    assert all(f["id"] in text for f in site["third_party_credentials"]["fields"])
    assert all(o["id"] in text and all(f["id"] in text for f in o["fields"]) for o in site["third_party_options"])


async def test_a_record_read_again_gets_its_kept_text_and_a_changed_record_a_new_one(session: Session) -> None:
    """The server keeps the text answers it made by their structuredContent (toolkit/answers.py KeptTexts)."""
    arguments = {"tenant_id": session.tenant, "integration_id": REST_ID}
    first = await session.client.call_tool("GetCxEngageIntegration", arguments)
    again = await session.client.call_tool("GetCxEngageIntegration", arguments)
    assert text_of(again) == text_of(first) and again.structured_content == first.structured_content
    assert list(session.server.kept_texts._texts.values()) == [text_of(first)]
    records = session.cxengage.integrations[session.tenant]
    records[REST_ID] = dataclasses.replace(records[REST_ID], name="Order look-ups, renamed")
    renamed = await session.client.call_tool("GetCxEngageIntegration", arguments)
    assert '"Order look-ups, renamed"' in text_of(renamed) and text_of(renamed) != text_of(first)


async def test_an_answer_the_output_filter_changed_is_never_kept(session: Session) -> None:
    """A configured secret in a vendor's text is masked by the output filter (its look is nothing special, so the
    view does not mask it): that answer is made afresh each time, never kept."""
    secret = CXENGAGE_SECRET
    quoting = session.cxengage.add_integration(session.tenant, "rest", f"Quoting {secret}")
    arguments = {"tenant_id": session.tenant, "integration_id": quoting}
    for _ in range(2):
        result = await session.client.call_tool("GetCxEngageIntegration", arguments)
        assert secret not in text_of(result) and secret not in json.dumps(result.structured_content)
        assert "[redacted]" in text_of(result)
    assert session.server.kept_texts._texts == {}
