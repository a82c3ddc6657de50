"""The state store on SQLite: schema migrated on first use, a newer database refused with a clear message, the
journal's retention, and vendor-hosted forms spent once across servers sharing the file (a restart forgets nothing)."""

from __future__ import annotations

import subprocess
import time
from importlib.resources import files
from pathlib import Path

import anyio
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.state import StateError, StateStore
from integrations_mcp.state.forms import SpentFormTable, spent_form_key
from integrations_mcp.state.journal import ChangeFilter, ChangeRow, JournalTable
from integrations_mcp.state.store import KNOWN_VERSIONS
from tests.harness import SERVE, clean_env, connect, revcent_emulator, revcent_settings
from tests.vendors.revcent.helpers import completed_form

pytestmark = pytest.mark.anyio

_CONFIG = Config()
_CONFIG.set_main_option("script_location", str(files("integrations_mcp.state") / "migrations"))
HEAD = ScriptDirectory.from_config(_CONFIG).get_current_head()


async def test_a_fresh_file_is_created_and_migrated_to_head(tmp_path: Path) -> None:
    store = StateStore(f"sqlite+aiosqlite:///{tmp_path}/new.sqlite3")
    async with store.begin() as conn:
        version = (await conn.execute(text("select version_num from alembic_version"))).scalar_one()
    await store.close()
    assert version == HEAD and (tmp_path / "new.sqlite3").exists()


async def test_an_older_schema_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.sqlite3"
    old = StateStore(url)
    async with old.engine.begin() as conn:
        await conn.run_sync(_upgrade_to, "0001")
        await conn.execute(text("insert into spent_forms values ('revcent', 'F1', 1.0)"))
    await old.close()
    store = StateStore(url)
    async with store.begin() as conn:
        assert (await conn.execute(text("select version_num from alembic_version"))).scalar_one() == HEAD
        assert (await conn.execute(text("select form_id from spent_forms"))).scalar_one() == spent_form_key("revcent",
                                                                                                             "F1")
    assert await SpentFormTable(store, "revcent").is_spent("F1")  # hashed in place: a used form stays used
    await store.close()


def _upgrade_to(conn: object, revision: str) -> None:
    _CONFIG.attributes["connection"] = conn
    command.upgrade(_CONFIG, revision)


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/newer.sqlite3"
    store = StateStore(url)
    async with store.begin() as conn:
        await conn.execute(text("update alembic_version set version_num = '9999'"))
    await store.close()
    with pytest.raises(StateError) as refusal:
        await StateStore(url).migrate()
    assert "'9999', newer than this" in str(refusal.value) and "Upgrade integrations-mcp" in str(refusal.value)
    assert isinstance(refusal.value, ConfigurationError)  # the CLI prints it and exits with code 2


def test_the_versions_known_without_alembic_are_alembics() -> None:
    """`serve` over stdio checks a SQLite file's version with these (no Alembic at start)."""
    script = ScriptDirectory.from_config(_CONFIG)
    assert tuple(r.revision for r in reversed(list(script.walk_revisions()))) == KNOWN_VERSIONS


async def test_the_start_check_refuses_a_newer_file_and_leaves_others_to_the_first_use(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/checked.sqlite3"
    StateStore(url).check_version()  # no file yet: nothing made
    assert not (tmp_path / "checked.sqlite3").exists()
    store = StateStore(url)
    async with store.begin() as conn:
        StateStore(url).check_version()  # at head: fine (and the file is not locked by a reader)
        await conn.execute(text("update alembic_version set version_num = '9999'"))
    await store.close()
    with pytest.raises(StateError, match="'9999', newer than this integrations-mcp knows"):
        StateStore(url).check_version()


async def test_a_database_found_newer_at_first_use_refuses_the_write_with_the_reason(tmp_path: Path) -> None:
    """A server that started before another upgraded the file: the first write that needs the journal says why."""
    url = f"sqlite+aiosqlite:///{tmp_path}/later.sqlite3"
    revcent = revcent_emulator()
    async with connect(revcent_settings(state_url=url), revcent=revcent) as session:
        store = StateStore(url)
        async with store.begin() as conn:
            await conn.execute(text("update alembic_version set version_num = '9999'"))
        await store.close()
        await session.refused("CreateUserThirdPartyIntegration", "newer than this integrations-mcp knows",
                              name="One", site_third_party_integration=revcent.site_id("tax"))


async def test_a_database_that_cannot_be_opened_is_named_by_the_first_call_that_needs_it(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    url = f"sqlite+aiosqlite:///{tmp_path}/a-file/state.sqlite3"  # its folder is a file: SQLite cannot open it
    async with connect(revcent_settings(state_url=url)) as session:
        assert (await session.client.list_tools()).tools  # built and listed without touching the database
        answer = await session.client.call_tool("GetIntegrationChanges", {})
    text = answer.content[0].text
    assert answer.is_error and text.startswith("Server error: GetIntegrationChanges cannot run: The state database")
    assert "cannot be opened" in text and "operator must fix its configuration" in text


@pytest.mark.parametrize("url, needle", [("nonsense", "not a database URL"),
                                         ("mysql+aiomysql://u@h/db", "must be a sqlite")])
def test_bad_urls_are_refused(url: str, needle: str) -> None:
    with pytest.raises(StateError, match=needle):
        StateStore(url)


async def test_the_journal_forgets_changes_older_than_its_retention() -> None:
    table = JournalTable(StateStore("sqlite+aiosqlite:///:memory:"), retention_days=1)
    row = ChangeRow(principal="p", tool="t", vendor="revcent", target="x", outcome="refused", changes=[])
    await table.add(ChangeRow(**{**row.__dict__, "at": time.time() - 2 * 86400}))
    kept = await table.add(row)
    rows, total, _ = await table.find(ChangeFilter(), limit=10)
    assert [r.id for r in rows] == [kept] and total == 1


async def test_a_revcent_form_spent_on_one_server_is_refused_on_another_sharing_the_file(tmp_path: Path) -> None:
    settings = revcent_settings(state_url=f"sqlite+aiosqlite:///{tmp_path}/shared.sqlite3")
    revcent = revcent_emulator()
    async with connect(settings, revcent=revcent) as first:
        form_id = await completed_form(first.client, revcent)
        await first.ok("CreateUserThirdPartyIntegration", name="One", secure_form_id=form_id,
                       site_third_party_integration=revcent.site_id("tax"))
    async with connect(settings, revcent=revcent) as restarted:  # a new server process on the same database
        # The form was its first session's (issue 18): the new server cannot even open it.
        await restarted.refused("CreateUserThirdPartyIntegration", "for this session", name="Two",
                                site_third_party_integration=revcent.site_id("tax"), secure_form_id=form_id)
        assert (await restarted.ok("GetIntegrationChanges"))["total"] == 2
    assert [r.name for r in revcent.user_integrations.values()].count("Two") == 0


@pytest.mark.slow
def test_serve_refuses_to_start_on_a_newer_database_or_postgresql_without_a_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/newer.sqlite3"

    async def newer() -> None:
        store = StateStore(url)
        async with store.begin() as conn:
            await conn.execute(text("update alembic_version set version_num = '9999'"))
        await store.close()

    anyio.run(newer)
    for env, needle in [({"INTEGRATIONS_STATE_URL": url}, "newer than this integrations-mcp"),
                        ({"INTEGRATIONS_STATE_URL": "postgresql+asyncpg://u@127.0.0.1:1/db"},
                         "INTEGRATIONS_STATE_KEY is required")]:
        done = subprocess.run([*SERVE, "--sandbox"], env=clean_env(**env), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        assert done.returncode == 2 and needle in done.stderr, done.stderr[-2000:]


@pytest.mark.slow
def test_processes_starting_together_on_a_new_file_all_migrate_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/together.sqlite3"
    code = f"import anyio; from integrations_mcp.state import StateStore; anyio.run(StateStore({url!r}).migrate)"
    processes = [subprocess.Popen([SERVE[0], "-c", code], stderr=subprocess.PIPE, text=True, env=clean_env())
                 for _ in range(4)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
