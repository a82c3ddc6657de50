"""Identical output check for the output filter and the value scan: today's source against another's (`--before SRC`,
from `git archive <commit> src`), on the same strings, in two processes.

The strings: every string of real read answers (both vendors' read tools against the emulators, before the output
filter: texts, structuredContent keys and values) and random mixes of what the filter looks for: format hints and
samples, the configured keys with their prefixes, encodings and case changes, look-alikes (full-width, zero-width,
Cyrillic), blanks, `://`, userinfo, auth schemes, JSON; mixes whose only format hints are `:` and `.` (rows like
a CxEngage list's, the gated formats whole, split by blanks or with look-alikes); and mixes of what the output
filter's one-pass check finds only lower-cased or without blanks (hints in another case, scheme words alone, `://`
joined by removing blanks, keys' heads in another case or split). Each goes through `clean_text`,
`clean_output` (also with the value's JSON, as the server calls it, on values whose JSON hides what is not a
string, and on values holding many of these strings, nested, all but one at most let through whole),
`mask_secret_values` (with and without the entropy rule), `secret_kinds` and `find_secret_values` (with and without
hex tokens) twice (the second through the caches), under a team key set. Prints how many results came
out byte-identical; exits 1 on any difference (shown). Also each recorded answer read twice more (the kept texts and the
filter's memories of the answers): each must be byte-identical to the first.

Run: `git archive main src | tar -x -C /tmp/before` then
`.venv/bin/python benchmarks/filter_identical.py --before /tmp/before/src [--mixes 6000] [--seed 22]`."""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent

WORDS = ["integration", "token", "Bearer", "basic", "Basic", "password", "secret", "key", "AKIA", "ghp_", "sk_live_",
         "eyJ", "gl", "glpat-", "xoxb-", "SG.", "-us", "npm_", "T3BlbkFJ", "sq0csp-", "pypi-Ag", "AccountKey=",
         "-----BEGIN ", "PRIVATE KEY-----", "https://", "http://user:pw@", "?token=", "&api_key=", "://", "@", ":",
         "=", ".", "-", "_", "/", "{", "}", "[", "]", '"', "'", "0", "9", "M", "N", "O", "hooks.slack.com",
         "12345678:", "Tickets from the web shop", "sandboxSiteTax000001", "5a4db0c5-0000-4000-8000-000000000101"]
BLANKS = [" ", "  ", "\n", "\t", "\u00a0", "\u2800", "\u200b", "\u3000", ""]
LOOK = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "A": "\uff21", "1": "\uff11"}
# Mixes whose only format hints are one character (`:`, `.`: the gated Telegram and Discord formats), like a CxEngage
# list's rows (a UUID ending in a digit, then `:`): no longer hint sends them past the gates.
GATED = ["110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX", "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"]
PLAIN = [":", ".", ": ", "9", "1234567", "12345678:", "0123456789:", "110201543:",
         "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX", "MTk4NjIyNDgzNDcxOTI1MjQ4", ".Cl2FMQ.", "ZnCjm1XVW7vRze4b7Cq4se7kKWs",
         "Bench integration 0001 (rest, active)",
         "- 5a4db0c5-0000-4000-8000-000000000101: Sandbox order lookup (fake) (rest, active)"]
WIDE = {":": "\uff1a", ".": "\uff0e", "1": "\uff11", "0": "\u0660", "A": "\uff21"}  # canonical_chars: `:`, `.`, ...
# What the output filter's one-pass check finds only once the text is lower-cased or without blanks (`outputs._Quiet`):
# a hint in another case (`en-US` is not `-us`), a scheme word with no blank, `:` or `=` after it, `://` or
# `-----BEGIN ` made by removing blanks, a key's head in another case or split by a blank.
ALARMS = ["en-US", "es-US", "XOXB-", "Xox", "HOOKS.SLACK.COM", "Hooks. slack .com", "GL", "Gl", "EYJ", "akia", "Asia",
          "API token.", "tokens", "TOKEN", "Bearer", "basic", "digest-", ": //", ":/ /", "-----BEGIN", "-----BEGIN\n",
          "-----begin ", "sk_live", "K_LIVE_", "ghp", "GHP_"]


def alarm_piece(rng: random.Random, keys: list[str]) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(ALARMS)
    if kind == 1:  # a key's head in another case, or split by a blank
        head = rng.choice(keys)[:rng.choice([8, 9, 12])]
        at = rng.randrange(len(head) + 1)
        return rng.choice([head.swapcase(), head.lower(), head.upper(), head[:at] + rng.choice(BLANKS) + head[at:]])
    return rng.choice(PLAIN + ["Tax company", "(select, required)", "can_enable=false;", "Example Tax Co (sandbox)."])


def team_secrets(rng: random.Random) -> list[str]:
    """A team key set like benchmarks/team.py's: RevCent key (40 hex), CxEngage key (a UUID) and secret, the state
    key, six bearer tokens."""
    token = lambda: base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")  # noqa: E731
    return [rng.randbytes(20).hex(), "7f3c2a91-5be0-4c1e-9d7a-2f6b8e0c4d13", token(), rng.randbytes(32).hex(),
            *(token() for _ in range(6))]


def samples() -> list[str]:
    from integrations_mcp.guardrails.secret_values import KNOWN_FORMATS

    return [f.sample for f in KNOWN_FORMATS] + [h for f in KNOWN_FORMATS for h in f.hints]


def piece(rng: random.Random, keys: list[str], formats: list[str]) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        key = rng.choice(keys)
        cut = rng.choice([len(key), len(key), 8, 9, 12, rng.randrange(1, len(key) + 1)])
        form = rng.randrange(5)
        value = key[:cut]
        return [value, value.upper(), value.lower(), base64.b64encode(value.encode()).decode(), quote(value)][form]
    if kind == 1:
        return rng.choice(formats)
    if kind == 2:
        text = rng.choice(formats + keys)
        return "".join(LOOK.get(c, c) if rng.random() < 0.2 else c for c in text)
    if kind == 3:
        text = rng.choice(formats + keys)
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(BLANKS) + text[at:]
    if kind == 4:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=")
                       for _ in range(rng.choice([8, 16, 20, 32, 40, 43, 64])))
    if kind == 5:
        return f"https://{rng.choice(['u', 'user', rng.choice(keys)])}:{rng.choice(keys)[:20]}@h.example/p?" \
               f"{rng.choice(['token', 'x', 'api_key', 'sig'])}={rng.choice(keys)[:rng.randrange(4, 30)]}"
    if kind == 6:
        scheme, between = rng.choice(["Bearer", "basic", "Token", "digest"]), rng.choice([" ", ": ", "=", "\t"])
        value = rng.choice([rng.choice(keys), base64.b64encode(b"user:" + rng.randbytes(6)).decode(), "word"])
        return scheme + between + value
    if kind == 7:
        return json.dumps({rng.choice(WORDS): rng.choice(keys + WORDS)})
    return rng.choice(WORDS)


def plain_piece(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:  # a list row: a UUID ending in a digit, then a colon
        row = str(uuid.UUID(bytes=rng.randbytes(16)))[:-1] + str(rng.randrange(10))
        return f"- {row}: Integration {rng.randrange(1000)} (rest, active)"
    if kind == 1:  # a gated format whole, or with a blank inside (a token split by spaces or lines)
        text = rng.choice(GATED)
        at = rng.randrange(len(text) + 1)
        return text if rng.random() < 0.5 else text[:at] + rng.choice(BLANKS) + text[at:]
    if kind == 2:  # a gated format with look-alike characters that canonical_chars changes back
        return "".join(WIDE.get(c, c) if rng.random() < 0.1 else c for c in rng.choice(GATED))
    return rng.choice(PLAIN)


def corpus(seed: int, mixes: int) -> dict[str, Any]:
    rng = random.Random(seed)
    keys = team_secrets(rng)
    formats = samples()
    strings = [rng.choice(BLANKS).join(piece(rng, keys, formats) for _ in range(rng.randint(1, 8)))
               for _ in range(mixes)]
    strings += [rng.choice(["", " ", "\n", "\n", "\t"]).join(plain_piece(rng) for _ in range(rng.randint(1, 12)))
                for _ in range(mixes // 3)]
    strings += [rng.choice(["", " ", " ", "\n", "\t"]).join(alarm_piece(rng, keys) for _ in range(rng.randint(1, 10)))
                for _ in range(mixes // 3)]
    return {"secrets": keys, "strings": strings}


async def recorded(secrets: list[str]) -> list[Any]:
    """Every read tool's result before the output filter (texts and structuredContent), in memory against the
    emulators, the filter knowing `secrets`."""
    from emulated import emulated_server
    from mcp import Client

    from integrations_mcp.guardrails import outputs
    from integrations_mcp.toolkit import server as toolkit_server
    from integrations_mcp.vendors.cxengage import emulator as cx
    from integrations_mcp.vendors.revcent import emulator as rc

    revcent, cxengage = rc.RevCentEmulator(), cx.CxEngageEmulator()
    for n in range(60):
        cxengage.add_integration(cx.SANDBOX_TENANT_ID, ("rest", "zendesk", "salesforce")[n % 3], f"Integration {n}",
                                 description=f"Look-ups for team {n % 7}; token: {secrets[n % len(secrets)][:12]}")
    server = emulated_server(revcent, cxengage)
    outputs.remember_configured_secrets([], also=secrets)
    seen: list[Any] = []
    original = toolkit_server._clean_result

    def record(result: Any, links: set[str], *more: Any) -> None:
        seen.append([c.text for c in result.content if hasattr(c, "text")])
        seen.append(result.structured_content)
        original(result, links, *more)

    toolkit_server._clean_result = record
    calls = [("GetSiteThirdPartyIntegrations", {"limit": 25}),
             ("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": revcent.site_id("tax")}),
             ("GetUserThirdPartyIntegrations", {}), ("GetCxEngageIntegrations", {"limit": 200}),
             ("GetCxEngageIntegrations", {"name": "1"}),
             ("GetCxEngageIntegration", {"integration_id": cx.SANDBOX_INTEGRATION_ID})]
    try:
        async with Client(server) as client:
            answers = [await client.call_tool(tool, arguments) for tool, arguments in calls]
            toolkit_server._clean_result = original
            # Read again: answers from the kept texts and the filter's memories, as a record read again is served.
            for _ in range(2):
                for (tool, arguments), first in zip(calls, answers, strict=True):
                    again = await client.call_tool(tool, arguments)
                    REPEATS.append(again.model_dump(mode="json") == first.model_dump(mode="json"))
    finally:
        toolkit_server._clean_result = original
    return seen


REPEATS: list[bool] = []  # per answer read again: byte-identical to the first


def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_of(k), *strings_of(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_of(item)]
    return []


def packed(rng: random.Random, clean: list[str], dirty: list[str]) -> dict[str, Any]:
    """Strings of the corpus in one value, nested (lists in dicts in lists), keys among them: all of them `clean`
    (the filter lets them through) but at most one, at any place, from `dirty`: the output filter's one pass over a
    value's JSON must tell which string it found something in, and miss none."""
    places = 12 + rng.randint(0, 6)
    odd = rng.randrange(places) if dirty and rng.random() < 0.8 else -1
    strings = iter([rng.choice(dirty) if i == odd else rng.choice(clean) for i in range(places)])
    pick = lambda: next(strings)  # noqa: E731
    return {pick(): [pick(), {"k": pick(), pick(): [pick(), 7, None, [pick(), True]]}], "n": 1.5,
            "t": [pick() for _ in range(places - 12)], pick(): {pick(): pick()}, "u": [pick(), pick(), pick()]}


def json_plain(text: str) -> bool:
    """Written in JSON as it is: ASCII, no quote, backslash or control character (nothing escaped)."""
    return text.isascii() and '"' not in text and "\\" not in text and all(ord(c) >= 32 for c in text)


def unscanned(secrets: list[str]) -> list[Any]:
    """Values with places the filter does not scan (a UUID object, an int key, a tuple) whose JSON is that of a value
    with strings there (the configured secrets among them): `clean_output`'s JSON memory must not mix them up."""
    key = secrets[1]  # a UUID, like CxEngage's key
    values: list[Any] = []
    for secret in secrets[:4]:
        values += [{"k": uuid.UUID(key)}, {"k": key}, {7: secret[:12]}, {"7": secret[:12]}, {"t": (secret,)},
                   {"t": [secret]}, {"s": f"{secret} in a text longer than the short ones remembered, " * 2}]
    return values


def emit(path: str) -> None:
    """The `_emit` role: run every function on the corpus in `path` with the source on PYTHONPATH; results as JSON
    on stdout. `clean_output` also with the value's JSON (`as_json`, where the source has it; the same call without
    it where not), as the server calls it for every answer."""
    import inspect

    import pydantic_core

    from integrations_mcp.guardrails import outputs
    from integrations_mcp.guardrails.secret_values import find_secret_values, mask_secret_values, secret_kinds

    data = json.loads(Path(path).read_text())
    outputs.remember_configured_secrets([], also=data["secrets"])
    by_json = "as_json" in inspect.signature(outputs.clean_output).parameters

    def clean_as_served(value: Any) -> Any:
        shape = pydantic_core.to_json(value, fallback=str)
        return outputs.clean_output(value, as_json=shape) if by_json else outputs.clean_output(value)

    out: list[Any] = []
    for _ in range(2):  # the second round through the caches
        for text in data["strings"]:
            out += [outputs.clean_text(text), mask_secret_values(text, entropy=False), mask_secret_values(text),
                    secret_kinds(text), secret_kinds(text, entropy=False, hex_tokens=True)]
        for value in data["values"]:
            out += [outputs.clean_output(value), clean_as_served(value), list(find_secret_values(value)),
                    list(find_secret_values(value, hex_tokens=True, random_keys=frozenset({"consumerkey"})))]
        out += [repr(clean_as_served(value)) for value in unscanned(data["secrets"])]
    json.dump(out, sys.stdout)


def run(source: str | None, path: str) -> list[Any]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
    if source:
        env["PYTHONPATH"] = source
    done = subprocess.run([sys.executable, __file__, "_emit", path], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout)


def main() -> None:
    import logging

    import anyio

    logging.disable(logging.INFO)  # the emulators' and clients' request lines
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the other source folder (its src)")
    parser.add_argument("--mixes", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    data = corpus(args.seed, args.mixes)
    values = anyio.run(recorded, data["secrets"])
    data["strings"] += [s for value in values for s in strings_of(value)]
    data["values"] = [v for v in values if isinstance(v, dict)] + [json.loads(json.dumps({"k": s, s[:40]: [s]}))
                                                                     for s in data["strings"][:2000]]
    # Many strings in one value, all but one at most let through whole: most written as they are (the one-pass
    # check of an ASCII JSON), some escaped.
    from integrations_mcp.guardrails import outputs

    outputs.remember_configured_secrets([], also=data["secrets"])
    rng = random.Random(args.seed + 1)
    sorts: dict[bool, list[str]] = {True: [], False: []}
    for text in data["strings"]:
        sorts[outputs.clean_text(text) == text].append(text)
    plain = {whole: [s for s in texts if json_plain(s)] for whole, texts in sorts.items()}
    quiet = outputs._current.quiet  # the clean ones the one-pass check lets through alone, with no false alarm
    silent = [s for s in plain[True] if quiet is None or quiet(s, s.encode())]
    data["values"] += [packed(rng, silent, plain[False]) for _ in range(2000)] + \
        [packed(rng, plain[True], plain[False]) for _ in range(1000)] + \
        [packed(rng, sorts[True], sorts[False]) for _ in range(500)]
    outputs.forget_configured_secrets()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(data, file)
    try:
        before, after = run(args.before, file.name), run(None, file.name)
    finally:
        os.unlink(file.name)
    differ = [(i, b, a) for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    print(f"{len(data['strings'])} strings and {len(data['values'])} JSON values ({len(values) // 2} recorded "
          f"answers), {len(after)} results (each function, twice): {len(after) - len(differ)} byte-identical, "
          f"{len(differ)} different")
    print(f"answers read again (kept texts, the filter's memories): {sum(REPEATS)} of {len(REPEATS)} identical to "
          "the first")
    for index, b, a in differ[:10]:
        print(f"  result {index}: before {json.dumps(b)[:300]}\n  {'':>{len(str(index)) + 9}}after  "
              f"{json.dumps(a)[:300]}")
    sys.exit(1 if differ or not all(REPEATS) else 0)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_emit":
        emit(sys.argv[2])
    else:
        main()
