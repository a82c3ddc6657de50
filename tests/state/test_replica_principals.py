"""Auth × state across replicas: two `serve --transport http` replicas with the same bearer tokens on one real
PostgreSQL, RevCent credentials through the server's own form (the default). A principal's server form and approval
are its own on every replica, and a form sent through both replicas at once is spent once."""

from __future__ import annotations

import re
import secrets
from contextlib import ExitStack
from pathlib import Path

import anyio
import pytest

from integrations_mcp.loopback import serve_loopback
from integrations_mcp.secure_forms.scripted_person import decide_approval, fill_secure_form
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY, RevCentEmulator
from tests.harness import serve_http
from tests.server.test_http_auth import session
from tests.state.postgres import PostgresServer
from tests.vendors.revcent.helpers import credential_values

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ALICE, BOB = "a" * 20 + "-alice", "b" * 20 + "-bob"
KIND = "offline_payment"


def on(url: str, link: str) -> str:
    """The same page, reached through the other replica."""
    return url.removesuffix("/mcp") + link[link.index("/", len("http://")):]


async def test_forms_and_approvals_stay_with_their_principal_on_every_replica(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    emu = RevCentEmulator(api_key=SANDBOX_API_KEY)
    site = emu.site_id(KIND)
    (tmp_path / "tokens").write_text(f"alice {ALICE}\nbob {BOB}\n")
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_loopback(emu.app))
        env = {"REVCENT_API_KEY": SANDBOX_API_KEY, "REVCENT_BASE_URL": vendor.url + "/v2",
               "INTEGRATIONS_AUTH_TOKENS_FILE": str(tmp_path / "tokens"),
               "INTEGRATIONS_STATE_URL": await postgres_server.new_database(),
               "INTEGRATIONS_STATE_KEY": secrets.token_urlsafe(32)}
        a, b = stack.enter_context(serve_http(env=env)), stack.enter_context(serve_http(env=env))

        async with session(a, ALICE) as alice:
            form = await alice.ok("CreateSecureForm", site_third_party_integration_id=site)
        await fill_secure_form(on(b, form["form_url"]), credential_values(emu, KIND, "replica-typed"))
        create = {"site_third_party_integration": site, "secure_form_id": form["secure_form_id"]}
        async with session(b, BOB) as bob:
            await bob.refused("CreateUserThirdPartyIntegration", "secure form", name="Bob's", **create)

        # Sent through both replicas at once: one write, the other refused (the form is spent once).
        answers: list[tuple[bool, str]] = []

        async def send(url: str, name: str) -> None:
            async with session(url, ALICE) as alice:
                result = await alice.call("CreateUserThirdPartyIntegration", name=name, **create)
                answers.append((not result.is_error, repr(result.content)))

        async with anyio.create_task_group() as group:
            group.start_soon(send, a, "Pay A")
            group.start_soon(send, b, "Pay B")
        assert sorted(done for done, _ in answers) == [False, True], answers
        assert len(emu.user_integrations) == 1
        uid = next(iter(emu.user_integrations))

        # An approval asked for through A, approved on B's page: bob cannot use it on either replica.
        async with session(a, ALICE) as alice:
            emu.user_integrations[uid].enabled = True  # enabled in RevCent (enabling here asks the person too)
            asked = await alice.refused("EditUserThirdPartyIntegration", "approval",
                                        user_third_party_integration_id=uid, enabled=False)
        approval_id = re.search(r"approval_id=([A-Za-z0-9_-]+)", asked).group(1)
        await decide_approval(on(b, re.search(r"(http://\S+/approvals/[A-Za-z0-9_-]+)", asked).group(1)),
                              approve=True)
        disable = {"user_third_party_integration_id": uid, "enabled": False, "approval_id": approval_id}
        for url in (a, b):
            async with session(url, BOB) as bob:
                await bob.refused("EditUserThirdPartyIntegration", "approval", **disable)
        assert emu.user_integrations[uid].enabled is True
        async with session(b, ALICE) as alice:
            await alice.ok("EditUserThirdPartyIntegration", **disable)
            journal = await alice.ok("GetIntegrationChanges", limit=50)
        assert emu.user_integrations[uid].enabled is False
        written = [(c["principal"], c["tool"]) for c in journal["results"] if c["outcome"].startswith("written")]
        assert written == [("alice", "EditUserThirdPartyIntegration"), ("alice", "CreateUserThirdPartyIntegration")]
