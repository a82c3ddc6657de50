"""Reads are retried with backoff and jitter after a dropped connection or a 429/502/503/504, honouring
Retry-After; writes are never retried (their outcome is settled by reading back)."""

from __future__ import annotations

import time

import pytest

from integrations_mcp.vendor_http import READ_ATTEMPTS
from tests.harness import connect, cxengage_settings
from tests.vendors.cxengage.helpers import REST_ID, collection_path, item_path

pytestmark = pytest.mark.anyio


def gets(session, path: str) -> int:  # noqa: ANN001
    return sum(1 for r in session.cxengage.requests if r.method == "GET" and r.path == path)


@pytest.mark.parametrize("fault", [{"status": 503}, {"status": 502, "body": b"<html>"}, {"reset": True},
                                   {"status": 429, "body": b"{}"}])
async def test_a_read_that_fails_once_is_retried(fault: dict) -> None:
    async with connect(cxengage_settings()) as cx:
        cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", **fault)
        assert (await cx.ok("GetCxEngageIntegrations"))["count"] >= 1
        assert gets(cx, collection_path()) == 2


async def test_a_read_that_keeps_failing_gives_up_after_the_attempts() -> None:
    async with connect(cxengage_settings()) as cx:
        cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=503, times=None)
        await cx.refused("GetCxEngageIntegrations", "http_status=503")
        assert gets(cx, collection_path()) == READ_ATTEMPTS


async def test_retry_after_is_honoured_and_a_long_one_is_passed_on() -> None:
    async with connect(cxengage_settings()) as cx:
        cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=429, body=b"{}")
        started = time.monotonic()
        await cx.ok("GetCxEngageIntegrations")
        assert gets(cx, collection_path()) == 2
        assert time.monotonic() - started < 5

        # A vendor asking for a pause longer than the server waits: its answer is passed on at once.
        cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=429, times=None,
                                  body=b'{"error":{"code":429,"message":"slow down"}}', headers={"retry-after": "120"})
        started = time.monotonic()
        await cx.refused("GetCxEngageIntegrations", "http_status=429")
        assert time.monotonic() - started < 5 and gets(cx, collection_path()) == 3

        cx.cxengage.faults.clear()
        cx.cxengage.faults.inject(path_prefix=collection_path(), method="GET", status=429, body=b"{}",
                                  headers={"retry-after": "1"})
        started = time.monotonic()
        await cx.ok("GetCxEngageIntegrations")
        assert time.monotonic() - started >= 1.0


async def test_a_write_is_never_retried() -> None:
    async with connect(cxengage_settings()) as cx:
        cx.cxengage.faults.inject(path_prefix=item_path(REST_ID), method="PUT", status=503, times=None)
        text = await cx.refused("EditCxEngageIntegration", integration_id=REST_ID, description="Once")
        assert sum(1 for r in cx.cxengage.requests if r.method == "PUT") == 1
        assert "GetCxEngageIntegration" in text  # the read that settles whether it happened
