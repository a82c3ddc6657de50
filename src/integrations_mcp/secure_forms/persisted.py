"""The secure form store's records in the state database, for replicas: any replica can serve a form's page and
hand its values to the write. The person's values are sealed with AES-GCM (key derived from INTEGRATIONS_STATE_KEY;
the form id is the associated data, so a sealed value cannot be moved to another form), cleared when taken or
expired, and never logged. Blocking calls (the store's API is synchronous): one short transaction per operation,
holding the form's row lock (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from integrations_mcp.secure_forms.store import FormField, FormTransaction, StoredForm, _Entry, form_ref
from integrations_mcp.state.schema import secure_forms as table

__all__ = ["DatabaseRecords"]

log = logging.getLogger(__name__)


class DatabaseRecords:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self._engine, self._aead = engine, AESGCM(key)

    def __repr__(self) -> str:
        return "DatabaseRecords()"

    @contextmanager
    def transaction(self) -> Iterator[FormTransaction]:
        with self._engine.begin() as conn:
            tx = _Transaction(conn, self._aead)
            yield tx
            tx.flush()


class _Transaction:
    def __init__(self, conn: Connection, aead: AESGCM) -> None:
        self.conn, self.aead = conn, aead
        self.loaded: dict[str, _Entry] = {}
        self.added: dict[str, _Entry] = {}

    def get(self, form_id: str) -> _Entry | None:
        if form_id in self.loaded or form_id in self.added:
            return self.loaded.get(form_id) or self.added[form_id]
        row = self.conn.execute(select(table).where(table.c.id == form_id).with_for_update()).mappings().first()
        if row is None:
            return None
        entry = _entry(row, self._open(form_id, row["sealed"]))
        self.loaded[form_id] = entry
        return entry

    def add(self, entry: _Entry) -> None:
        self.added[entry.form.id] = entry

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(table)).scalar_one())

    def sweep(self, now: float, lifetime_seconds: int) -> int:
        cleared = self.conn.execute(update(table).where(table.c.expires_at <= now, table.c.sealed.is_not(None))
                                    .values(sealed=None)).rowcount
        if cleared:
            log.info("%d expired secure form(s): their values were deleted", cleared)
        return self.conn.execute(delete(table).where(table.c.expires_at + lifetime_seconds <= now)).rowcount or 0

    def flush(self) -> None:
        for entry in self.added.values():
            self.conn.execute(insert(table).values(id=entry.form.id, owner=entry.form.owner,
                                                   csrf_token=entry.form.csrf_token,
                                                   expires_at=entry.form.expires_at, form=_form_json(entry.form),
                                                   **self._state(entry)))
        for form_id, entry in self.loaded.items():
            self.conn.execute(update(table).where(table.c.id == form_id).values(**self._state(entry)))

    def _state(self, entry: _Entry) -> dict[str, Any]:
        return {"sealed": self._seal(entry.form.id, entry.values), "completed": entry.completed,
                "used": entry.used, "filled": list(entry.filled)}

    def _seal(self, form_id: str, values: dict[str, str] | None) -> bytes | None:
        if values is None:
            return None
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, json.dumps(values).encode(), form_id.encode())

    def _open(self, form_id: str, sealed: bytes | None) -> dict[str, str] | None:
        if sealed is None:
            return None
        try:
            return json.loads(self.aead.decrypt(sealed[:12], sealed[12:], form_id.encode()))
        except Exception:  # another key (INTEGRATIONS_STATE_KEY changed) or tampered: the values are unusable
            log.warning("secure form %s: its values cannot be decrypted with this key; treated as not saved",
                        form_ref(form_id))
            return None


def _form_json(form: StoredForm) -> dict[str, Any]:
    return {"subject": form.subject, "fields": [[f.id, f.label, f.required] for f in form.fields],
            "purpose": dict(form.purpose), "created_at": form.created_at, "create_tool": form.create_tool,
            "details": [list(d) for d in form.details]}


def _entry(row: Any, values: dict[str, str] | None) -> _Entry:
    data = row["form"]
    form = StoredForm(id=row["id"], subject=data["subject"], fields=tuple(FormField(*f) for f in data["fields"]),
                      purpose=data["purpose"], created_at=data["created_at"], expires_at=int(row["expires_at"]),
                      owner=row["owner"], csrf_token=row["csrf_token"], create_tool=data["create_tool"],
                      details=tuple(tuple(d) for d in data["details"]))
    unreadable = row["sealed"] is not None and values is None
    completed = bool(row["completed"]) and not unreadable
    return _Entry(form, values=values, completed=completed, used=bool(row["used"]),
                  filled=tuple(row["filled"]))
