"""The server against each [I] switch of the CxEngage emulator's contract that changes what it must do, over a real
MCP client session: booleans read strictly, secrets masked or left out of reads, lists paged or capped, PUT merging
or replacing `properties` (learned from the first write and repaired in one call), the UI's rules enforced by the API
never, at activation, or always."""

from __future__ import annotations

from typing import Any

import pytest

from integrations_mcp.vendors.cxengage.emulator import Contract, CxEngageEmulator
from integrations_mcp.vendors.cxengage.emulator.contract import LIST_PAGE_SIZE
from tests.harness import connect, cxengage_settings
from tests.vendors.cxengage.helpers import ZENDESK, T, create_zendesk

pytestmark = pytest.mark.anyio


def emulator(**switches: Any) -> CxEngageEmulator:
    return CxEngageEmulator(contract=Contract(**switches))


# --- booleans -------------------------------------------------------------------------------------------------------


async def test_active_false_as_a_string_is_read_as_inactive() -> None:
    emu = emulator(booleans_on_read="string")
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw", "workItems": False})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        view = await cx.ok("GetCxEngageIntegration", integration_id=desk)
        assert view["integration"]["active"] is False and view["integration"]["properties"]["workItems"] is False
        listed = await cx.ok("GetCxEngageIntegrations", name="Desk")
        assert listed["results"][0]["active"] is False
        # Activating it is a change (not "already saved"), and its read-back compares equal.
        done = await cx.ok("EditCxEngageIntegration", integration_id=desk, active=True)
        assert done["mismatches"] == [] and done["verified"]["integration"]["active"] is True
        assert emu.stored(T, desk)["active"] is True


@pytest.mark.parametrize("value", ["yes", 1, None, "False "[:4] + "e!"])
async def test_an_active_that_is_no_boolean_is_refused_not_guessed(value: Any) -> None:
    emu = emulator()
    desk = emu.add_integration(T, "zendesk", "Desk", dict(ZENDESK))
    emu.integrations[T][desk].active = value  # what a vendor might send
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        await cx.refused("GetCxEngageIntegration", "cannot read", "active", integration_id=desk)
        await cx.refused("GetCxEngageIntegrations", "cannot read")
        await cx.refused("EditCxEngageIntegration", "cannot read", integration_id=desk, active=True)
    assert emu.writes() == []


# --- secrets masked or left out -------------------------------------------------------------------------------------


async def test_secrets_left_out_of_reads_still_let_a_complete_integration_be_activated() -> None:
    emu = emulator(secrets_on_read="omit")
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        created = await create_zendesk(cx)
        assert created["mismatches"] == [], created["mismatches"]
        assert any("left the secrets out" in note for note in created["verified"]["learned"])
        assert created["verified"]["readiness"]["can_activate"] is True
        uid = created["integration_id"]
        done = await cx.ok("EditCxEngageIntegration", integration_id=uid, active=True)
        assert done["verified"]["integration"]["active"] is True and done["mismatches"] == []


async def test_a_secret_set_elsewhere_and_left_out_of_reads_is_set_again_through_a_form() -> None:
    emu = emulator(secrets_on_read="omit")
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "set-in-the-ui"})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        view = await cx.ok("GetCxEngageIntegration", integration_id=desk)
        assert any("left the secrets out" in note for note in view["learned"])
        assert not view["readiness"]["can_activate"]
        await cx.refused("EditCxEngageIntegration", "not known to be set", "CreateCxEngageSecureForm",
                         integration_id=desk, active=True)
        form = await cx.form("zendesk", {"password": "typed-again"}, integration_id=desk, fields=["password"])
        done = await cx.ok("EditCxEngageIntegration", integration_id=desk, secure_form_id=form, active=True,
                           confirm_overwrite=True)
        assert done["verified"]["integration"]["active"] is True and done["mismatches"] == []
    assert emu.stored(T, desk)["properties"]["password"] == "typed-again"


async def test_masked_secrets_count_as_set() -> None:
    emu = emulator(secrets_on_read="mask")
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw-saved"})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        view = await cx.ok("GetCxEngageIntegration", integration_id=desk)
        assert view["readiness"]["can_activate"] and any("masks secrets" in n for n in view["learned"])
        done = await cx.ok("EditCxEngageIntegration", integration_id=desk, active=True)
        assert done["mismatches"] == []
    assert emu.stored(T, desk)["properties"]["password"] == "pw-saved"


# --- lists ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("paging", ["none", "paged", "capped"])
async def test_a_long_list_is_read_whole_or_said_to_be_incomplete(paging: str) -> None:
    emu = emulator(list_paging=paging)
    for n in range(LIST_PAGE_SIZE + 5):
        emu.add_integration(T, "rest", f"Orders {n:02}")
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        listed = await cx.ok("GetCxEngageIntegrations", limit=200)
        text = (await cx.call("GetCxEngageIntegrations", limit=200)).content[0].text
        last = await cx.ok("GetCxEngageIntegrations", name=f"orders {LIST_PAGE_SIZE + 4}")
    if paging == "capped":
        assert listed["complete"] is False and "may be incomplete" in text and listed["count"] == LIST_PAGE_SIZE
        assert last["count"] == 0 and last["complete"] is False
    else:
        assert listed["complete"] is True and listed["count"] == LIST_PAGE_SIZE + 6 and "incomplete" not in text
        assert last["count"] == 1


async def test_the_list_is_paged_and_filtered_in_what_the_model_reads() -> None:
    emu = emulator()
    for n in range(120):
        emu.add_integration(T, "rest" if n % 2 else "zendesk", f"Row {n:03} " + "x" * 400)
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        first = await cx.call("GetCxEngageIntegrations")
        assert len(first.content[0].text) < 20_000 and "page=2" in first.content[0].text
        assert first.structured_content["next_page"] == 2 and len(first.structured_content["results"]) == 50
        third = await cx.ok("GetCxEngageIntegrations", page=3)
        assert third["next_page"] is None and len(third["results"]) == 21
        zendesk = await cx.ok("GetCxEngageIntegrations", type="Zendesk", limit=200)
        assert zendesk["count"] == 60 and {r["type"] for r in zendesk["results"]} == {"zendesk"}


# --- PUT merging or replacing properties ----------------------------------------------------------------------------


@pytest.mark.parametrize("secrets_on_read", ["echo", "mask"])
async def test_a_replacing_put_is_learned_reported_and_repaired_in_one_call(secrets_on_read: str) -> None:
    emu = emulator(properties_edit="replace", secrets_on_read=secrets_on_read)
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw-saved", "workItems": False})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        first = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"workItems": True,
                                                                                          "interactionFieldId": "1"})
        lost = [m for m in first["mismatches"] if "did not touch it" in m]
        assert lost and first["mismatches"][:len(lost)] == lost
        assert any("replaced the saved properties" in note for note in first["verified"]["learned"])
        # Keys a replacing PUT erased are no sign that CxEngage leaves secrets out of its reads.
        assert not any("left the secrets out" in note for note in first["verified"]["learned"])
        assert first["next_steps"][0].startswith("Learned: CxEngage replaced the saved properties")
        assert first["next_steps"][1].startswith("The saved state differs")
        repair = next(s for s in first["next_steps"] if s.startswith("To put back"))
        assert "CreateCxEngageSecureForm" in repair and "pw-saved" not in str(first)
        # The repair the answer names converges in one call: the lost plain values and a form for the secret.
        form = await cx.form("zendesk", {"password": "pw-typed"}, integration_id=desk, fields=["password"],
                             destination=dict(ZENDESK))
        fixed = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties=dict(ZENDESK),
                            secure_form_id=form, confirm_overwrite=True)
        assert fixed["mismatches"] == [], fixed["mismatches"]
        stored = emu.stored(T, desk)["properties"]
        assert stored == {**ZENDESK, "password": "pw-typed", "workItems": True, "interactionFieldId": "1"}
        # From now on an edit of properties keeps what it does not touch.
        if secrets_on_read == "echo":  # the saved secret is sent back as it is (never a masked one)
            again = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"interactionFieldId": "2"},
                                confirm_overwrite=True)
            assert again["mismatches"] == []
        else:  # a masked secret cannot be sent back: the person agrees to erase it, or brings a form
            await cx.refused("EditCxEngageIntegration", "would erase them", "password", "confirm_overwrite",
                             integration_id=desk, properties={"interactionFieldId": "2"})
            form = await cx.form("zendesk", {"password": "pw-3"}, integration_id=desk, fields=["password"])
            again = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"interactionFieldId": "2"},
                                secure_form_id=form, confirm_overwrite=True)
            assert again["mismatches"] == []
        stored = emu.stored(T, desk)["properties"]
        assert stored["interactionFieldId"] == "2" and stored["username"] == ZENDESK["username"]
        assert stored["password"]


@pytest.mark.parametrize("ui_rules", ["never", "active", "always"])
async def test_inactive_incomplete_creates_follow_the_documents(ui_rules: str) -> None:
    """The server allows what the documents allow; if the API enforced the UI's rules anyway, its refusal is a clear
    vendor error and nothing is half-written."""
    emu = CxEngageEmulator(contract=Contract(ui_rules=ui_rules))  # type: ignore[arg-type]
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        call = await cx.call("CreateCxEngageIntegration", name="Docs example", type="zendesk", properties={})
        if ui_rules == "always":
            assert call.is_error and "CxEngage" in call.content[0].text and "400" in call.content[0].text
            assert emu.integrations[T] == {k: v for k, v in emu.integrations[T].items() if v.name != "Docs example"}
        else:
            assert not call.is_error
            uid = call.structured_content["integration_id"]
            await cx.refused("EditCxEngageIntegration", "cannot activate an incomplete integration",
                             "configuration UI's rules", integration_id=uid, active=True)


# --- ids ------------------------------------------------------------------------------------------------------------

TOKEN = "tkA9fQ2xL7mZ3pR8vN1cB6hJ4kW0sD5g"  # random-looking: a pasted token, not an id


async def test_a_token_in_an_id_property_is_refused_and_a_stored_one_is_masked() -> None:
    emu = emulator()
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "interactionFieldId": TOKEN})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        await cx.refused("EditCxEngageIntegration", "interactionFieldId", "not an id", integration_id=desk,
                         properties={"interactionFieldId": TOKEN[::-1]})
        view = await cx.ok("GetCxEngageIntegration", integration_id=desk)
        assert view["integration"]["properties"]["interactionFieldId"] == "[redacted]"
        ok = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"interactionFieldId": "360012"},
                         confirm_overwrite=True)
        assert ok["mismatches"] == []
        assert TOKEN not in "".join(cx.seen) and TOKEN[::-1] not in "".join(cx.seen)


async def test_an_answer_with_an_id_that_is_no_uuid_is_refused_unread() -> None:
    emu = emulator()
    desk = emu.add_integration(T, "rest", "Orders")
    record = emu.integrations[T].pop(desk)
    record.id = TOKEN
    emu.integrations[T][TOKEN] = record
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        message = await cx.refused("GetCxEngageIntegrations", "cannot read")
    assert TOKEN not in message


# --- authentication and error shapes ---------------------------------------------------------------------------------


async def test_a_token_only_account_refuses_basic_cleanly_and_works_with_tokens() -> None:
    emu = emulator(auth_schemes="token")
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        await cx.refused("GetCxEngageIntegrations", "401", "CXENGAGE_AUTH=token", "cxengage.basic_auth")
    async with connect(cxengage_settings(use_token=True), cxengage=emu) as cx:
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] == 1


@pytest.mark.parametrize("shape", ["object", "string", "list"])
async def test_a_vendor_refusal_names_the_fields_whatever_the_error_shape(shape: str) -> None:
    emu = emulator(ui_rules="always", error_shape=shape)
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        message = await cx.refused("CreateCxEngageIntegration", "400", "properties.password", name="Docs example",
                                   type="zendesk", properties={})
    assert "Docs example" not in {r.name for r in emu.integrations[T].values()} and message
