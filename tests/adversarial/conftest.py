"""The adversarial suites: fixed, seeded budgets that fit CI; each adds its counts to one summary line.

Read retries wait no time here (stamina's test mode keeps the attempts, drops the backoff), so a suite's time is
the server's own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import stamina

from integrations_mcp.vendor_http import READ_ATTEMPTS

COUNTS: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=READ_ATTEMPTS):
        yield


@pytest.fixture
def counts() -> Counter[str]:
    return COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.write_sep("-", "adversarial suites")
        terminalreporter.write_line(", ".join(f"{key}: {value}" for key, value in sorted(COUNTS.items())))
