"""A lone surrogate in a vendor's answer (JSON's `\\ud800` escape: JavaScript strings may hold one) reaches the
client as U+FFFD. UTF-8 cannot carry the surrogate itself: the SDK could not serialise an answer holding it, and
over stdio the server's writer would stop (every later call: "Connection closed")."""

from __future__ import annotations

import copy
import json

import pytest

from tests.harness import connect, cxengage_settings, revcent_emulator, revcent_settings
from tests.vendors.cxengage.helpers import REST_ID, T, collection_path

pytestmark = pytest.mark.anyio

NAME = "Orders \ud800 feed \udfff"  # two lone surrogates, one of each half
SHOWN = "Orders \ufffd feed \ufffd"


def _sendable(result: object) -> str:
    """What a transport would send: the result's JSON (raises while a lone surrogate is in it)."""
    return result.model_dump_json(by_alias=True, exclude_unset=True)  # type: ignore[attr-defined]


async def test_cxengage_answers_with_a_lone_surrogate_are_sent_with_u_fffd() -> None:
    async with connect(cxengage_settings()) as cx:
        row = {"id": REST_ID, "name": NAME, "type": "rest", "active": True}
        cx.cxengage.faults.inject(path_prefix=collection_path(T), method="GET", status=200,
                                  body=json.dumps({"result": [row]}).encode(), times=1)
        listed = await cx.client.call_tool("GetCxEngageIntegrations", {"tenant_id": T})
        assert not listed.is_error and "\\ud800" not in _sendable(listed)
        assert listed.structured_content["results"][0]["name"] == SHOWN and SHOWN in listed.content[0].text

        record = cx.cxengage.stored(T, REST_ID)
        answer = {"result": {**copy.deepcopy(record), "name": NAME, "description": NAME}}
        cx.cxengage.faults.inject(path_prefix=f"{collection_path(T)}/{REST_ID}", method="GET", status=200,
                                  body=json.dumps(answer).encode(), times=1)
        one = await cx.client.call_tool("GetCxEngageIntegration", {"tenant_id": T, "integration_id": REST_ID})
        sent = _sendable(one)
        assert not one.is_error and "\\ud800" not in sent and "\\udfff" not in sent
        assert one.structured_content["integration"]["name"] == SHOWN
        # The session goes on: the next answer is the vendor's own again.
        again = await cx.ok("GetCxEngageIntegration", integration_id=REST_ID)
        assert again["integration"]["name"] == record["name"]


async def test_revcent_answers_with_a_lone_surrogate_are_sent_with_u_fffd() -> None:
    emu = revcent_emulator()
    uid = emu.add_user_integration(name="Injected", site_id=sorted(emu.site_integrations)[0])
    async with connect(revcent_settings(), revcent=emu) as rc:
        answer = {"code": 1, **json.loads(json.dumps(emu.view(emu.integration(uid))))}
        answer["name"] = NAME
        answer["site_third_party_integration"]["name"] = NAME  # inside the site, kept by its content
        emu.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="GET", status=200,
                          body=json.dumps(answer).encode(), times=1)
        read = {"user_third_party_integration_id": uid}
        result = await rc.client.call_tool("GetUserThirdPartyIntegration", read)
        sent = _sendable(result)
        assert not result.is_error and "\\ud800" not in sent and "\\udfff" not in sent
        view = result.structured_content["integration"]
        assert view["name"] == SHOWN and view["site_third_party_integration"]["name"] == SHOWN
        assert SHOWN in result.content[0].text
        assert (await rc.ok("GetUserThirdPartyIntegration", **read))["integration"]["name"] == "Injected"
