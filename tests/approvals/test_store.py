"""Approvals: one change, one session, one use, a limited time; only the page's own token decides."""

from __future__ import annotations

import pytest

from integrations_mcp.approvals.store import ApprovalState, ApprovalStore, Verdict
from integrations_mcp.state.store import StateStore
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio


async def make(clock: FakeClock | None = None) -> tuple[ApprovalStore, str, str]:
    """A page approval: the store, its page id (what the page is opened and decided with) and its digest."""
    store = ApprovalStore(lifetime_seconds=600, **({"clock": clock} if clock else {}))
    digest = store.digest({"tool": "Edit", "change": [1, 2]})
    approval = await store.create(tool="Edit", target="x", summary="s", digest=digest, owner="me", on_page=True)
    return store, approval.page_id, digest


def test_digest_is_keyed_and_canonical() -> None:
    store, other = ApprovalStore(), ApprovalStore()
    assert store.digest({"a": 1, "b": [1]}) == store.digest({"b": [1], "a": 1})
    assert store.digest({"a": 1}) != store.digest({"a": 2})
    assert store.digest({"a": 1}) != other.digest({"a": 1})  # another process's key


async def test_pending_until_the_person_decides_with_the_pages_token() -> None:
    store, page_id, digest = await make()
    approval_id = store.handle(page_id)
    assert await store.check(approval_id, owner="me", digest=digest) == Verdict.PENDING
    assert await store.decide(page_id, "forged", approve=True) is None
    token = (await store.lookup(page_id)).csrf_token
    assert (await store.decide(page_id, token, approve=True)).state == ApprovalState.APPROVED
    assert await store.decide(page_id, token, approve=False) is None  # decided once
    assert await store.check(approval_id, owner="me", digest=digest) == Verdict.GRANTED


async def test_rejected_is_reported_as_such() -> None:
    store, page_id, digest = await make()
    await store.decide(page_id, (await store.lookup(page_id)).csrf_token, approve=False)
    assert await store.check(store.handle(page_id), owner="me", digest=digest) == Verdict.REJECTED


async def test_void_for_another_session_or_after_expiry_and_named_for_another_change_or_after_use() -> None:
    clock = FakeClock()
    store, page_id, digest = await make(clock)
    approval_id = store.handle(page_id)
    await store.decide(page_id, (await store.lookup(page_id)).csrf_token, approve=True)
    assert await store.check(approval_id, owner="me", digest=store.digest({"other": 1})) == Verdict.CHANGED
    assert await store.check(approval_id, owner="someone else", digest=digest) == Verdict.VOID
    assert await store.check("unknown", owner="me", digest=digest) == Verdict.VOID
    clock.now += 601
    assert await store.check(approval_id, owner="me", digest=digest) == Verdict.VOID
    store2, second, digest2 = await make()
    # The caller's own token grants a policy-`model` approval, never one made for the person's page.
    pending = await store2.check(store2.handle(second), owner="me", digest=digest2, granted_by_caller=True)
    assert pending == Verdict.PENDING
    third = await store2.create(tool="Edit", target="x", summary="s", digest=digest2, owner="me")
    assert await store2.check(third.id, owner="me", digest=digest2, granted_by_caller=True) == Verdict.GRANTED
    assert await store2.spend(third.id) and not await store2.spend(third.id)
    assert await store2.check(third.id, owner="me", digest=digest2, granted_by_caller=True) == Verdict.USED


async def test_repr_shows_no_digest_owner_or_token() -> None:
    store = ApprovalStore()
    approval = await store.create(tool="Edit", target="x", summary="s", digest="digest-canary", owner="owner-canary")
    shown = repr(approval) + repr(store)
    assert approval.csrf_token not in shown and "digest-canary" not in shown and "owner-canary" not in shown


async def test_only_page_approvals_can_be_decided_on_the_page() -> None:
    """A token of policy `model`, or an approval awaiting an eliciting client's answer, has no page."""
    store = ApprovalStore()
    approval = await store.create(tool="Edit", target="x", summary="s", digest="d", owner="me")
    assert await store.lookup(approval.page_id) is None
    assert await store.decide(approval.page_id, approval.csrf_token, approve=True) is None
    assert await store.check(approval.id, owner="me", digest="d") == Verdict.PENDING


async def test_the_approval_id_the_agent_holds_neither_opens_nor_decides_the_page() -> None:
    """Issue 18: the page's id is random; the approval id is a keyed hash of it, which leads nowhere back."""
    state = StateStore("sqlite+aiosqlite:///:memory:")
    store, replica = ApprovalStore(state=state, key=b"k" * 32), ApprovalStore(state=state, key=b"k" * 32)
    approval = await store.create(tool="Edit", target="x", summary="s", digest="d", owner="me", on_page=True)
    assert approval.id == store.handle(approval.page_id) and approval.page_id not in approval.id
    assert await store.lookup(approval.id) is None
    assert await store.decide(approval.id, approval.csrf_token, approve=True) is None
    assert await store.check(approval.id, owner="me", digest="d") == Verdict.PENDING
    assert ApprovalStore(key=b"x" * 32).handle(approval.page_id) != approval.id  # keyed
    # A replica sharing the key opens the page by its id and sees the agent's approval.
    opened = await replica.lookup(approval.page_id)
    assert opened is not None and opened.id == approval.id and opened.csrf_token == approval.csrf_token
    assert (await replica.decide(approval.page_id, opened.csrf_token, approve=True)) is not None
    assert await store.check(approval.id, owner="me", digest="d") == Verdict.GRANTED


async def test_a_declined_page_is_withdrawn_for_its_own_session_only() -> None:
    store, page_id, digest = await make()
    await store.withdraw(store.handle(page_id), owner="someone else")
    assert await store.check(store.handle(page_id), owner="me", digest=digest) == Verdict.PENDING
    await store.withdraw(store.handle(page_id), owner="me")
    assert await store.check(store.handle(page_id), owner="me", digest=digest) == Verdict.REJECTED
    assert await store.lookup(page_id) is not None and await store.decide(
        page_id, (await store.lookup(page_id)).csrf_token, approve=True) is None
