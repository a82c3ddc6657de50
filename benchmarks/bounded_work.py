"""Figures for bounded work (issue 19 item 1): the secret scan's worst case over pathological texts, the CPU of a
tool call with a huge argument (in process, through a real MCP client session), and what the look-alike table costs.

    .venv/bin/python benchmarks/bounded_work.py
"""

from __future__ import annotations

import subprocess
import sys
import time

import anyio

from integrations_mcp.guardrails.secret_values import KNOWN_FORMATS, mask_secret_values, secret_kinds


def pathological(n: int) -> dict[str, str]:
    """Texts of `n` characters repeating what each rule starts with or is made of."""
    seeds = ["a", "aB3", "a-", "a ", "0f", "eyJ", "eyJ=", "http://", "a://", "?token=a&", "bearer  ", "-----BEGIN ",
             "1234567890:", "xoxb-1-", "a\u200b", "ａ"]
    for rule in KNOWN_FORMATS:
        seeds += [*rule.hints, rule.sample[:-1], rule.sample[:len(rule.sample) // 2]]
    return {seed: (seed * (n // len(seed) + 1))[:n] for seed in dict.fromkeys(seeds)}


def scan_figures() -> None:
    for n in (64_000, 100_000, 1_000_000):
        worst = (0.0, "")
        for seed, text in pathological(n).items():
            started = time.process_time()
            secret_kinds(text, hex_tokens=True)
            mask_secret_values(text)
            worst = max(worst, (time.process_time() - started, seed))
        print(f"secret scan, worst of {len(pathological(n))} pathological texts of {n:>9,} characters: "
              f"{worst[0] * 1000:7.1f} ms ({worst[1][:24]!r})")


async def call_figures() -> None:
    from tests.guardrails.test_bounded_work import letters
    from tests.harness import connect

    async with connect() as s:
        for n in (60_000, 100_000, 8 * 1024 * 1024):
            started = time.process_time()
            await s.call("CreateCxEngageIntegration", name="Big", type="rest", description=letters(n))
            print(f"CreateCxEngageIntegration with a {n:>9,}-character description: "
                  f"{(time.process_time() - started) * 1000:7.1f} ms of CPU")


def import_figures() -> None:
    code = ("import time; t = time.perf_counter(); import integrations_mcp.guardrails.text as T; "
            "a = time.perf_counter(); T.name_key('Тах'); b = time.perf_counter(); "
            "print(f'{(a - t) * 1000:.1f} {(b - a) * 1000:.1f}')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, table = done.stdout.split()
    print(f"guardrails.text import: {imported} ms; confusables table, loaded on the first name comparison: {table} ms")


if __name__ == "__main__":
    scan_figures()
    anyio.run(call_figures)
    import_figures()
