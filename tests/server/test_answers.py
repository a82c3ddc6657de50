"""The text of a tool result is a short summary (what changed, what is verified, what is next) that a client reading
only text can act on; structuredContent holds the data. Write results carry readiness and the diff, not the site
integration's schema."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

import pydantic_core
import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from integrations_mcp.toolkit.answers import json_exact
from tests.harness import CXENGAGE_SECRET, Session, both_settings, connect, text_of
from tests.vendors.cxengage.helpers import REST_ID, ZENDESK
from tests.vendors.revcent.helpers import (
    completed_form,
    create,
    credential_values,
    revcent_form_id,
    set_option,
    static_single_select,
)

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



async def test_every_answer_is_its_output_models_answer_of_the_structured_content(session: Session) -> None:
    """The text of a structured result is the output model's answer() of the structuredContent sent. The server makes
    it from the instance the tool returned when validating the dump would give that instance back
    (toolkit/answers.py json_exact), otherwise from the dump: the same text either way, for every tool whose result
    is a model with an answer, records with saved options and masked values among them."""
    rc = session.revcent
    option_id, field_id, values = static_single_select(rc)
    shapes: set[tuple[str, bytes]] = set()

    async def answer(tool: str, **arguments: Any) -> dict[str, Any]:
        result = await session.call(tool, arguments)
        assert not result.is_error, (tool, text_of(result))
        model = session.server.tool_specs[tool].tool.fn_metadata.output_model
        sent = model.model_validate(result.structured_content)
        assert text_of(result) == sent.answer(), tool
        # The structuredContent is the model's dump (toolkit/server.py _converted).
        assert result.structured_content == sent.model_dump(mode="json", by_alias=True), tool
        shapes.add((tool, pydantic_core.to_json(result.structured_content, fallback=str)))
        return result.structured_content

    await answer("GetSiteThirdPartyIntegrations")
    await answer("GetSiteThirdPartyIntegration", site_third_party_integration_id=rc.site_id("tax"))
    form = await answer("CreateSecureForm", site_third_party_integration_id=rc.site_id("tax"))
    rc.complete_secure_form(revcent_form_id(form), credential_values(rc, "tax"))
    await answer("GetSecureForm", secure_form_id=form["secure_form_id"])
    uid = (await answer("CreateUserThirdPartyIntegration", name="Tax main", secure_form_id=form["secure_form_id"],
                        site_third_party_integration=rc.site_id("tax")))["user_third_party_integration_id"]
    await answer("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,
                 third_party_options=[{"id": option_id, "fields": [{"id": field_id, "value": [values[0]]}]}])
    await answer("EditUserThirdPartyIntegration", user_third_party_integration_id=uid, dry_run=True,
                 description="Renamed shop")
    await answer("GetUserThirdPartyIntegrations")
    await answer("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
    masked = rc.add_user_integration(
        name="Shop ghp_16C7e42F292c6912E7710c838347Ae178B4a", site_id=rc.site_id("tax"),
        description="Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", enabled=True,
        options_saved=[{"id": option_id, "fields": [{"id": field_id, "value": [values[1]]}]}])
    shown = await answer("GetUserThirdPartyIntegration", user_third_party_integration_id=masked)
    assert "ghp_" not in json.dumps(shown) and "[redacted]" in shown["integration"]["name"]

    await answer("GetCxEngageIntegrations")
    await answer("GetCxEngageIntegration", integration_id=REST_ID)
    secrets = await answer("CreateCxEngageSecureForm", type="zendesk")
    session.fill(secrets["secure_form_id"], {"password": "zd-typed-pw"})
    created = await answer("CreateCxEngageIntegration", name="Desk", type="zendesk", properties=dict(ZENDESK),
                           secure_form_id=secrets["secure_form_id"])
    await answer("GetCxEngageIntegration", integration_id=created["integration_id"])
    await answer("EditCxEngageIntegration", integration_id=REST_ID, description="New words")
    await answer("GetIntegrationGuide", guide="revcent/lifecycle")
    await answer("GetIntegrationChanges")
    await answer("GetIntegrationChanges", change_id=1)
    # The JSON the server made of each answer it kept (by the model's serializer where json_exact) is the answer's.
    kept = set(session.server.kept_texts._texts)
    assert {"GetUserThirdPartyIntegration", "GetSiteThirdPartyIntegration"} <= {tool for tool, _ in kept}
    assert kept <= shapes


def test_a_model_is_json_exact_when_validating_its_dump_gives_its_values_back() -> None:
    class Row(BaseModel):
        id: str
        size: int | None = None
        kind: Literal["a", "b"] = "a"
        on: bool = False

    class Page(BaseModel):
        rows: list[Row]
        asset: bool = Field(False, validation_alias=AliasChoices("asset", "remote_asset"))

    assert json_exact(Row) and json_exact(Page)

    class Loose(BaseModel):
        value: Any

    class Ratio(BaseModel):
        value: float  # NaN is dumped as null

    class Mapping(BaseModel):
        value: dict[str, str]

    class Renamed(BaseModel):
        value: str = Field(serialization_alias="shown")

    class Hidden(BaseModel):
        value: str = Field("", exclude=True)

    class Extra(BaseModel):
        model_config = ConfigDict(extra="allow")

    class Holding(BaseModel):
        inner: Loose

    for model in (Loose, Ratio, Mapping, Renamed, Hidden, Extra, Holding):
        assert not json_exact(model), model.__name__
