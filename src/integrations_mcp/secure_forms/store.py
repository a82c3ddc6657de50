"""One-time secure forms served by integrations-mcp itself, for vendors (CxEngage) that have none of their own.

A tool calls `SecureFormStore.create(...)` and hands the person a URL; the person types the secret fields into
that page in their browser (`secure_forms/page.py` calls `lookup` and `submit`); a later create/edit tool call
passes `secure_form_id` and merges the values server-side with `take(...)`, which hands them out once.

Two ids per form: `id` (the handle the model holds: `secure_form_id`, good only for the session that made it) and
`page_id` (the page's address, the capability the person's browser holds). The model never needs the page id when
its client opens the link for the person (URL elicitation), and it cannot be computed from the handle.

Values live in this process's memory (`MemoryRecords`), or, for replicas, in the state database encrypted with a
key derived from INTEGRATIONS_STATE_KEY (`secure_forms.persisted`, where both ids are stored only as keyed hashes);
either way they are dropped when the form expires or is taken, and never appear in a repr, a status, an error
message or a log line. Logs name a form by a short prefix of its handle only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from integrations_mcp.errors import GuardrailError
from integrations_mcp.limits import Limits, OwnerQuota, quota_refusal
from integrations_mcp.once import Once

__all__ = [
    "MAX_VALUE_CHARS",
    "FormState",
    "FormField",
    "FormRecords",
    "MemoryRecords",
    "RecordsOnFirstUse",
    "StoredForm",
    "SecureFormError",
    "SecureFormStatus",
    "SecureFormStore",
    "SecureFormView",
    "form_ref",
]

log = logging.getLogger(__name__)

MAX_VALUE_CHARS = 8192
_FIELD_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")


def form_ref(form_id: str) -> str:
    """What logs may show of a form id: a prefix too short to open the page."""
    return f"{form_id[:6]}…"


@dataclass(frozen=True)
class FormField:
    id: str  # the property name the tool merges the value into, e.g. "password"
    label: str  # what the person sees, e.g. "Zendesk API token"
    required: bool = True


class SecureFormError(GuardrailError):
    """A secure-form operation refused. `reason` is one of the class constants; `details` never holds values."""

    NOT_FOUND = "not_found"  # unknown id, or a form of another session (indistinguishable on purpose)
    EXPIRED = "expired"
    USED = "used"  # take() already handed the values out
    NOT_COMPLETED = "not_completed"
    COMPLETED = "completed"  # submit() on a form that was already saved
    PURPOSE_MISMATCH = "purpose_mismatch"
    CSRF = "csrf"
    MISSING_FIELDS = "missing_fields"
    UNKNOWN_FIELDS = "unknown_fields"
    TOO_LONG = "too_long"

    def __init__(self, message: str, *, reason: str, details: dict | None = None) -> None:
        super().__init__(message, details={"reason": reason, **(details or {})})
        self.reason = reason


class FormState(StrEnum):
    OPEN = "open"  # waiting for the person
    COMPLETED = "completed"  # saved by the person, values held until taken
    USED = "used"  # values taken by a tool and forgotten


@dataclass(frozen=True, eq=False)
class StoredForm:
    """A form as created. Holds no values; `owner` and `csrf_token` stay out of the repr."""

    id: str
    subject: str
    fields: tuple[FormField, ...]
    purpose: Mapping[str, str]
    created_at: int
    expires_at: int
    owner: str = field(repr=False)
    page_id: str = field(default="", repr=False)  # the page's address (known when created or read by it)
    csrf_token: str = field(default="", repr=False)  # the page's anti-forgery token (with the page id)
    create_tool: str = "the tool that created it"  # named by refusals: where a fresh form comes from
    details: tuple[tuple[str, str], ...] = ()  # (label, value) shown to the person, e.g. where the secrets go
    requested_by: str = ""  # the principal whose call made it: an approver policy lets them fill it in

    def field_by_id(self, field_id: str) -> FormField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def labels(self, field_ids: Iterable[str]) -> list[str]:
        return [(f.label if (f := self.field_by_id(i)) else i) for i in field_ids]


@dataclass(frozen=True)
class SecureFormView:
    """What the page needs to render a form: the form itself and its state right now."""

    form: StoredForm
    state: FormState


class SecureFormStatus(BaseModel):
    """What a tool may show the model about a form. Never values."""

    model_config = ConfigDict(frozen=True)

    form_id: str
    subject: str
    completed: bool
    used: bool
    expires_at: int  # unix seconds
    purpose: dict[str, str]
    fields: list[str]  # every field id, in form order
    required_fields: list[str]
    filled_fields: list[str]  # ids of fields that hold a value (empty until the person saves)


@dataclass(eq=False)
class _Entry:
    form: StoredForm
    values: dict[str, str] | None = field(default=None, repr=False)
    completed: bool = False
    used: bool = False
    filled: tuple[str, ...] = ()

    def __repr__(self) -> str:  # values never appear, even by accident
        return f"_Entry(form={self.form!r}, completed={self.completed}, used={self.used}, filled={self.filled})"


class FormTransaction(Protocol):
    """The forms as one transaction sees them; an entry got from it may be changed in place until it ends."""

    def get(self, form_id: str) -> _Entry | None: ...

    def get_by_page(self, page_id: str) -> _Entry | None: ...

    def add(self, entry: _Entry) -> None: ...

    def count(self) -> int: ...

    def sweep(self, now: float, lifetime_seconds: int) -> int: ...


class FormRecords(Protocol):
    def transaction(self) -> Iterator[FormTransaction]: ...  # a context manager


class MemoryRecords:
    """This process's memory (the default): one lock, the entries changed in place."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._pages: dict[str, str] = {}  # page id -> form id

    @contextmanager
    def transaction(self) -> Iterator[FormTransaction]:
        with self._lock:
            yield self

    def get(self, form_id: str) -> _Entry | None:
        return self._entries.get(form_id)

    def get_by_page(self, page_id: str) -> _Entry | None:
        return self._entries.get(self._pages.get(page_id, ""))

    def add(self, entry: _Entry) -> None:
        self._entries[entry.form.id] = entry
        self._pages[entry.form.page_id] = entry.form.id

    def count(self) -> int:
        return len(self._entries)

    def sweep(self, now: float, lifetime_seconds: int) -> int:
        forgotten = 0
        # Expired forms keep a value-less record for one more lifetime so the page can say "expired" (410).
        for form_id, entry in list(self._entries.items()):
            if now < entry.form.expires_at:
                continue
            if entry.values is not None:
                entry.values = None
                log.info("secure form %s expired; its values were deleted", form_ref(form_id))
            if now >= entry.form.expires_at + lifetime_seconds:
                del self._entries[form_id], self._pages[entry.form.page_id]
                forgotten += 1
        return forgotten


class RecordsOnFirstUse:
    """Records made by the first transaction (the database's records import SQLAlchemy and connect, which building
    the server and tools/list do not need)."""

    def __init__(self, make: Callable[[], FormRecords]) -> None:
        self._records = Once(make)

    def __repr__(self) -> str:
        return f"RecordsOnFirstUse(made={self._records.made})"

    @contextmanager
    def transaction(self) -> Iterator[FormTransaction]:
        with self._records().transaction() as tx:
            yield tx


class SecureFormStore:
    """Thread-safe store of one-time secure forms, in memory unless `records` says otherwise. No HTTP here.

    Each form records the tool that made it (`create_tool`), which refusals name for a fresh form."""

    def __init__(self, clock: Callable[[], float] = time.time, lifetime_seconds: int = 3600,
                 records: FormRecords | None = None, key: bytes | None = None,
                 max_per_owner: int = Limits.session_forms) -> None:
        """`key`: of the pages' anti-forgery tokens (derived from the page id, never stored); replicas sharing
        `records` share it too."""
        if lifetime_seconds <= 0:
            raise ValueError("lifetime_seconds must be positive")
        self._key = key or secrets.token_bytes(32)
        self._clock = clock
        self._quota = OwnerQuota(max_per_owner, clock)  # forms per session: limits.py
        self.lifetime_seconds = int(lifetime_seconds)
        self._records = records or MemoryRecords()

    def __repr__(self) -> str:
        return f"SecureFormStore(forms={len(self)}, lifetime_seconds={self.lifetime_seconds})"

    # ----------------------------------------------------------------- tool side

    def create(self, *, owner: str, subject: str, fields: list[FormField], purpose: dict[str, str],
               create_tool: str = StoredForm.create_tool, details: tuple[tuple[str, str], ...] = (),
               requested_by: str = "") -> StoredForm:
        """A new open form for `owner` (an opaque key of the asking MCP session), valid for the store's lifetime."""
        if not owner:
            raise ValueError("owner must be a non-empty session key")
        if not fields:
            raise ValueError("a secure form needs at least one field")
        seen: set[str] = set()
        for f in fields:
            if not _FIELD_ID.fullmatch(f.id):
                raise ValueError(f"invalid secure form field id {f.id!r}")
            if f.id in seen:
                raise ValueError(f"duplicate secure form field id {f.id!r}")
            if not f.label.strip():
                raise ValueError(f"secure form field {f.id!r} needs a label")
            seen.add(f.id)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in purpose.items()):
            raise ValueError("purpose must map strings to strings")
        now = self._clock()
        with self._records.transaction() as tx:
            tx.sweep(now, self.lifetime_seconds)
            form_id, page_id = secrets.token_urlsafe(24), secrets.token_urlsafe(24)  # 192 random bits each
            self._quota.admit(owner, form_id, now + self.lifetime_seconds, lambda: quota_refusal(
                "secure forms that have not expired", self._quota.limit, "INTEGRATIONS_MAX_OPEN_FORMS",
                "Use the forms already made (their ids are in earlier answers), or wait until they expire."))
            form = StoredForm(id=form_id, page_id=page_id, subject=subject, fields=tuple(fields),
                              purpose=dict(purpose),
                              created_at=int(now), expires_at=int(now) + self.lifetime_seconds,
                              owner=owner, csrf_token=self._csrf(page_id), create_tool=create_tool,
                              details=tuple(details), requested_by=requested_by[:200])
            tx.add(_Entry(form))
        log.info("secure form %s created with fields %s", form_ref(form_id), [f.id for f in fields])
        return form

    def status(self, form_id: str, *, owner: str) -> SecureFormStatus:
        """Where the form stands. Unknown, expired and other sessions' forms are refused."""
        now = self._clock()
        with self._records.transaction() as tx:
            tx.sweep(now, self.lifetime_seconds)
            entry = self._owned(tx, form_id, owner)
            if now >= entry.form.expires_at and not entry.used:
                raise self._expired(entry.form)
            return _status(entry)

    def take(self, form_id: str, *, owner: str, purpose: dict[str, str]) -> dict[str, str]:
        """The values the person saved, exactly once; the form is spent afterwards.

        Refused if the form is unknown or another session's, expired, already taken, not saved yet, or made for a
        different purpose (the message names the first key that differs). A refusal does not spend the form."""
        now = self._clock()
        with self._records.transaction() as tx:
            tx.sweep(now, self.lifetime_seconds)
            entry = self._owned(tx, form_id, owner)
            form = entry.form
            if entry.used:
                log.info("secure form %s take refused: already used", form_ref(form_id))
                raise SecureFormError(
                    "This secure form was already used: its values were handed out once and then deleted. "
                    f"Create a new form with {form.create_tool} and ask the user to fill it in.",
                    reason=SecureFormError.USED, details={"form_id": form_id})
            if now >= form.expires_at:
                raise self._expired(form)
            if not entry.completed or entry.values is None:
                missing = form.labels(f.id for f in form.fields if f.required)
                log.info("secure form %s take refused: not completed", form_ref(form_id))
                raise SecureFormError(
                    "The user has not saved this secure form yet. Ask them to open the form link you gave them, "
                    f"fill in {', '.join(missing) or 'the fields'} and press Save, then call again with the same "
                    "secure_form_id.", reason=SecureFormError.NOT_COMPLETED, details={"form_id": form_id})
            mismatch = _first_mismatch(form.purpose, purpose)
            if mismatch is not None:
                key, made, asked = mismatch
                log.info("secure form %s take refused: purpose mismatch on %s", form_ref(form_id), key)
                raise SecureFormError(
                    f"This secure form was made for {key} {_show(made)}, not {_show(asked)}. Use the form created "
                    f"for this integration, or create a new one with {form.create_tool}. The form was not used.",
                    reason=SecureFormError.PURPOSE_MISMATCH,
                    details={"form_id": form_id, "key": key, "form_value": made, "requested_value": asked})
            values, entry.values, entry.used = entry.values, None, True
        log.info("secure form %s taken (%d values handed out and forgotten)", form_ref(form_id), len(values))
        return values

    def restore(self, form_id: str, *, owner: str, values: dict[str, str]) -> None:
        """Undo a `take` whose values could not be used (the vendor refused or failed), so that nothing the person
        typed is lost: the form is completed again with the same values, until it expires."""
        now = self._clock()
        with self._records.transaction() as tx:
            entry = tx.get(form_id)
            if entry is None or entry.form.owner != owner or not entry.used or now >= entry.form.expires_at:
                return
            entry.values, entry.used = dict(values), False
        log.info("secure form %s restored after a failed write", form_ref(form_id))

    # ----------------------------------------------------------------- page side (the page id is the capability)

    def lookup(self, page_id: str) -> SecureFormView:
        """The form for display, whoever holds its page id. Unknown → NOT_FOUND; expired → EXPIRED."""
        with self._records.transaction() as tx:
            entry = self._live(tx, page_id, self._clock())
            return SecureFormView(replace(entry.form, page_id=page_id, csrf_token=self._csrf(page_id)),
                                  _state(entry))

    def submit(self, page_id: str, csrf_token: str, values: Mapping[str, str]) -> StoredForm:
        """Save the person's values once. Checks, in order: the form is live, the CSRF token, not saved before,
        no unknown field names, no over-long values, every required field non-blank. Blank optional fields are
        left out. Nothing is stored unless every check passes."""
        with self._records.transaction() as tx:
            entry = self._live(tx, page_id, self._clock())
            form, form_id = entry.form, entry.form.id or page_id  # (logs: the database knows no clear handle)
            if not hmac.compare_digest(csrf_token.encode(), self._csrf(page_id).encode()):
                log.warning("secure form %s submit refused: CSRF token mismatch", form_ref(form_id))
                raise SecureFormError("The security check failed. Reload the form and try again.",
                                      reason=SecureFormError.CSRF)
            if entry.completed or entry.used:
                log.info("secure form %s submit refused: already completed", form_ref(form_id))
                raise SecureFormError("This secure form was already completed and cannot be modified.",
                                      reason=SecureFormError.COMPLETED)
            known = {f.id for f in form.fields}
            unknown = sorted(k for k in values if k not in known)
            if unknown:
                log.warning("secure form %s submit refused: %d unknown field(s)", form_ref(form_id), len(unknown))
                raise SecureFormError("The form sent fields it does not have. Reload the page and try again.",
                                      reason=SecureFormError.UNKNOWN_FIELDS, details={"count": len(unknown)})
            too_long = [f.id for f in form.fields if len(values.get(f.id, "")) > MAX_VALUE_CHARS]
            if too_long:
                log.info("secure form %s submit refused: over-long values in %s", form_ref(form_id), too_long)
                raise SecureFormError(
                    f"Too long (over {MAX_VALUE_CHARS} characters): {', '.join(form.labels(too_long))}.",
                    reason=SecureFormError.TOO_LONG, details={"fields": too_long})
            missing = [f.id for f in form.fields if f.required and not values.get(f.id, "").strip()]
            if missing:
                log.info("secure form %s submit refused: missing %s", form_ref(form_id), missing)
                raise SecureFormError(f"Please fill in: {', '.join(form.labels(missing))}.",
                                      reason=SecureFormError.MISSING_FIELDS, details={"fields": missing})
            kept = {f.id: values[f.id] for f in form.fields if values.get(f.id, "").strip()}
            entry.values, entry.completed, entry.filled = kept, True, tuple(kept)
        log.info("secure form %s completed (fields filled: %s)", form_ref(form_id), list(kept))
        return form

    # ----------------------------------------------------------------- housekeeping

    def purpose(self, page_id: str) -> str:
        """What a sign-in proof for filling this form is bound to (`pages.signin`): never the page id itself."""
        return "form:" + hmac.new(self._key, f"purpose:{page_id}".encode(), hashlib.sha256).hexdigest()

    def _csrf(self, page_id: str) -> str:
        digest = hmac.new(self._key, f"csrf:{page_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sweep(self) -> int:
        """Drop values of expired forms and forget long-expired ones; returns how many forms were forgotten."""
        with self._records.transaction() as tx:
            return tx.sweep(self._clock(), self.lifetime_seconds)

    def __len__(self) -> int:
        with self._records.transaction() as tx:
            return tx.count()

    def _live(self, tx: FormTransaction, page_id: str, now: float) -> _Entry:
        """The page's view of a form: unknown and expired forms are refused, whoever asks."""
        tx.sweep(now, self.lifetime_seconds)
        entry = tx.get_by_page(page_id)
        if entry is None:
            raise self._not_found()
        if now >= entry.form.expires_at and not entry.used:
            raise self._expired(entry.form)
        return entry

    def _owned(self, tx: FormTransaction, form_id: str, owner: str) -> _Entry:
        entry = tx.get(form_id)
        if entry is None or not hmac.compare_digest(entry.form.owner.encode(), owner.encode()):
            raise self._not_found()
        return entry

    def _not_found(self) -> SecureFormError:
        return SecureFormError(
            "No secure form with this id exists for this session (it may have expired and been deleted). "
            "Create a new one with the vendor's Create...SecureForm tool and ask the user to fill it in.",
            reason=SecureFormError.NOT_FOUND)

    def _expired(self, form: StoredForm) -> SecureFormError:
        log.info("secure form %s refused: expired", form_ref(form.id))
        return SecureFormError(
            "This secure form has expired and anything typed into it was deleted. "
            f"Create a new form with {form.create_tool} and ask the user to fill it in again.",
            reason=SecureFormError.EXPIRED, details={"form_id": form.id})


def _state(entry: _Entry) -> FormState:
    if entry.used:
        return FormState.USED
    return FormState.COMPLETED if entry.completed else FormState.OPEN


def _status(entry: _Entry) -> SecureFormStatus:
    form = entry.form
    return SecureFormStatus(form_id=form.id, subject=form.subject, completed=entry.completed, used=entry.used,
                            expires_at=form.expires_at, purpose=dict(form.purpose),
                            fields=[f.id for f in form.fields],
                            required_fields=[f.id for f in form.fields if f.required],
                            filled_fields=list(entry.filled))


def _first_mismatch(made: Mapping[str, str], asked: Mapping[str, str]) -> tuple[str, str | None, str | None] | None:
    for key in [*made, *(k for k in asked if k not in made)]:
        if made.get(key) != asked.get(key):
            return key, made.get(key), asked.get(key)
    return None


def _show(value: str | None) -> str:
    if value is None:
        return "(not given)"
    return value if value else "(none)"
