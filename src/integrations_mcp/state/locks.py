"""Write serialisation across processes sharing one state database, on top of the in-process locks.

PostgreSQL (replicas, possibly on several hosts): an advisory lock per key, held by one transaction for as long as
the write runs (released with it, also when the process dies).

A SQLite file (several stdio servers of one user, e.g. two MCP clients each spawning one), on Linux: an OS lock on
one byte of a lock file beside the database (`<file>-locks`, empty: only its byte ranges are used), the key hashed to
the byte's offset. Open-file-description locks (`F_OFD_SETLK`): each write opens the file itself, so two writes
conflict whether they are in two processes or in one; the OS releases them when the file is closed, also when its
process dies (no expiry to wait out, no renewal task, nothing written to the database). Two keys that hash to one byte
only wait for each other; bytes are taken in ascending order, so two writers never wait on each other. A waiting
writer polls (short, bounded pauses) and is refused after `Leases.wait`. Not a SQLite write transaction held for the
whole write (`BEGIN IMMEDIATE`): that would block every other write to the file, this process's own journal row
included, for as long as the vendor call (or the person) takes.

Elsewhere (no open-file-description locks: macOS, Windows) a SQLite file uses leases: a row of `write_locks` per key
inserted on its primary key (so only one process gets it), renewed while the write runs and deleted when it ends. A
process that dies holding one stops renewing it, and the lease runs out after `Leases.lease`.

An in-memory SQLite database belongs to one process: the in-process locks suffice.

SQLAlchemy and the schema are imported by the functions that use them, so building the server never pays for them
(`state.engine`)."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import struct
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote

import anyio

from integrations_mcp.errors import GuardrailError
from integrations_mcp.state.store import StateError, StateStore

__all__ = ["OS_LOCKS", "Leases", "cross_process_locks", "lock_file", "lock_id"]

log = logging.getLogger(__name__)


def lock_id(key: str) -> int:
    """A signed 64-bit number for a lock key (what pg_advisory_xact_lock takes)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Leases:
    """How a SQLite file's locks behave (seconds): `wait` and `poll_max` for both kinds, `lease` and `renew_every` for
    leases (where there are no open-file-description locks)."""

    lease: float = 30.0  # a crashed holder blocks others this long at most
    renew_every: float = 10.0
    wait: float = 720.0  # then the waiting write is refused, nothing sent (the server: approval lifetime + 2 min)
    poll_max: float = 0.25  # the longest pause between tries


# Open-file-description locks: Linux >= 3.15, with a 64-bit struct flock (short type, short whence, off_t start, off_t
# len, pid_t pid; pid 0). The numbers are the kernel's ABI (Python's fcntl names them from 3.9 on Linux).
OS_LOCKS = sys.platform == "linux" and struct.calcsize("P") == 8 and hasattr(os, "O_CLOEXEC")
_F_OFD_GETLK, _F_OFD_SETLK = 36, 37
_FLOCK = struct.Struct("hhqqi4x")
_OFFSETS = 1 << 48  # bytes a key may hash to: two of a write's keys collide once in ~10^14
_UNSUPPORTED = (errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)
_usable: dict[str, bool] = {}  # lock file -> whether its kernel and file system take such locks


def lock_file(store: StateStore) -> str:
    return f"{unquote(store.database)}-locks"  # beside the file SQLAlchemy opens (it decodes %xx in the URL)


def _os_locks_usable(path: str) -> bool:
    """Whether this lock file takes open-file-description locks (an old kernel, WSL 1 or some file systems refuse
    them: leases then, as every process on that kernel and file finds the same). Asked once per process."""
    if path not in _usable:
        import fcntl

        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return True  # `_os_locked` reports it
        try:
            fcntl.fcntl(fd, _F_OFD_GETLK, _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 1, 0))
            _usable[path] = True
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
            log.warning("write lock: %s takes no open-file-description locks (%s); using leases in the database",
                        path, errno.errorcode.get(exc.errno or 0, exc.errno))
            _usable[path] = False
        finally:
            os.close(fd)
    return _usable[path]


def _offset(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % _OFFSETS


@asynccontextmanager
async def cross_process_locks(store: StateStore, keys: list[str], leases: Leases = Leases()) -> AsyncIterator[None]:
    """Hold every key's lock against the other processes using this database (keys taken in sorted order, as the
    in-process locks take them, so two writers never wait on each other)."""
    ordered = sorted(set(keys))
    if not ordered or store.in_memory:
        yield
    elif store.shared:
        async with _advisory_locks(store, ordered):
            yield
    elif OS_LOCKS and _os_locks_usable(lock_file(store)):
        async with _os_locked(store, ordered, leases):
            yield
    else:
        async with _leased(store, ordered, leases):
            yield


@asynccontextmanager
async def _os_locked(store: StateStore, keys: list[str], leases: Leases) -> AsyncIterator[None]:
    import fcntl

    # This write's own open file description: its locks conflict with every other one's, in this process too.
    try:
        fd = os.open(lock_file(store), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StateError(f"The state database's lock file ({lock_file(store)}) cannot be opened: "
                         f"{exc.strerror or type(exc).__name__}.") from None
    try:
        deadline, pause = time.monotonic() + leases.wait, 0.005
        for offset in sorted({_offset(key) for key in keys}):  # one order for every writer: none waits on another
            while True:
                try:
                    fcntl.fcntl(fd, _F_OFD_SETLK, _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0))
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                # held by another write (another process's, or another task's here); a nap is a checkpoint, so a
                # cancelled waiter leaves here and closes its file
                if time.monotonic() >= deadline:
                    held = ", ".join(k for k in keys if _offset(k) == offset)
                    raise GuardrailError(f"Refused: another write to {held} through this state database (another "
                                         f"integrations-mcp process) has gone on for over {leases.wait:.0f} s. "
                                         "Nothing was sent. Try again once it has finished.")
                await anyio.sleep(pause)
                pause = min(pause * 2, leases.poll_max)
        yield
    finally:
        os.close(fd)  # the OS releases every lock taken through it


@asynccontextmanager
async def _advisory_locks(store: StateStore, keys: list[str]) -> AsyncIterator[None]:
    # Each holder keeps a connection for the whole write and needs others meanwhile (journal, approvals): bounded,
    # so that the pool never runs dry with every connection waiting for a second one.
    from sqlalchemy import text

    async with store.lock_holders, store.begin() as conn:
        for key in keys:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id(key)})
        yield


def _row_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@asynccontextmanager
async def _leased(store: StateStore, keys: list[str], leases: Leases) -> AsyncIterator[None]:
    owner = f"pid {os.getpid()} {secrets.token_hex(8)}"
    held: list[str] = []
    try:
        for key in keys:
            await _acquire(store, key, owner, leases)
            held.append(key)
        failed: BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_renew, store, held, owner, leases)
            try:
                yield
            except BaseException as exc:  # re-raised as is below, not wrapped in the task group's exception group
                failed = exc
            finally:
                tg.cancel_scope.cancel()
        if failed is not None:
            raise failed
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled write still gives its leases back
            await _release(store, held, owner)


async def _acquire(store: StateStore, key: str, owner: str, leases: Leases) -> None:
    from sqlalchemy import bindparam
    from sqlalchemy.dialects.sqlite import insert

    from integrations_mcp.state.schema import write_locks

    # One statement, so one write lock of the file: the row is inserted, or an expired one (a dead holder's) taken
    # over; a live lease is left alone and nothing changes (0 rows).
    take = insert(write_locks).values(id=_row_id(key), name=key, owner=owner, expires_at=bindparam("until"))
    take = take.on_conflict_do_update(index_elements=[write_locks.c.id],
                                      set_={"name": take.excluded.name, "owner": take.excluded.owner,
                                            "expires_at": take.excluded.expires_at},
                                      where=write_locks.c.expires_at < bindparam("now"))
    deadline, pause = time.monotonic() + leases.wait, 0.01
    while True:
        now = time.time()
        async with store.begin() as conn:
            if (await conn.execute(take, {"now": now, "until": now + leases.lease})).rowcount == 1:
                return
        # held by another write, whose lease has not run out
        if time.monotonic() >= deadline:
            raise GuardrailError(f"Refused: another integrations-mcp process ({await _holder(store, key)}) sharing "
                                 f"this state database has been writing to {key} for over {leases.wait:.0f} s. "
                                 "Nothing was sent. Try again once it has finished.")
        await anyio.sleep(pause)
        pause = min(pause * 2, leases.poll_max)


async def _holder(store: StateStore, key: str) -> str:
    from sqlalchemy import select

    from integrations_mcp.state.schema import write_locks

    async with store.begin() as conn:
        owner = (await conn.execute(select(write_locks.c.owner).where(write_locks.c.id == _row_id(key)))).scalar()
    return (owner or "finished").rsplit(" ", 1)[0]


async def _renew(store: StateStore, keys: list[str], owner: str, leases: Leases) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import SQLAlchemyError

    from integrations_mcp.state.schema import write_locks

    ids = [_row_id(key) for key in keys]
    while True:
        await anyio.sleep(leases.renew_every)
        try:
            async with store.begin() as conn:
                renewed = (await conn.execute(update(write_locks)
                                              .where(write_locks.c.id.in_(ids), write_locks.c.owner == owner)
                                              .values(expires_at=time.time() + leases.lease))).rowcount
        except (SQLAlchemyError, OSError) as exc:  # tried again at the next turn; the lease outlasts two misses
            log.warning("write lock: could not renew the lease of %s: %s", ", ".join(keys), type(exc).__name__)
            continue
        if renewed != len(ids):
            log.error("write lock: lost the lease of %s (this process stalled past its expiry); another process may "
                      "write to it at the same time", ", ".join(keys))


async def _release(store: StateStore, keys: list[str], owner: str) -> None:
    if not keys:
        return
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    from integrations_mcp.state.schema import write_locks

    try:
        async with store.begin() as conn:
            await conn.execute(delete(write_locks).where(write_locks.c.id.in_([_row_id(key) for key in keys]),
                                                         write_locks.c.owner == owner))
    except (SQLAlchemyError, OSError) as exc:  # the lease then runs out by itself
        log.error("write lock: could not release %s: %s", ", ".join(keys), type(exc).__name__)
