"""Seams between the journal, revert, the guardrails and the state database: each test crosses two features that
were built and tested apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations_mcp.vendors.cxengage.emulator import CxEngageEmulator
from tests.harness import Session, both_settings, connect, revcent_emulator, text_of
from tests.journal.test_journal import changes, database_text
from tests.vendors.cxengage.helpers import T

pytestmark = pytest.mark.anyio

NESTED_SECRET = "nested-Authorization-canary-3c9e"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


@pytest.fixture
async def s(db: Path) -> Session:
    async with connect(both_settings(state_url=f"sqlite+aiosqlite:///{db}"),
                       revcent=revcent_emulator(), cxengage=CxEngageEmulator()) as session:
        yield session


MASKED_BEFORE = {  # type, saved properties, the edit's properties
    "nested secret key": ("twilio", {"accountSid": "AC1", "region": "ie1",
                                     "globalDialParams": {"Authorization": NESTED_SECRET, "x": "1"}},
                          {"globalDialParams": {"x": "2"}}),
    "URL password in a plain property": ("rest", {"endpointPrefix": f"https://svc:{NESTED_SECRET}@x.invalid/"},
                                         {"endpointPrefix": "https://x.invalid/"}),
}


@pytest.mark.parametrize("case", MASKED_BEFORE)
async def test_a_revert_never_sends_a_masked_secret_as_a_value(s: Session, db: Path, case: str) -> None:
    """A before-image holding a secret inside a plain property is journaled with the mask in it ({"Authorization":
    "[redacted]"}, "https://svc:[redacted]@..."): reverting must not write the mask over the real secret."""
    kind, saved, edit = MASKED_BEFORE[case]
    iid = s.cxengage.add_integration(T, kind, f"Masked {case}", {})
    s.cxengage.integrations[T][iid].properties.update(saved)
    await s.ok("EditCxEngageIntegration", integration_id=iid, properties=edit, confirm_overwrite=True)
    change = (await changes(s, vendor="cxengage"))[0]
    assert NESTED_SECRET not in database_text(db)
    writes = len(s.cxengage.writes())
    result = await s.call("RevertIntegrationChange", change_id=change["id"], confirm_revert=True)
    sent = [w.json() for w in s.cxengage.writes()[writes:]]
    assert all("[redacted]" not in repr(body) for body in sent), sent
    assert result.is_error and "secure form" in text_of(result), text_of(result)
    assert s.cxengage.integrations[T][iid].properties[next(iter(edit))] == edit[next(iter(edit))]
