"""Capabilities (secure form, approval and confirmation ids) reach only the session that asked: never the server's
logs, at any level, although the SDK logs every tool error and the HTTP client logs every URL."""

from __future__ import annotations

import re

import anyio
import pytest

from integrations_mcp.server.log_hygiene import scrub
from tests.harness import serve_stdio, text_of

pytestmark = pytest.mark.anyio


def test_scrub_hides_ids_in_arguments_urls_and_json() -> None:
    assert scrub("again with approval_id=abcDEF123_-xyz and confirmation_id=Zz9ZZ9zz.") == \
        "again with approval_id=[hidden] and confirmation_id=[hidden]."
    assert scrub("http://127.0.0.1:1/secure-forms/approvals/P--ODgjDKFI (x)") == \
        "http://127.0.0.1:1/secure-forms/approvals/[hidden] (x)"
    assert scrub('GET /v2/secure_forms/gHJm8de6OLqHKTMTe7oA {"secure_form_id": "abcdefghij"}') == \
        'GET /v2/secure_forms/[hidden] {"secure_form_id": "[hidden]"}'


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["person", "model"])
async def test_the_ids_a_refusal_hands_over_are_not_in_the_servers_debug_log(policy: str) -> None:
    env = {"INTEGRATIONS_LOG_LEVEL": "DEBUG", "INTEGRATIONS_CONFIRMATION": policy}
    with anyio.fail_after(60):
        async with serve_stdio("--sandbox", env=env) as box:
            listed = await box.ok("GetCxEngageIntegrations", {})
            target = next(i for i in listed["results"] if i["active"])
            form = await box.ok("CreateSecureForm", {"site_third_party_integration_id": "sandboxSiteTax000001"})
            refusal = await box.call("EditCxEngageIntegration", {"integration_id": target["id"], "active": False})
    ids = re.findall(r"(?:approval_id|confirmation_id)=([A-Za-z0-9_-]+)", text_of(refusal))
    assert refusal.is_error and ids, text_of(refusal)
    assert "Tool 'EditCxEngageIntegration' failed" in box.stderr or "EditCxEngageIntegration" in box.stderr
    for secret in [*ids, form["secure_form_id"]]:
        assert secret not in box.stderr
