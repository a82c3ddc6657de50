"""Approvals, one per planned change, in the state database (so every replica sees the same ones).

An approval is made when a change needs the person. It holds the change's digest (an HMAC over the tool, target,
fields before → after and the saved state, so it cannot be recomputed by anyone without the key: this process's
own, or one derived from INTEGRATIONS_STATE_KEY, which replicas share) and what to show the person. It is spent by
the write it allowed, once (a conditional update: two replicas cannot both spend it); a write whose re-planned
digest differs finds it void.

Two names, one approval: the page id (random, the approval page's address: only the person is given it) and the
approval id the agent holds (`handle`: an HMAC of the page id with this store's key, so the page maps to its
approval without a column, and the agent's id cannot be turned back into the page). The database holds neither:
the approval id only as a keyed hash, and the page's anti-forgery token is derived from the id, never stored; so
read access to the state database cannot open, decide or use an approval.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from integrations_mcp.approvals.kinds import ChangeKind, parse_kinds
from integrations_mcp.limits import Limits, check_pending
from integrations_mcp.state.store import StateStore

__all__ = ["Approval", "ApprovalState", "ApprovalStore", "Verdict"]


class ApprovalState(StrEnum):
    PENDING = "pending"  # waiting for the person (page) or for the model's confirmed retry (policy `model`)
    APPROVED = "approved"
    REJECTED = "rejected"
    USED = "used"  # the write it allowed has been sent


class Verdict(StrEnum):
    """What a retry carrying an approval finds."""

    GRANTED = "granted"
    PENDING = "pending"
    REJECTED = "rejected"
    VOID = "void"  # unknown, expired, or another session's: no such approval, as far as the caller can tell
    USED = "used"  # spent by the write it allowed
    CHANGED = "changed"  # the caller's own, but the change differs from the one approved


@dataclass(eq=False)
class Approval:
    id: str
    tool: str
    target: str  # what the change is about, as the person reads it
    summary: str  # the diff and its consequence, as shown to the person
    digest: str = field(repr=False)
    owner: str = field(repr=False)
    csrf_token: str = field(repr=False)  # derived from the id (`ApprovalStore.csrf`), never stored
    expires_at: float = 0.0
    state: ApprovalState = ApprovalState.PENDING
    on_page: bool = False  # only approvals made for the approval page can be decided there
    kind: str = ""  # the kinds of change, comma separated (approvals.kinds): what an approver policy tells apart
    requested_by: str = ""  # the principal whose call asked for it
    decided_by: str | None = None  # who decided on the page, when they signed in
    decided_how: str | None = None  # how they proved it, e.g. "signed in (oidc)"
    page_id: str = field(default="", repr=False)  # the page's address; known when made or opened by it, else ""

    @property
    def kinds(self) -> frozenset[ChangeKind]:
        return parse_kinds(self.kind)


class ApprovalStore:
    def __init__(self, *, lifetime_seconds: float = 600, clock: Callable[[], float] = time.time,
                 state: StateStore | None = None, key: bytes | None = None,
                 max_pending_per_owner: int = Limits.session_approvals) -> None:
        self.lifetime_seconds = lifetime_seconds
        self.max_pending_per_owner = max_pending_per_owner  # limits.py
        self._clock = clock
        self._key = key or secrets.token_bytes(32)
        self._state = state or StateStore("sqlite+aiosqlite:///:memory:")

    def __repr__(self) -> str:
        return f"ApprovalStore(lifetime_seconds={self.lifetime_seconds})"

    def digest(self, change: Any) -> str:
        """A keyed digest of a JSON-able description of the change (and the state it was planned from)."""
        canonical = json.dumps(change, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def _hash(self, approval_id: str) -> str:
        """What the database holds of an id: a keyed hash, useless without this store's key."""
        return hmac.new(self._key, f"approval-id:{approval_id}".encode(), hashlib.sha256).hexdigest()

    def handle(self, page_id: str) -> str:
        """The approval id of a page: what the agent holds, which does not lead back to the page."""
        digest = hmac.new(self._key, f"approval-page:{page_id}".encode(), hashlib.sha256).digest()[:24]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _csrf(self, approval_id: str) -> str:
        digest = hmac.new(self._key, f"approval-csrf:{approval_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def purpose(self, approval_id: str) -> str:
        """What a sign-in proof for deciding this approval is bound to (`pages.signin`)."""
        return f"approval:{self._hash(approval_id)}"

    async def create(self, *, tool: str, target: str, summary: str, digest: str, owner: str,
                     on_page: bool = False, kinds: frozenset[ChangeKind] = frozenset(),
                     requested_by: str = "") -> Approval:
        from sqlalchemy import delete, func, insert, select

        from integrations_mcp.state.schema import approvals as table

        now = self._clock()
        page_id = secrets.token_urlsafe(18)
        approval_id = self.handle(page_id)
        approval = Approval(id=approval_id, page_id=page_id, tool=tool, target=target, summary=summary,
                            digest=digest, owner=owner, csrf_token=self._csrf(approval_id),
                            expires_at=now + self.lifetime_seconds, on_page=on_page, kind=",".join(sorted(kinds)),
                            requested_by=requested_by[:200])
        row = {k: v for k, v in approval.__dict__.items() if k not in ("csrf_token", "page_id")}
        async with self._state.begin() as conn:
            await conn.execute(delete(table).where(table.c.expires_at <= now))
            check_pending((await conn.execute(select(func.count()).select_from(table).where(
                table.c.owner == owner, table.c.state == str(ApprovalState.PENDING)))).scalar_one(),
                self.max_pending_per_owner)
            await conn.execute(insert(table).values(**{**row, "id": self._hash(approval_id),
                                                       "state": str(approval.state)}))
        return approval

    async def lookup(self, page_id: str) -> Approval | None:
        """The approval of a page (by the page's id, not the approval id), whoever asks; None when unknown, expired,
        or not made for the page (a token of policy `model` or an answer awaited from an eliciting client cannot be
        approved there)."""
        approval = await self._get(self.handle(page_id))
        if approval is None or not approval.on_page:
            return None
        approval.page_id = page_id
        return approval

    async def decide(self, page_id: str, csrf_token: str, approve: bool, *, by: str | None = None,
                     how: str | None = None) -> Approval | None:
        """The person's decision on the page (by its id). Only a pending approval with the page's own token can be
        decided. `by`/`how`: who decided and how they proved it, when the page made them sign in."""
        approval = await self.lookup(page_id)
        if approval is None or approval.state != ApprovalState.PENDING:
            return None
        approval_id = approval.id
        if not hmac.compare_digest(self._csrf(approval_id).encode(), csrf_token.encode()):
            return None
        decided = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
        by, how = (by[:200], (how or "")[:50]) if by else (None, None)
        if not await self._move(approval_id, ApprovalState.PENDING, decided, decided_by=by, decided_how=how):
            return None  # decided meanwhile (another replica's page)
        approval.state, approval.decided_by, approval.decided_how = decided, by, how
        return approval

    async def decider(self, approval_id: str) -> tuple[str | None, str | None]:
        """Who decided a live approval on the page and how, when they signed in; (None, None) otherwise."""
        approval = await self._get(approval_id)
        return (approval.decided_by, approval.decided_how) if approval is not None else (None, None)

    async def check(self, approval_id: str, *, owner: str, digest: str, granted_by_caller: bool = False) -> Verdict:
        """What a retry finds. `granted_by_caller`: policy `model`, where presenting the token from the refusal with
        the confirmation flags set is the approval."""
        approval = await self._get(approval_id)
        if approval is None or not hmac.compare_digest(approval.owner.encode(), owner.encode()):
            return Verdict.VOID
        if approval.state == ApprovalState.USED:
            return Verdict.USED
        if not hmac.compare_digest(approval.digest.encode(), digest.encode()):
            return Verdict.CHANGED
        if approval.state == ApprovalState.REJECTED:
            return Verdict.REJECTED
        if approval.state == ApprovalState.APPROVED or (granted_by_caller and not approval.on_page):
            return Verdict.GRANTED
        return Verdict.PENDING

    async def withdraw(self, approval_id: str, *, owner: str) -> None:
        """The person declined to open the page: this session's pending approval can no longer be decided there."""
        approval = await self._get(approval_id)
        if approval is not None and hmac.compare_digest(approval.owner.encode(), owner.encode()):
            await self._move(approval_id, ApprovalState.PENDING, ApprovalState.REJECTED)

    async def spend(self, approval_id: str) -> bool:
        """Mark it used: the write it allowed is being sent. False if it was already used (by another call)."""
        from sqlalchemy import update

        from integrations_mcp.state.schema import approvals as table

        async with self._state.begin() as conn:
            result = await conn.execute(update(table).where(table.c.id == self._hash(approval_id),
                                                            table.c.state != str(ApprovalState.USED))
                                        .values(state=str(ApprovalState.USED)))
        return bool(result.rowcount)

    async def _get(self, approval_id: str) -> Approval | None:
        """A live approval (unknown and expired ones are None)."""
        from sqlalchemy import select

        from integrations_mcp.state.schema import approvals as table

        async with self._state.begin() as conn:
            row = (await conn.execute(select(table).where(table.c.id == self._hash(approval_id)))).mappings().first()
        if row is None or self._clock() >= row["expires_at"]:
            return None
        return Approval(**{**row, "id": approval_id, "csrf_token": self._csrf(approval_id),
                           "state": ApprovalState(row["state"]), "kind": row["kind"] or "",
                           "requested_by": row["requested_by"] or ""})

    async def _move(self, approval_id: str, before: ApprovalState, after: ApprovalState, **also: Any) -> bool:
        from sqlalchemy import update

        from integrations_mcp.state.schema import approvals as table

        async with self._state.begin() as conn:
            result = await conn.execute(update(table).where(table.c.id == self._hash(approval_id),
                                                            table.c.state == str(before))
                                        .values(state=str(after), **also))
        return bool(result.rowcount)
