"""Bounded work for any input: a huge or pathological argument, or a huge text stored at the vendor, is answered with
little CPU, and other clients are answered meanwhile (issue 19 item 1).

The bounds are loose on purpose (a loaded 2-core CI machine): the old secret scan took 8-19 s of CPU for 100,000
letters and no answer came for 8 MB within 80 s. benchmarks/bounded_work.py prints the figures.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.harness import connect, serve_stdio

pytestmark = pytest.mark.anyio

CPU_SECONDS = 1.0  # well under a second of CPU for the whole call, client included
PING_SECONDS = 1.0  # the longest a concurrent ping may wait


def letters(n: int) -> str:
    """A run of letters: the old URL rule's worst case (it rescanned the run once per letter)."""
    return ("abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]


def mixed(n: int) -> str:
    return ("aB3-eyJsk-T3BlbkFJ http://x" * (n // 26 + 1))[:n]


async def with_pings(other: Client, call: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """Run `call` while `other` keeps asking the server for its tools (the 2026 protocol has no ping: the cheapest
    request); (its result, the longest wait for an answer)."""
    longest, done = 0.0, anyio.Event()

    async def ping() -> None:
        nonlocal longest
        while not done.is_set():
            started = time.monotonic()
            await other.list_tools()
            longest = max(longest, time.monotonic() - started)
            await anyio.sleep(0.005)

    async with anyio.create_task_group() as group:
        group.start_soon(ping)
        try:
            result = await call()
        finally:
            done.set()
    return result, longest


SIZES = {"60k letters (scanned)": letters(60_000), "60k mixed (scanned)": mixed(60_000),
         "100k letters": letters(100_000), "8 MB": letters(8 * 1024 * 1024)}


@pytest.mark.parametrize("text", SIZES.values(), ids=SIZES.keys())
async def test_a_huge_argument_costs_little_cpu_and_a_second_client_is_answered_meanwhile(text: str) -> None:
    async with connect() as s, Client(s.server) as other:
        await other.list_tools()
        cpu = time.process_time()
        result, longest = await with_pings(other, lambda: s.call("CreateCxEngageIntegration", name="Big",
                                                                 type="rest", description=text))
        cpu = time.process_time() - cpu
        assert result.is_error and s.writes() == []
        assert cpu < CPU_SECONDS, f"{cpu:.2f} s of CPU"
        assert longest < PING_SECONDS, f"a ping waited {longest:.2f} s"
        # A read-only tool's argument is bounded the same way (the guard runs for every tool).
        cpu = time.process_time()
        read = await s.call("GetCxEngageIntegration", integration_id=text)
        assert read.is_error and time.process_time() - cpu < CPU_SECONDS


async def test_a_refused_huge_argument_is_never_echoed() -> None:
    async with connect() as s:
        text = await s.refused("CreateCxEngageIntegration", "too large at description", "Nothing was sent",
                               name="Big", type="rest", description=letters(100_000))
        assert "abcdefghij" not in text and len(text) < 1_000


@pytest.mark.parametrize("vendor", ["revcent", "cxengage"])
async def test_a_huge_description_stored_at_the_vendor_costs_little_on_every_list(vendor: str) -> None:
    async with connect() as s:
        for index in range(3):
            text = (letters if index % 2 else mixed)(100_000)
            if vendor == "revcent":
                s.revcent.add_user_integration(name=f"Long {index}", site_id=s.revcent.site_id("tax"),
                                               description=text)
            else:
                s.cxengage.add_integration(s.tenant or "", "rest", f"Long {index}", description=text)
        tool = "GetUserThirdPartyIntegrations" if vendor == "revcent" else "GetCxEngageIntegrations"
        cpu = time.process_time()
        listed = await s.ok(tool)
        cpu = time.process_time() - cpu
        assert listed and cpu < 3 * CPU_SECONDS, f"{cpu:.2f} s of CPU for 3 descriptions of 100,000 characters"


@pytest.mark.slow
@pytest.mark.parametrize("size", [150_000, 8 * 1024 * 1024], ids=["150k", "8 MB"])
async def test_over_stdio_a_huge_argument_is_answered_and_pings_meanwhile(size: int) -> None:
    async with serve_stdio("--sandbox") as stdio:
        await stdio.client.list_tools()
        with anyio.fail_after(20):  # was: no answer within 80 s for 8 MB, 40 s of CPU for 150,000 letters
            result, longest = await with_pings(stdio.client, lambda: stdio.client.call_tool(
                "GetUserThirdPartyIntegration", {"user_third_party_integration_id": letters(size)}))
        assert result.is_error and "too large" in result.content[0].text
        assert longest < 10 * PING_SECONDS  # the 8 MB message itself crosses the pipe and is parsed meanwhile
        listed = await stdio.client.call_tool("GetUserThirdPartyIntegrations", {})
        assert not listed.is_error
