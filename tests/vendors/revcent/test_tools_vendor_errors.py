"""What the RevCent tools make of RevCent's answers when things go wrong: error envelopes, its own duplicate-name
check, answers of an unexpected shape."""

from __future__ import annotations

import pytest
from mcp import Client

from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from tests.harness import ok, refused

pytestmark = pytest.mark.anyio


# --- vendor errors --------------------------------------------------------------------------------------------------

async def test_vendor_errors_become_tool_errors_with_code_and_call_id(client: Client,
                                                                      revcent: RevCentEmulator) -> None:
    revcent.faults.inject(path_prefix="/v2/site_third_party_integrations", status=503,
                          body=b'{"api_call_id":"BBBBBBBBBBBBBBBBBBBB","api_call_unix":1,"code":0,'
                               b'"error_code":"service_unavailable","message":"Try later","result":"error"}',
                          times=None)  # every attempt: a 503 read is retried
    await refused(client, "GetSiteThirdPartyIntegrations", {}, "error_code=\"service_unavailable\"",
                  "api_call_id=\"BBBBBBBBBBBBBBBBBBBB\"", "Try later")
    revcent.faults.clear()
    revcent.faults.inject(path_prefix="/v2/site_third_party_integrations", status=200, body=b"<html>oops")
    await refused(client, "GetSiteThirdPartyIntegrations", {}, "not a JSON object")
    await refused(client, "GetUserThirdPartyIntegration", {"user_third_party_integration_id": "Q" * 20},
                  "GetUserThirdPartyIntegration failed", "api_call_id=")
    # The server is still fine afterwards.
    assert (await ok(client, "GetSiteThirdPartyIntegrations", {}))["count"] == 6


async def test_vendor_duplicate_name_error_is_mapped(client: Client, revcent: RevCentEmulator) -> None:
    # Our own check passes (the list is stale via a fault: the page-numbering probe and the page read), RevCent's own
    # uniqueness check answers.
    revcent.add_user_integration(name="Dup", site_id=revcent.site_id("tax"))
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="GET", status=200, times=None,
                          body=b'{"api_call_id":"CCCCCCCCCCCCCCCCCCCC","api_call_unix":1,"code":1,'
                               b'"current_count":0,"current_page":1,"results":[]}')
    await refused(client, "CreateUserThirdPartyIntegration", {
        "name": "Dup", "site_third_party_integration": revcent.site_id("tax")}, "duplicate_name")


async def test_answers_of_an_unexpected_shape_are_clear_tool_errors(client: Client, revcent: RevCentEmulator) -> None:
    envelope = b'"api_call_id":"FFFFFFFFFFFFFFFFFFFF","api_call_unix":1,"code":1'
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="GET", times=3,
                          body=b"{" + envelope + b',"current_count":1,"current_page":1,"results":["oops"]}')
    await refused(client, "GetUserThirdPartyIntegrations", {}, "cannot read")
    revcent.faults.clear()
    revcent.faults.inject(path_prefix="/v2/site_third_party_integrations", body=b"{" + envelope + b',"id":"x"}')
    await refused(client, "GetSiteThirdPartyIntegration", {"site_third_party_integration_id": revcent.site_id("tax")},
                  "GetSiteThirdPartyIntegration failed", "cannot read")
    # A create RevCent accepted but answered without the id: the agent is told it may exist.
    revcent.faults.inject(path_prefix="/v2/user_third_party_integrations", method="POST",
                          body=b"{" + envelope + b',"result":"created"}')
    await refused(client, "CreateUserThirdPartyIntegration", {"name": "Odd", "site_third_party_integration":
                  revcent.site_id("offline_payment")}, "cannot read", "list the integrations before trying again")
