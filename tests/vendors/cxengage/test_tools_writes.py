"""CxEngage creates and edits through a real MCP client session (tests/harness.py): only what changes is sent,
overwrites and deactivations need confirmation, the rules refuse first, every write is read back and verified."""

from __future__ import annotations

import json

import pytest

from tests.harness import TOKEN, Session, text_of
from tests.vendors.cxengage.helpers import (
    REST_ID,
    REST_NAME,
    REST_TOKEN,
    ZENDESK,
    T,
    collection_path,
    create_zendesk,
    item_path,
)

pytestmark = pytest.mark.anyio


# --- create ---------------------------------------------------------------------------------------------------------

async def test_create_refuses_a_name_in_use_whatever_its_case(cx: Session) -> None:
    form_id = await cx.form("zendesk", {"password": "zd-pw"})
    await cx.refused("CreateCxEngageIntegration", "already exists", REST_ID, "Nothing was sent",
                     name="  sandbox ORDER lookup (FAKE) ", type="zendesk", properties=dict(ZENDESK),
                     secure_form_id=form_id)
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)


async def test_create_dry_run_writes_nothing_and_shows_the_body(cx: Session) -> None:
    dry = await cx.ok("CreateCxEngageIntegration", name=" Orders ", type="rest", description="Order look-ups",
                      properties={"endpointPrefix": "https://api.example.invalid/"}, dry_run=True)
    assert dry["dry_run"] is True and dry["integration_id"] is None and dry["verified"] is None
    assert dry["sent"] == {"name": "Orders", "type": "rest", "active": False, "description": "Order look-ups",
                           "properties": {"endpointPrefix": "https://api.example.invalid/"}}
    assert {c["field"] for c in dry["changes"]} >= {"name", "type", "active", "properties.endpointPrefix"}
    assert cx.writes() == []
    assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1


async def test_create_reads_back_and_verifies(cx: Session) -> None:
    created = await create_zendesk(cx, description="Tickets")
    [post] = cx.writes()
    assert post.path == collection_path()
    assert post.json() == {"name": "Desk", "type": "zendesk", "active": False, "description": "Tickets",
                           "properties": {**ZENDESK, "password": "zd-typed-pw"}}
    assert created["dry_run"] is False and created["mismatches"] == []
    record = created["verified"]["integration"]
    assert record["id"] == created["integration_id"] and record["name"] == "Desk" and record["active"] is False
    assert record["properties"]["password"] == "[redacted]"
    assert created["verified"]["readiness"]["can_activate"] is True
    assert "Activate it with EditCxEngageIntegration" in created["next_steps"][0]
    # The read-back really is a GET after the POST.
    assert [r.method for r in cx.cxengage.requests][-2:] == ["POST", "GET"]


async def test_create_active_only_when_complete(cx: Session) -> None:
    await cx.refused("CreateCxEngageIntegration", "secrets not set: password", name="Desk", type="zendesk",
                     properties=dict(ZENDESK), active=True)
    assert cx.writes() == []
    created = await create_zendesk(cx, active=True)
    assert cx.writes()[0].json()["active"] is True
    assert created["verified"]["integration"]["active"] is True
    assert created["next_steps"] == ["Complete and active."]


# --- edit -----------------------------------------------------------------------------------------------------------

async def test_edit_sends_only_the_fields_that_change(cx: Session) -> None:
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="New words",
                         name=REST_NAME, active=True)  # name and active equal what is saved
    [put] = cx.writes()
    assert put.method == "PUT" and put.path == item_path(REST_ID)
    assert put.json() == {"description": "New words"}
    assert result["mismatches"] == [] and result["verified"]["integration"]["description"] == "New words"
    assert [c["field"] for c in result["changes"]] == ["description"]


async def test_edit_sends_only_the_properties_that_change(cx: Session) -> None:
    # Filling an empty property needs no confirmation; the saved secret does not travel again.
    # The REST fixture holds a token: naming its account moves where the token is used, so the person confirms.
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"username": "svc"},
                         confirm_overwrite=True)
    [put] = cx.writes()
    assert put.json() == {"properties": {"username": "svc"}}
    assert result["mismatches"] == []
    assert REST_TOKEN not in json.dumps(result)
    assert cx.cxengage.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN  # the secret survived
    assert result["changes"] == [{"field": "properties.username", "saved": "", "proposed": "svc",
                                  "overwrites": False}]


async def test_empty_and_no_op_edits_are_refused(cx: Session) -> None:
    await cx.refused("EditCxEngageIntegration", "nothing to change", integration_id=REST_ID)
    await cx.refused("EditCxEngageIntegration", "changes nothing", "Nothing was sent", integration_id=REST_ID,
                     name=REST_NAME, active=True,
                     properties={"endpointPrefix": "https://orders.example.invalid/api/", "username": ""})
    assert cx.writes() == []


async def test_overwriting_a_value_needs_confirmation_and_shows_the_diff(cx: Session) -> None:
    new = "https://orders-v2.example.invalid/api/"
    message = await cx.refused("EditCxEngageIntegration", "confirm_overwrite",
                               f"properties.endpointPrefix: 'https://orders.example.invalid/api/' → '{new}'",
                               "Nothing was sent", integration_id=REST_ID, properties={"endpointPrefix": new})
    assert REST_TOKEN not in message
    assert cx.writes() == []
    dry = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"endpointPrefix": new},
                      dry_run=True)  # a dry run shows the diff without the confirmation
    assert dry["changes"][0]["overwrites"] is True and dry["sent"]["properties"] == {"endpointPrefix": new}
    assert cx.writes() == []
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"endpointPrefix": new},
                         confirm_overwrite=True)
    assert cx.writes()[0].json()["properties"]["endpointPrefix"] == new
    assert result["verified"]["integration"]["properties"]["endpointPrefix"] == new


async def test_clearing_a_secret_shows_no_value(cx: Session) -> None:
    # An empty secret passes the firewall; the confirmation diff must still not show what was saved.
    refusal = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, properties={"token": ""})
    assert refusal.is_error and "confirm_overwrite" in text_of(refusal)
    assert "properties.token: 'set'" in text_of(refusal)
    assert REST_TOKEN not in refusal.model_dump_json()
    assert cx.writes() == []
    done = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, properties={"token": ""},
                         confirm_overwrite=True)
    assert not done.is_error, text_of(done)
    assert REST_TOKEN not in done.model_dump_json()
    assert cx.cxengage.stored(T, REST_ID)["properties"]["token"] == ""


async def test_deactivating_needs_confirmation(cx: Session) -> None:
    await cx.refused("EditCxEngageIntegration", "confirm_deactivate", REST_NAME, "Nothing was sent",
                     integration_id=REST_ID, active=False)
    assert cx.writes() == []
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, active=False, confirm_deactivate=True)
    assert cx.writes()[0].json() == {"active": False}
    assert result["verified"]["integration"]["active"] is False


async def test_activating_an_incomplete_integration_is_refused(cx: Session) -> None:
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", dict(ZENDESK))  # no password yet
    await cx.refused("EditCxEngageIntegration", "cannot activate an incomplete integration",
                     "secrets not set: password", integration_id=desk, active=True)
    assert cx.writes() == []
    # Filling the empty secret through a form needs no confirmation, and completes it in the same edit.
    form_id = await cx.form("zendesk", {"password": "first-pw"}, integration_id=desk)
    result = await cx.ok("EditCxEngageIntegration", integration_id=desk, active=True, secure_form_id=form_id)
    [put] = cx.writes()
    assert put.json() == {"active": True, "properties": {"password": "first-pw"}}
    assert result["verified"]["readiness"]["can_activate"] is True and result["mismatches"] == []
    assert cx.cxengage.stored(T, desk)["properties"]["password"] == "first-pw"


async def test_rename_must_stay_unique(cx: Session) -> None:
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "x"})
    await cx.refused("EditCxEngageIntegration", "already exists", REST_ID, integration_id=desk,
                     name="SANDBOX order lookup (fake)")
    assert cx.writes() == []
    await cx.ok("EditCxEngageIntegration", integration_id=desk, name="DESK")  # its own name, other case
    await cx.ok("EditCxEngageIntegration", integration_id=desk, name="Helpdesk")
    assert [w.json() for w in cx.writes()] == [{"name": "DESK"}, {"name": "Helpdesk"}]


async def test_secret_rotation_through_a_form_for_the_integration(cx: Session) -> None:
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "old-pw"})
    form_id = await cx.form("zendesk", {"password": "new-pw"}, integration_id=desk)
    refusal = await cx.call("EditCxEngageIntegration", integration_id=desk, secure_form_id=form_id)
    assert refusal.is_error and "properties.password: 'set' → 'replaced'" in text_of(refusal)
    assert "confirm_overwrite" in text_of(refusal)
    assert "old-pw" not in refusal.model_dump_json() and "new-pw" not in refusal.model_dump_json()
    assert cx.writes() == [] and cx.form_state(form_id) == (True, False)

    done = await cx.call("EditCxEngageIntegration", integration_id=desk, secure_form_id=form_id,
                         confirm_overwrite=True)
    assert not done.is_error, text_of(done)
    [put] = cx.writes()
    assert put.json() == {"properties": {"password": "new-pw"}}
    assert cx.cxengage.stored(T, desk)["properties"]["password"] == "new-pw"
    result = done.structured_content
    assert result["changes"] == [{"field": "properties.password", "saved": "set", "proposed": "replaced",
                                  "overwrites": True}]
    assert result["mismatches"] == [] and result["sent"]["properties"]["password"] == "[redacted]"
    assert "old-pw" not in done.model_dump_json() and "new-pw" not in done.model_dump_json()
    assert cx.form_state(form_id) == (False, True)


async def test_a_write_the_vendor_ignores_is_flagged(cx: Session) -> None:
    stale = json.dumps({"result": cx.cxengage.stored(T, REST_ID)}).encode()
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="PUT", status=200, body=stale)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="New words")
    assert len(cx.writes()) == 1
    assert result["mismatches"] == ["description: sent 'New words', read back "
                                    "'Fixture: a REST integration that already exists.'"]
    # A secret that did not stick is flagged without its value.
    form_id = await cx.form("rest", {"token": "rotated-token"}, integration_id=REST_ID, fields=["token"])
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="PUT", status=200, body=stale)
    ignored = await cx.call("EditCxEngageIntegration", integration_id=REST_ID, secure_form_id=form_id,
                            confirm_overwrite=True)
    assert ignored.structured_content["mismatches"] == ["properties.token: the secret sent was not read back"]
    assert "rotated-token" not in ignored.model_dump_json() and REST_TOKEN not in ignored.model_dump_json()
    assert cx.cxengage.stored(T, REST_ID)["properties"]["token"] == REST_TOKEN


async def test_turning_a_switch_on_needs_no_confirmation_but_turning_it_off_does(cx: Session) -> None:
    # workItems defaults to false.
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw"})
    await cx.ok("EditCxEngageIntegration", integration_id=desk,
                properties={"workItems": True, "interactionFieldId": "360000001"})
    await cx.refused("EditCxEngageIntegration", "confirm_overwrite", "properties.workItems: True → False",
                     integration_id=desk, properties={"workItems": False})
    assert len(cx.writes()) == 1


async def test_an_active_integration_cannot_be_left_incomplete(cx: Session) -> None:
    # Active without its password (set up elsewhere): an edit that leaves it so is refused until it is complete.
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", dict(ZENDESK), active=True)
    await cx.refused("EditCxEngageIntegration", "cannot leave active an incomplete integration", "password",
                     integration_id=desk, properties={"endpointPrefix": "https://desk2.example.invalid/api/v2/"},
                     confirm_overwrite=True)
    assert cx.writes() == []
    await cx.ok("EditCxEngageIntegration", integration_id=desk, description="New words")  # completeness unchanged


async def test_a_failed_read_back_does_not_hide_a_successful_write(cx: Session) -> None:
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=503,
                         body=b'{"error":{"code":503,"message":"busy"}}', skip=1)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, description="Written")
    assert cx.cxengage.stored(T, REST_ID)["description"] == "Written"
    assert result["verified"] is None and result["integration_id"] == REST_ID
    assert "The write succeeded, but reading it back failed" in result["mismatches"][0]
    assert "GetCxEngageIntegration" in result["next_steps"][0]


async def test_a_name_differing_only_by_spaces_is_no_change(cx: Session) -> None:
    await cx.refused("EditCxEngageIntegration", "changes nothing", integration_id=REST_ID, name=f"  {REST_NAME} ")
    assert cx.writes() == []


async def test_writes_report_progress(cx: Session) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    result = await cx.client.call_tool("EditCxEngageIntegration", {"tenant_id": T, "integration_id": REST_ID,
                                                                   "description": "Progress"},
                                       progress_callback=on_progress)
    assert not result.is_error
    assert seen == [(1, 3), (2, 3), (3, 3)]


async def test_a_property_lost_by_the_write_is_flagged(cx: Session) -> None:
    """If the vendor replaced `properties` wholesale, what the edit did not touch would vanish: the read-back says so,
    naming a lost secret without its value."""
    replaced = json.dumps({"result": {**cx.cxengage.stored(T, REST_ID), "properties": {"username": "svc"}}}).encode()
    # The REST fixture holds a token: naming its account moves where the token is used, so the person confirms
    # (the change shown first; the fault below hits the confirmed call's read-back).
    shown = await cx.refused("EditCxEngageIntegration", "where the saved token", integration_id=REST_ID,
                             properties={"username": "svc"})
    cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="GET", status=200, body=replaced, skip=1)
    result = await cx.ok("EditCxEngageIntegration", integration_id=REST_ID, properties={"username": "svc"},
                         confirm_overwrite=True, confirmation_id=TOKEN.search(shown).group(1))
    assert "properties.token: changed although this edit did not touch it" in result["mismatches"]
    assert ("properties.endpointPrefix: changed although this edit did not touch it "
            "(was 'https://orders.example.invalid/api/')") in result["mismatches"]
    assert REST_TOKEN not in json.dumps(result)


async def test_an_edit_cannot_empty_a_required_property_of_an_active_integration(cx: Session) -> None:
    desk = cx.cxengage.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw"}, active=True)
    await cx.refused("EditCxEngageIntegration", "would leave required properties without a value",
                     "configuration UI's rules", integration_id=desk, properties={"username": ""},
                     confirm_overwrite=True)
    await cx.refused("EditCxEngageIntegration", "interactionFieldId", integration_id=desk,
                     properties={"workItems": True})
    assert cx.writes() == []
    # Inactive, the UI's rules wait for activation: clearing is a confirmed overwrite.
    idle = cx.cxengage.add_integration(T, "zendesk", "Idle desk", {**ZENDESK, "password": "pw"})
    cleared = await cx.ok("EditCxEngageIntegration", integration_id=idle, properties={"username": ""},
                          confirm_overwrite=True)
    assert cleared["mismatches"] == [] and "username" in cleared["verified"]["readiness"]["missing_required"]
