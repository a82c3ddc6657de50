"""A real PostgreSQL for the tests (Debian's `postgresql` package, which scripts/test.sh installs): one server per
test session in a temporary directory, one fresh database per test. Skips with the reason when not installed."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.harness import free_port

__all__ = ["PostgresServer", "postgres_server", "running_postgres"]


class PostgresServer:
    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.root, self.port = bindir, root, port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def new_database(self) -> str:
        name = "t_" + secrets.token_hex(6)
        async with await psycopg.AsyncConnection.connect(host="127.0.0.1", port=self.port, user="postgres",
                                                         dbname="postgres", autocommit=True) as conn:
            await conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: CI runs as root, so run them as the package's postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        if server is None:
            pytest.skip("PostgreSQL is not installed (Debian's postgresql; scripts/test.sh installs it when root)")
        yield server


@contextmanager
def running_postgres() -> Iterator[PostgresServer | None]:
    """A PostgreSQL server in a temporary directory for as long as the block runs; None when not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="integrations-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "timeout": 120}
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                     "-E", "UTF8"]), **run)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                     str(root / "log"), "-w", "start"]), **run)
        yield PostgresServer(bindir, root, port)
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
