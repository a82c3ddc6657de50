"""In-memory approvals, one per planned change.

An approval is made when a change needs the person. It holds the change's digest (an HMAC over the tool, target,
fields before → after and the saved state, so it cannot be recomputed by anyone without this process's key) and
what to show the person. It is spent by the write it allowed; a write whose re-planned digest differs finds it void.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    VOID = "void"  # unknown, expired, used, another session's, or the change differs from the one approved


@dataclass(eq=False)
class Approval:
    id: str
    tool: str
    target: str  # what the change is about, as the person reads it
    summary: str  # the diff and its consequence, as shown to the person
    digest: str = field(repr=False)
    owner: str = field(repr=False)
    csrf_token: str = field(repr=False)
    expires_at: float = 0.0
    state: ApprovalState = ApprovalState.PENDING
    on_page: bool = False  # only approvals made for the approval page can be decided there


class ApprovalStore:
    def __init__(self, *, lifetime_seconds: float = 600, clock: Callable[[], float] = time.time) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._approvals: dict[str, Approval] = {}

    def __repr__(self) -> str:
        return f"ApprovalStore(approvals={len(self._approvals)}, lifetime_seconds={self.lifetime_seconds})"

    def digest(self, change: Any) -> str:
        """A keyed digest of a JSON-able description of the change (and the state it was planned from)."""
        canonical = json.dumps(change, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def create(self, *, tool: str, target: str, summary: str, digest: str, owner: str,
               on_page: bool = False) -> Approval:
        now = self._clock()
        approval = Approval(id=secrets.token_urlsafe(18), tool=tool, target=target, summary=summary, digest=digest,
                            owner=owner, csrf_token=secrets.token_urlsafe(24), expires_at=now + self.lifetime_seconds,
                            on_page=on_page)
        with self._lock:
            self._sweep(now)
            self._approvals[approval.id] = approval
        return approval

    def lookup(self, approval_id: str) -> Approval | None:
        """The approval for its page, whoever asks; None when unknown, expired, or not made for the page (a token of
        policy `model` or an answer awaited from an eliciting client cannot be approved there)."""
        with self._lock:
            self._sweep(self._clock())
            approval = self._approvals.get(approval_id)
            return approval if approval is not None and approval.on_page else None

    def decide(self, approval_id: str, csrf_token: str, approve: bool) -> Approval | None:
        """The person's decision on the page. Only a pending approval with the page's own token can be decided."""
        with self._lock:
            approval = self._approvals.get(approval_id)
            if (approval is None or not approval.on_page or self._clock() >= approval.expires_at
                    or approval.state != ApprovalState.PENDING):
                return None
            if not hmac.compare_digest(approval.csrf_token.encode(), csrf_token.encode()):
                return None
            approval.state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
            return approval

    def check(self, approval_id: str, *, owner: str, digest: str, granted_by_caller: bool = False) -> Verdict:
        """What a retry finds. `granted_by_caller`: policy `model`, where presenting the token from the refusal with
        the confirmation flags set is the approval."""
        with self._lock:
            approval = self._approvals.get(approval_id)
            if (approval is None or self._clock() >= approval.expires_at or approval.state == ApprovalState.USED
                    or not hmac.compare_digest(approval.owner.encode(), owner.encode())
                    or not hmac.compare_digest(approval.digest.encode(), digest.encode())):
                return Verdict.VOID
            if approval.state == ApprovalState.REJECTED:
                return Verdict.REJECTED
            if approval.state == ApprovalState.APPROVED or granted_by_caller:
                return Verdict.GRANTED
            return Verdict.PENDING

    def spend(self, approval_id: str) -> None:
        """Mark it used: the write it allowed is being sent. Any later retry with it is void."""
        with self._lock:
            approval = self._approvals.get(approval_id)
            if approval is not None:
                approval.state = ApprovalState.USED

    def _sweep(self, now: float) -> None:
        for approval_id in [a.id for a in self._approvals.values() if now >= a.expires_at]:
            del self._approvals[approval_id]
