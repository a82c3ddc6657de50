"""Passkeys in the state database (so every replica, and the operator's `approvers` command, see the same ones):
the credentials people enrolled, the one-time enrolment links, and the challenges already answered.

Nothing in these tables approves or enrols anyone by being read: a credential is a public key (it verifies a
signature only the person's authenticator can make); an enrolment link's token is stored only as a keyed hash (HMAC
with a key derived from INTEGRATIONS_STATE_KEY; without one, under stdio, with a fixed label: the token's 256 random
bits are what cannot be found from its hash, and the operator's command and the server must agree on it without a
shared secret); a spent challenge only as its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations_mcp.state.store import StateStore

__all__ = ["Credential", "Enrolment", "PasskeyStore"]

UNKEYED = b"integrations-mcp/passkey-enrolment"  # no state key: see the module's note


@dataclass(frozen=True)
class Enrolment:
    subject: str  # the principal the person acts as
    name: str
    roles: frozenset[str]
    created_at: float
    expires_at: float
    used: bool


@dataclass(frozen=True)
class Credential:
    id: str  # base64url
    public_key: bytes
    sign_count: int
    subject: str
    name: str
    roles: frozenset[str]
    rp_id: str
    created_at: float
    last_used_at: float | None


class PasskeyStore:
    def __init__(self, state: StateStore, *, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self.state, self._key, self._clock = state, key or UNKEYED, clock

    def __repr__(self) -> str:
        return f"PasskeyStore({self.state!r})"

    def link_hash(self, token: str) -> str:
        return hmac.new(self._key, f"passkey-enrolment:{token}".encode(), hashlib.sha256).hexdigest()

    async def create_enrolment(self, *, subject: str, name: str, roles: frozenset[str], seconds: float) -> str:
        """A new one-time link's token (only its keyed hash is stored)."""
        from sqlalchemy import delete, insert

        from integrations_mcp.state.schema import passkey_enrolments as table

        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self.state.begin() as conn:
            await conn.execute(delete(table).where(table.c.expires_at <= now - 86400))  # a day to say "expired"
            await conn.execute(insert(table).values(id=self.link_hash(token), subject=subject, name=name,
                                                    roles=sorted(roles), created_at=now, expires_at=now + seconds,
                                                    used=False))
        return token

    async def enrolment(self, token: str) -> Enrolment | None:
        """The link's enrolment, used or expired ones included (the page says which); None when unknown."""
        from sqlalchemy import select

        from integrations_mcp.state.schema import passkey_enrolments as table

        async with self.state.begin() as conn:
            row = (await conn.execute(select(table).where(table.c.id == self.link_hash(token)))).mappings().first()
        return None if row is None else _enrolment(row)

    def live(self, enrolment: Enrolment | None) -> bool:
        return enrolment is not None and not enrolment.used and self._clock() < enrolment.expires_at

    async def enrol(self, token: str, *, credential_id: str, public_key: bytes, sign_count: int,
                    rp_id: str) -> Enrolment | None:
        """Spend the link and store its credential, in one transaction: None when the link is unknown, used or
        expired (two browsers finishing the same link: one wins), or the credential is enrolled already."""
        from sqlalchemy import insert, select, update
        from sqlalchemy.exc import IntegrityError

        from integrations_mcp.state.schema import passkey_credentials as credentials
        from integrations_mcp.state.schema import passkey_enrolments as table

        now, link = self._clock(), self.link_hash(token)
        try:
            async with self.state.begin() as conn:
                spent = await conn.execute(update(table).where(table.c.id == link, table.c.used.is_(False),
                                                               table.c.expires_at > now).values(used=True))
                if not spent.rowcount:
                    return None
                row = (await conn.execute(select(table).where(table.c.id == link))).mappings().one()
                await conn.execute(insert(credentials).values(
                    id=credential_id, public_key=public_key, sign_count=sign_count, subject=row["subject"],
                    name=row["name"], roles=row["roles"], rp_id=rp_id, created_at=now, last_used_at=None))
        except IntegrityError:  # the credential id exists: the transaction (and the link's spending) rolled back
            return None
        return _enrolment(row)

    async def credential(self, credential_id: str) -> Credential | None:
        from sqlalchemy import select

        from integrations_mcp.state.schema import passkey_credentials as table

        async with self.state.begin() as conn:
            row = (await conn.execute(select(table).where(table.c.id == credential_id))).mappings().first()
        return None if row is None else _credential(row)

    async def spend_challenge(self, challenge: bytes, expires_at: float) -> bool:
        """True the first time a challenge is answered; False ever after (on any replica), until it has expired
        and nothing would accept it anyway."""
        from sqlalchemy import delete, insert
        from sqlalchemy.exc import IntegrityError

        from integrations_mcp.state.schema import passkey_spent_challenges as table

        try:
            async with self.state.begin() as conn:
                await conn.execute(delete(table).where(table.c.expires_at <= self._clock()))
                await conn.execute(insert(table).values(id=hashlib.sha256(challenge).hexdigest(),
                                                        expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    async def used(self, credential_id: str, *, was: int, now: int) -> bool:
        """Record a verified use: the authenticator's new sign count, if nobody recorded another meanwhile."""
        from sqlalchemy import update

        from integrations_mcp.state.schema import passkey_credentials as table

        async with self.state.begin() as conn:
            result = await conn.execute(update(table).where(table.c.id == credential_id, table.c.sign_count == was)
                                        .values(sign_count=now, last_used_at=self._clock()))
        return bool(result.rowcount)

    async def credentials(self, subject: str | None = None) -> list[Credential]:
        from sqlalchemy import select

        from integrations_mcp.state.schema import passkey_credentials as table

        query = select(table).order_by(table.c.subject, table.c.created_at)
        if subject is not None:
            query = query.where(table.c.subject == subject)
        async with self.state.begin() as conn:
            return [_credential(row) for row in (await conn.execute(query)).mappings()]

    async def pending_enrolments(self) -> list[Enrolment]:
        from sqlalchemy import select

        from integrations_mcp.state.schema import passkey_enrolments as table

        query = select(table).where(table.c.used.is_(False), table.c.expires_at > self._clock()) \
            .order_by(table.c.subject, table.c.created_at)
        async with self.state.begin() as conn:
            return [_enrolment(row) for row in (await conn.execute(query)).mappings()]

    async def remove(self, *, subject: str | None = None, credential_id: str | None = None) -> int:
        """Delete a subject's passkeys and unused links, or one passkey by id; how many passkeys went."""
        from sqlalchemy import delete

        from integrations_mcp.state.schema import passkey_credentials as credentials
        from integrations_mcp.state.schema import passkey_enrolments as links

        async with self.state.begin() as conn:
            if credential_id is not None:
                return (await conn.execute(delete(credentials).where(credentials.c.id == credential_id))).rowcount
            removed = (await conn.execute(delete(credentials).where(credentials.c.subject == subject))).rowcount
            await conn.execute(delete(links).where(links.c.subject == subject, links.c.used.is_(False)))
            return removed


def _enrolment(row: Mapping[str, Any]) -> Enrolment:
    return Enrolment(subject=row["subject"], name=row["name"], roles=frozenset(row["roles"]),
                     created_at=row["created_at"], expires_at=row["expires_at"], used=bool(row["used"]))


def _credential(row: Mapping[str, Any]) -> Credential:
    return Credential(**{**row, "roles": frozenset(row["roles"])})
