"""The output filter's known-secret matcher is built when the configured secrets change, and every channel (results,
log lines, journal images) uses that one: nothing is compiled per text or per line."""

from __future__ import annotations

import logging

import pytest

from integrations_mcp.guardrails import outputs
from integrations_mcp.guardrails.secrets import REDACTED
from integrations_mcp.pipeline.journal import journal_safe
from integrations_mcp.server.log_hygiene import CapabilityFilter

KEY = "team-token-Zq81mXc4Lp0vB7nR2sT9"


def test_one_matcher_per_set_of_configured_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[frozenset[str]] = []
    real = outputs.Scrubber

    def counting(secrets: frozenset[str]) -> outputs.Scrubber:
        built.append(frozenset(secrets))
        return real(secrets)

    monkeypatch.setattr(outputs, "Scrubber", counting)
    outputs.remember_configured_secrets((), also=[KEY])
    outputs.remember_configured_secrets((), also=[KEY, None, ""])  # the same set
    assert built == []  # built by the first text filtered: listing the tools needs none (cold start)

    log_filter = CapabilityFilter()
    for n in range(200):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %d with %s", (n, KEY[:12]), None)
        log_filter.filter(record)
        assert KEY[:8] not in record.getMessage() and REDACTED in record.getMessage()
    [image] = journal_safe({"note": f"key {KEY.upper()}", "nested": {"k": [KEY]}})
    assert image is not None and KEY.lower() not in repr(image).lower()
    assert outputs.clean_output({KEY: KEY}) == {REDACTED: REDACTED}
    assert built == [frozenset({KEY})]

    outputs.forget_configured_secrets()
    assert outputs.clean_text(KEY) == KEY and built == [frozenset({KEY}), frozenset()]
