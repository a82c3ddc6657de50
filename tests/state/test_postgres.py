"""The state store on a real PostgreSQL: migrated on first use (two stores at once: one migrates, the other waits),
spent forms single use across stores, approvals spent once, advisory locks serialising writers of one key."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text

from integrations_mcp.approvals.store import ApprovalStore, Verdict
from integrations_mcp.pipeline.locks import WriteLocks
from integrations_mcp.secure_forms.persisted import DatabaseRecords
from integrations_mcp.secure_forms.single_use import SpentForms
from integrations_mcp.secure_forms.store import FormField, SecureFormError, SecureFormStore
from integrations_mcp.state import StateStore
from tests.state.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def two_stores(postgres_server: PostgresServer) -> tuple[StateStore, StateStore]:
    url = await postgres_server.new_database()
    first, second = StateStore(url), StateStore(url)
    async with anyio.create_task_group() as tg:  # two replicas starting together
        tg.start_soon(first.migrate)
        tg.start_soon(second.migrate)
    return first, second


async def test_a_form_is_spent_once_across_processes(postgres_server: PostgresServer) -> None:
    a, b = await two_stores(postgres_server)
    on_a, on_b = SpentForms("CreateSecureForm", a), SpentForms("CreateSecureForm", b)
    results: list[bool] = []

    async def spend(forms: SpentForms) -> None:
        try:
            await forms.spend("F" * 20)
            results.append(True)
        except Exception:
            results.append(False)

    async with anyio.create_task_group() as tg:
        for forms in (on_a, on_b, on_a, on_b):
            tg.start_soon(spend, forms)
    assert sorted(results) == [False, False, False, True]
    assert await on_b.is_spent("F" * 20)
    await a.close(), await b.close()


async def test_an_approval_made_on_one_store_is_granted_and_spent_once_on_another(
        postgres_server: PostgresServer) -> None:
    a, b = await two_stores(postgres_server)
    key = b"k" * 32
    on_a, on_b = ApprovalStore(state=a, key=key), ApprovalStore(state=b, key=key)
    digest = on_a.digest({"change": 1})
    assert digest == on_b.digest({"change": 1})
    approval = await on_a.create(tool="Edit", target="x", summary="s", digest=digest, owner="me")
    assert await on_b.check(approval.id, owner="me", digest=digest, granted_by_caller=True) == Verdict.GRANTED
    assert await on_b.spend(approval.id) and not await on_a.spend(approval.id)
    assert await on_a.check(approval.id, owner="me", digest=digest, granted_by_caller=True) == Verdict.USED
    await a.close(), await b.close()


async def test_advisory_locks_serialise_writers_of_one_key_across_processes(postgres_server: PostgresServer) -> None:
    a, b = await two_stores(postgres_server)
    inside: list[str] = []
    overlaps: list[bool] = []

    async def write(locks: WriteLocks, name: str, key: str) -> None:
        async with locks.hold([key]):
            inside.append(name)
            overlaps.append(len(inside) > 1)
            await anyio.sleep(0.2)
            inside.remove(name)

    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(write, WriteLocks(a), f"a{n}", "revcent:integration:X")
            tg.start_soon(write, WriteLocks(b), f"b{n}", "revcent:integration:X")
    assert overlaps == [False] * 6
    with anyio.fail_after(1):  # other keys do not wait
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(write, WriteLocks(a if n % 2 else b), f"k{n}", f"revcent:integration:{n}")
    await a.close(), await b.close()


async def test_a_server_form_made_on_one_replica_is_filled_and_taken_once_on_others(
        postgres_server: PostgresServer) -> None:
    a, b = await two_stores(postgres_server)
    key = b"s" * 32
    on_a = SecureFormStore(records=DatabaseRecords(a.sync_engine(), key), key=key)
    on_b = SecureFormStore(records=DatabaseRecords(b.sync_engine(), key), key=key)
    form = on_a.create(owner="me", subject="Zendesk", fields=[FormField("password", "Password")], purpose={"p": "1"})
    on_b.submit(form.page_id, on_b.lookup(form.page_id).form.csrf_token, {"password": "CANARY-pg-pw"})
    assert on_a.status(form.id, owner="me").completed
    assert on_b.take(form.id, owner="me", purpose={"p": "1"}) == {"password": "CANARY-pg-pw"}
    with pytest.raises(SecureFormError) as refusal:
        on_a.take(form.id, owner="me", purpose={"p": "1"})
    assert refusal.value.reason == SecureFormError.USED
    other_key = SecureFormStore(records=DatabaseRecords(a.sync_engine(), b"x" * 32))
    second = on_a.create(owner="me", subject="Z", fields=[FormField("password", "Password")], purpose={})
    on_a.submit(second.page_id, second.csrf_token, {"password": "CANARY-pg-pw"})
    with pytest.raises(SecureFormError):  # ids hashed and values sealed with the key: another key finds nothing
        other_key.status(second.id, owner="me")
    async with a.begin() as conn:
        rows = (await conn.execute(text("select sealed::text, form::text from secure_forms"))).all()
    assert rows and "CANARY-pg-pw" not in repr(rows)
    await a.close(), await b.close()
