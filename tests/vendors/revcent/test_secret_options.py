"""A RevCent option field whose id names a secret (`webhook_secret`) is a credential: never taken in chat, never
shown on read, whatever its value looks like. Input option values that look like a secret are refused unechoed."""

from __future__ import annotations

import pytest

from tests.harness import Session, connect

pytestmark = pytest.mark.anyio


def add_webhook_secret_field(s: Session) -> str:
    tax = s.revcent.site_integrations[s.revcent.site_id("tax")]
    settings = next(o for o in tax["third_party_options"] if o["id"] == "tax_settings")
    settings["fields"].append({"id": "webhook_secret", "name": "Webhook secret", "field_type": "input",
                               "required": False})
    return s.revcent.add_user_integration(
        name="Tax", site_id=tax["id"],
        options_saved=[{"id": "tax_settings", "fields": [{"id": "webhook_secret", "value": ["plainwords"]},
                                                         {"id": "origin_zip", "value": ["10115"]}]}])


async def test_a_secret_named_option_is_refused_and_redacted_on_read() -> None:
    async with connect() as s:
        uid = add_webhook_secret_field(s)
        text = await s.refused("EditUserThirdPartyIntegration", "tax_settings.webhook_secret holds a secret",
                               "RevCent itself", user_third_party_integration_id=uid,
                               third_party_options=[{"id": "tax_settings", "fields": [
                                   {"id": "webhook_secret", "value": ["new-plain-words"]}]}])
        assert "new-plain-words" not in text and s.writes() == []
        shown = await s.ok("GetUserThirdPartyIntegration", user_third_party_integration_id=uid)
        fields = {f["id"]: f["value"] for o in shown["integration"]["third_party_options_saved"]
                  for f in o["fields"]}
        assert fields == {"webhook_secret": ["[redacted]"], "origin_zip": ["10115"]}
        assert "plainwords" not in str(s.seen)


async def test_an_input_value_that_looks_like_a_secret_is_refused_unechoed() -> None:
    async with connect() as s:
        uid = s.revcent.add_user_integration(name="Tax", site_id=s.revcent.site_id("tax"))
        token = "Zx9Lk2Qw8Rt5Yp3Vn7Mb4Hc6"
        text = await s.refused("EditUserThirdPartyIntegration", "tax_settings.origin_zip looks like a secret",
                               "high-entropy token", user_third_party_integration_id=uid,
                               third_party_options=[{"id": "tax_settings", "fields": [
                                   {"id": "origin_zip", "value": [token]}]}])
        assert token not in text and s.writes() == []
        await s.ok("EditUserThirdPartyIntegration", user_third_party_integration_id=uid,  # an ordinary value
                   third_party_options=[{"id": "tax_settings", "fields": [{"id": "origin_zip", "value": ["10115"]}]}])
