"""The output filter's known-secret part per tool call, before (issue 22) and after, side by side in one run.

Every string one tool call hands to the filter (text, every string of structuredContent, keys included, the error
text of a refusal) is recorded from real calls against the emulators; then each configuration's secret set masks
them with today's algorithm (one regex per prefix per variant, through `re`'s 512-pattern cache: the reference kept
in tests/guardrails/test_scrubber.py) and with the one-pass `Scrubber`, interleaved. Printed: median and p95 ms per
call, the ratio, the rest of the filter (invisible characters and secret-looking values, unchanged here) for scale,
and how many strings came out byte-identical (the recorded strings, and the same strings with a key, a prefix and
an encoding of one planted).

Run: `.venv/bin/python benchmarks/output_filter.py [--rounds 5]` (today's takes seconds per call on the team file)"""

from __future__ import annotations

import argparse
import base64
import logging
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reference lives in the tests

from emulated import emulated_server  # noqa: E402  (this folder: run as a script)
from tests.guardrails.test_scrubber import reference  # noqa: E402

from integrations_mcp.guardrails import outputs  # noqa: E402
from integrations_mcp.guardrails.scrubber import Scrubber  # noqa: E402
from integrations_mcp.guardrails.secret_values import mask_secret_values  # noqa: E402
from integrations_mcp.guardrails.secrets import REDACTED  # noqa: E402
from integrations_mcp.guardrails.text import visible  # noqa: E402
from integrations_mcp.vendors.cxengage import emulator as cxengage  # noqa: E402
from integrations_mcp.vendors.revcent import emulator as revcent  # noqa: E402

SANDBOX = [revcent.SANDBOX_API_KEY, cxengage.SANDBOX_API_KEY, cxengage.SANDBOX_API_SECRET]


def _token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters: a bearer token, a state key


CONFIGURATIONS = {
    "sandbox keys": SANDBOX,
    "HTTP auth + state key": [*SANDBOX, _token(), _token()],
    # RevCent key (40 hex), CxEngage key (a UUID) and secret, the state key, six bearer tokens.
    "team file (6 tokens)": [secrets.token_hex(20), "7f3c2a91-5be0-4c1e-9d7a-2f6b8e0c4d13", _token(), _token(),
                             *(_token() for _ in range(6))],
}


async def record_calls() -> list[tuple[str, list[str]]]:
    """(tool, the strings the filter saw) for a set of typical calls: reads of both vendors and a refusal."""
    seen: list[str] = []

    rc, cx = revcent.RevCentEmulator(), cxengage.CxEngageEmulator()
    server = emulated_server(rc, cx)
    tax = rc.site_id("tax")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("GetSiteThirdPartyIntegrations", {"limit": 25}),
        ("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": tax}),
        ("GetUserThirdPartyIntegrations", {}),
        ("GetCxEngageIntegrations", {}),
        ("GetCxEngageIntegration", {"integration_id": cxengage.SANDBOX_INTEGRATION_ID}),
        ("CreateCxEngageIntegration", {"name": "x", "type": "zendesk", "properties": {"password": "hunter2-x"}}),
    ]
    recorded = []
    known = outputs._current  # the server's secrets
    real = known.scrubber

    def recording(text: str) -> str:
        seen.append(text)
        return real(text)

    # Every string of every call, the short ones that passed before included (the filter skips those).
    known.scrubber, outputs.PASSING_MAX_CHARS = recording, -1  # type: ignore[assignment]
    try:
        async with Client(server) as client:
            for tool, arguments in calls:
                seen.clear()
                await client.call_tool(tool, arguments)
                recorded.append((tool, list(seen)))
    finally:
        known.scrubber, outputs.PASSING_MAX_CHARS = real, 64
    return recorded


def _planted(strings: list[str], keys: list[str]) -> list[str]:
    """The strings again, each with one key planted: whole, a 12-character prefix, base64, upper-cased."""
    out = []
    for index, text in enumerate(strings):
        key = keys[index % len(keys)]
        form = [key, key[:12], base64.b64encode(key.encode()).decode(), key.upper()][index % 4]
        out.append(f"{text[:len(text) // 2]} {form} {text[len(text) // 2:]}")
    return out


def _filter_rest(strings: list[str]) -> None:
    for text in strings:
        mask_secret_values(visible(text), REDACTED, entropy=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    logging.disable(logging.WARNING)  # the calls' own log lines
    calls = anyio.run(record_calls)
    everything = [s for _, strings in calls for s in strings]
    print(f"{len(calls)} calls, {len(everything)} strings, {sum(map(len, everything))} characters per round "
          f"({', '.join(f'{tool}: {len(strings)}' for tool, strings in calls)})")
    print(f"{'configuration':<24}{'secrets':>8}{'variants':>9}{'old ms/call':>13}{'new ms/call':>13}"
          f"{'old/new':>9}{'old p95':>9}{'new p95':>9}{'rest ms':>9}{'identical':>15}")
    for name, keys in CONFIGURATIONS.items():
        built = time.perf_counter()
        new = Scrubber(keys)
        build_ms = (time.perf_counter() - built) * 1000
        old_times: list[float] = []
        new_times: list[float] = []
        rest_times: list[float] = []
        for _ in range(rounds):
            for _tool, strings in calls:
                start = time.perf_counter()
                for text in strings:
                    reference(text, keys, every_prefix=False, cached=False)
                old_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                for text in strings:
                    new(text)
                new_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                _filter_rest(strings)
                rest_times.append(time.perf_counter() - start)
        checked = everything + _planted(everything, keys)
        same = sum(new(text) == reference(text, keys, every_prefix=False, cached=False) for text in checked)
        old_ms, new_ms = statistics.median(old_times) * 1000, statistics.median(new_times) * 1000
        p95 = int(0.95 * len(old_times))
        print(f"{name:<24}{len(keys):>8}{len(new.variants):>9}{old_ms:>13.3f}{new_ms:>13.3f}{old_ms / new_ms:>8.0f}x"
              f"{sorted(old_times)[p95] * 1000:>9.2f}{sorted(new_times)[p95] * 1000:>9.3f}"
              f"{statistics.median(rest_times) * 1000:>9.3f}{f'{same}/{len(checked)}':>15}")
        print(f"{'':<24}(Scrubber built once in {build_ms:.1f} ms)")


if __name__ == "__main__":
    main()
