"""The server against each [I] switch of the CxEngage emulator's contract that changes what it must do, over a real
MCP client session: PUT merging or replacing `properties`, secrets echoed or masked on read, the UI's rules enforced
by the API never, at activation, or always."""

from __future__ import annotations

import pytest

from integrations_mcp.vendors.cxengage.emulator import Contract, CxEngageEmulator
from tests.harness import connect, cxengage_settings
from tests.vendors.cxengage.helpers import ZENDESK, T

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("properties_edit", ["merge", "replace"])
@pytest.mark.parametrize("echo_secrets", [True, False])
async def test_an_edit_is_verified_whatever_put_and_reads_do(properties_edit: str, echo_secrets: bool) -> None:
    emu = CxEngageEmulator(contract=Contract(properties_edit=properties_edit,  # type: ignore[arg-type]
                                            echo_secrets=echo_secrets))
    desk = emu.add_integration(T, "zendesk", "Desk", {**ZENDESK, "password": "pw-saved", "workItems": False})
    async with connect(cxengage_settings(), cxengage=emu) as cx:
        view = await cx.ok("GetCxEngageIntegration", integration_id=desk)
        assert view["readiness"]["can_activate"]  # a masked secret still reads as set
        result = await cx.ok("EditCxEngageIntegration", integration_id=desk, properties={"workItems": True,
                                                                                           "interactionFieldId": "1"})
    assert result["sent"] == {"properties": {"workItems": True, "interactionFieldId": "1"}}
    if properties_edit == "merge":
        assert result["mismatches"] == [], result["mismatches"]
        assert not result["next_steps"][0].startswith("The saved state differs")
    else:  # everything not sent is gone: said first, the secret without its value
        lost = [m for m in result["mismatches"] if "did not touch it" in m]
        assert result["mismatches"][:len(lost)] == lost and any("properties.password" in m for m in lost)
        assert any(f"properties.username: changed although this edit did not touch it (was "
                   f"{ZENDESK['username']!r})" == m for m in lost)
        assert result["next_steps"][0].startswith("The saved state differs")
        assert "pw-saved" not in str(result)


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
