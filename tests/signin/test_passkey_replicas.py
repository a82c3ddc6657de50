"""Passkeys across replicas on one PostgreSQL database (issue 18, item 4): a link made by the operator's command is
used on another replica, a challenge issued by one is accepted by another (the key derives from
INTEGRATIONS_STATE_KEY), and an assertion counts once on all of them, even sent to two replicas at once."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from integrations_mcp.pages.signin.passkey import PasskeySignIn
from integrations_mcp.state import StateStore
from tests.signin.authenticator import SoftAuthenticator
from tests.signin.test_passkey import ORIGIN, Pages, gated_app
from tests.state.postgres import PostgresServer, postgres_server  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = "replicas-share-this-state-key-0123456789"


async def test_an_assertion_counts_once_across_replicas(postgres_server: PostgresServer) -> None:  # noqa: F811
    url = await postgres_server.new_database()
    stores = [StateStore(url) for _ in range(3)]
    operator, *replicas = [PasskeySignIn.over(store, KEY) for store in stores]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gated_app(replicas[0])), base_url=ORIGIN) as a, \
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gated_app(replicas[1])), base_url=ORIGIN) as b:
        on_a, on_b = Pages(a, replicas[0], replicas[0].store, None), Pages(b, replicas[1], replicas[1].store, None)
        person = SoftAuthenticator(ORIGIN, counting=False)  # a synced passkey: only the spent challenge stops a replay
        token = await operator.store.create_enrolment(subject="dana", name="Dana", roles=frozenset(), seconds=600)
        path = operator.enrol_path(token)
        assert (await on_b.enrol(person, path)).status_code == 200  # the link made by the command, used on B
        assert (await a.get(path)).status_code == 404  # and spent for A too

        options = await on_a.options("/page/approval:one")  # issued by A
        assertion = person.get(options)
        assert (await on_b.decide("approval:one", assertion))["subject"] == "dana"  # accepted by B
        assert await on_a.decide("approval:one", assertion) is None  # replayed on A

        assertion = person.get(await on_b.options("/page/approval:two"))
        answers: list[dict | None] = []

        async def send(pages: Pages) -> None:
            answers.append(await pages.decide("approval:two", assertion))

        async with anyio.create_task_group() as tg:  # the same assertion to both replicas at once
            for pages in (on_a, on_b, on_a, on_b):
                tg.start_soon(send, pages)
        assert sum(answer is not None for answer in answers) == 1
    for store in stores:
        await store.close()


async def test_a_counter_near_its_32_bit_end_is_stored_on_postgresql(postgres_server: PostgresServer) -> None:  # noqa: F811
    """An authenticator's sign count is 32 bits unsigned: more than PostgreSQL's INTEGER holds."""
    store = StateStore(await postgres_server.new_database())
    signin = PasskeySignIn.over(store, KEY)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gated_app(signin)), base_url=ORIGIN) as http:
        pages = Pages(http, signin, signin.store, None)
        person = SoftAuthenticator(ORIGIN, counter=2**32 - 3)
        token = await signin.store.create_enrolment(subject="dana", name="Dana", roles=frozenset(), seconds=600)
        assert (await pages.enrol(person, signin.enrol_path(token))).status_code == 200
        assert await pages.decide("approval:one", person.get(await pages.options("/page/approval:one")))
        [credential] = await signin.store.credentials("dana")
        assert credential.sign_count == 2**32 - 2
    await store.close()
