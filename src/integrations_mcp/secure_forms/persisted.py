"""The secure form store's records in the state database, for replicas: any replica can serve a form's page and
hand its values to the write. The person's values are sealed with AES-GCM (key derived from INTEGRATIONS_STATE_KEY;
the row's key is the associated data, so a sealed value cannot be moved to another form), cleared when taken or
expired, and never logged. The form's handle and page id are stored only as keyed hashes (HMAC with a key derived
from the same one), and the page's anti-forgery token is not stored (`SecureFormStore` derives it from the page
id), so reading the database gives no id that opens, fills or uses a form.
Blocking calls (the store's API is synchronous): one short transaction per operation, holding the form's row lock
(PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import hashlib
import hmac
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
        self._ids = _Ids(hmac.new(key, b"integrations-mcp/form-ids", hashlib.sha256).digest())

    def __repr__(self) -> str:
        return "DatabaseRecords()"

    @contextmanager
    def transaction(self) -> Iterator[FormTransaction]:
        with self._engine.begin() as conn:
            tx = _Transaction(conn, self._aead, self._ids)
            yield tx
            tx.flush()


class _Ids:
    """Keyed hashes of a form's ids."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def hash(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class _Transaction:
    def __init__(self, conn: Connection, aead: AESGCM, ids: _Ids) -> None:
        self.conn, self.aead, self.ids = conn, aead, ids
        self.loaded: dict[str, _Entry] = {}  # by the row's key (the handle's hash)
        self.added: dict[str, _Entry] = {}

    def get(self, form_id: str) -> _Entry | None:
        return self._get(table.c.id, self.ids.hash("form", form_id), form_id=form_id)

    def get_by_page(self, page_id: str) -> _Entry | None:
        return self._get(table.c.page, self.ids.hash("page", page_id), page_id=page_id)

    def _get(self, column: Any, hashed: str, *, form_id: str = "", page_id: str = "") -> _Entry | None:
        known = [e for e in (*self.loaded.values(), *self.added.values())
                 if (form_id and e.form.id == form_id) or (page_id and e.form.page_id == page_id)]
        if known:
            return known[0]
        row = self.conn.execute(select(table).where(column == hashed).with_for_update()).mappings().first()
        if row is None:
            return None
        entry = _entry(row, self._open(row["id"], row["sealed"]), form_id=form_id, page_id=page_id)
        self.loaded[row["id"]] = entry
        return entry

    def add(self, entry: _Entry) -> None:
        self.added[self.ids.hash("form", entry.form.id)] = entry

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(table)).scalar_one())

    def sweep(self, now: float, lifetime_seconds: int) -> int:
        cleared = self.conn.execute(update(table).where(table.c.expires_at <= now, table.c.sealed.is_not(None))
                                    .values(sealed=None)).rowcount
        if cleared:
            log.info("%d expired secure form(s): their values were deleted", cleared)
        return self.conn.execute(delete(table).where(table.c.expires_at + lifetime_seconds <= now)).rowcount or 0

    def flush(self) -> None:
        for row_id, entry in self.added.items():
            self.conn.execute(insert(table).values(id=row_id, page=self.ids.hash("page", entry.form.page_id),
                                                   owner=entry.form.owner, expires_at=entry.form.expires_at,
                                                   form=_form_json(entry.form), **self._state(row_id, entry)))
        for row_id, entry in self.loaded.items():
            self.conn.execute(update(table).where(table.c.id == row_id).values(**self._state(row_id, entry)))

    def _state(self, row_id: str, entry: _Entry) -> dict[str, Any]:
        return {"sealed": self._seal(row_id, entry.values), "completed": entry.completed,
                "used": entry.used, "filled": list(entry.filled)}

    def _seal(self, row_id: str, values: dict[str, str] | None) -> bytes | None:
        if values is None:
            return None
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, json.dumps(values).encode(), row_id.encode())

    def _open(self, row_id: str, sealed: bytes | None) -> dict[str, str] | None:
        if sealed is None:
            return None
        try:
            return json.loads(self.aead.decrypt(sealed[:12], sealed[12:], row_id.encode()))
        except Exception:  # another key (INTEGRATIONS_STATE_KEY changed) or tampered: the values are unusable
            log.warning("secure form %s: its values cannot be decrypted with this key; treated as not saved",
                        form_ref(row_id))
            return None


def _form_json(form: StoredForm) -> dict[str, Any]:
    return {"subject": form.subject, "fields": [[f.id, f.label, f.required] for f in form.fields],
            "purpose": dict(form.purpose), "created_at": form.created_at, "create_tool": form.create_tool,
            "details": [list(d) for d in form.details], "requested_by": form.requested_by}


def _entry(row: Any, values: dict[str, str] | None, *, form_id: str, page_id: str) -> _Entry:
    """The form as read by its handle (`form_id`) or by its page (`page_id`): the other is not stored."""
    data = row["form"]
    form = StoredForm(id=form_id, page_id=page_id, subject=data["subject"],
                      fields=tuple(FormField(*f) for f in data["fields"]),
                      purpose=data["purpose"], created_at=data["created_at"], expires_at=int(row["expires_at"]),
                      owner=row["owner"], create_tool=data["create_tool"],
                      details=tuple(tuple(d) for d in data["details"]), requested_by=data.get("requested_by", ""))
    unreadable = row["sealed"] is not None and values is None
    completed = bool(row["completed"]) and not unreadable
    return _Entry(form, values=values, completed=completed, used=bool(row["used"]),
                  filled=tuple(row["filled"]))
