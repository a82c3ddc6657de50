"""Identical output check for GetUserThirdPartyIntegration: today's source against another's (`--before SRC`, from
`git archive <commit> src`), in two processes, through a real MCP client session (tests/harness.py).

The answers: under every setting of the RevCent emulator's `Contract` (the default and each INFERRED one), 40 user
integrations over the five sites (secret-looking, look-alike and long names and descriptions; options saved, secret
ones too; credentials saved or not; enabled or not), each read twice; then each site changed at the emulator between
reads (a name, an option's label, a select choice added, a field made required) and every integration read again. Then
injected answers whose site integration is not what a site should be (a number for a boolean, NaN for an object, a
lone surrogate, a short id, a string, nothing), each once and after the valid one, and a RevCent error. Ids are drawn
from a seeded generator, so both processes see the same account. Compares every answer's isError, texts and
structuredContent byte for byte; prints how many are identical and the first difference; exits 1 on any.

Run: `git archive main src | tar -x -C /tmp/before` then
`.venv/bin/python benchmarks/revcent_read_identical.py --before /tmp/before/src`."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import identical  # noqa: E402  (the identical checks' common part)

TOOL = "GetUserThirdPartyIntegration"
NAMES = ["Tax main", "sk_live_" + "a1B2c3D4e5F6g7H8i9J0kLmN", "AKIAIOSFODNN7EXAMPLE", "x" * 200, "Ünïcode ｆｕｌｌ",
         "name\u200bwith zero width", "password=hunter2hunter2", "Shop 7"]
DESCRIPTIONS = ["", "plain", "d" * 300, "token: 0123456789abcdef0123456789abcdef", "xoxb-1234567890-abcdefghijklmnop"]
# A site integration RevCent should not send, each merged into a valid one (None: the key left out).
BAD_SITES: list[tuple[str, Any]] = [
    ("required", 1), ("required", 1.0), ("third_party_credentials", float("nan")), ("name", "lone \udc80"),
    ("id", "S" * 19), ("integration_type", None), ("third_party_options", "none"), ("", "S" * 20), ("", None)]


def answers() -> None:
    """The `_answers` role: every answer as one JSON line, with the source on PYTHONPATH."""
    from tests.harness import connect, revcent_emulator, revcent_settings

    from integrations_mcp.vendors.revcent.emulator import INFERRED, contract

    contract.secrets = random.Random(11)  # the emulator's ids (secrets.choice), the same in both processes
    draw = random.Random(7)

    def say(*parts: Any) -> None:
        print(json.dumps(parts, sort_keys=True), flush=True)  # escaped: a lone surrogate may pass

    def options(emu: Any, site_id: str) -> list[dict[str, Any]]:
        saved = []
        for option in emu.site_integrations[site_id]["third_party_options"]:
            fields = [{"id": f["id"], "value": [draw.choice(["yes", "no", "12345", "sk_live_" + "Z" * 24, "maybe"])]}
                      for f in option["fields"] if draw.random() < 0.6]
            if fields:
                saved.append({"id": option["id"], "fields": fields})
        return saved

    async def run() -> None:
        for label, switches in [("default", {})] + [(f"{k}={v}", {k: v}) for k, vs in INFERRED.items() for v in vs]:
            emu = revcent_emulator(**switches)
            sites = sorted(emu.site_integrations)
            for site_id in sites:  # a secret option field, as RevCent may have one
                hook = {"id": "webhook_secret", "name": "Webhook secret", "field_type": "input", "required": False}
                emu.site_integrations[site_id]["third_party_options"].append({"id": "hooks", "fields": [hook]})
            uids = [emu.add_user_integration(name=f"{NAMES[i % len(NAMES)]} {i}", site_id=site_id,
                                             description=DESCRIPTIONS[i % len(DESCRIPTIONS)],
                                             enabled=bool(i % 3 == 0), options_saved=options(emu, site_id))
                    for i, site_id in ((i, sites[i % len(sites)]) for i in range(40))]
            async with connect(revcent_settings(), revcent=emu) as rc:
                for round_ in ("first", "again"):
                    for uid in uids:
                        r = await rc.call(TOOL, {"user_third_party_integration_id": uid})
                        say(label, round_, r.is_error, [c.text for c in r.content], r.structured_content)
                for k, site_id in enumerate(sites):
                    site = emu.site_integrations[site_id]
                    option = site["third_party_options"][0]
                    if k % 4 == 0:
                        site["name"] += " (renamed)"
                    elif k % 4 == 1:
                        option["name"] = "Relabelled"
                    elif k % 4 == 2:
                        option["required"] = not option.get("required")
                    else:
                        option["fields"][0]["required"] = True
                    for f in option["fields"]:
                        if f.get("select_settings") and not f["select_settings"].get("third_party_asset"):
                            f["select_settings"]["options"].append("added")
                for uid in uids:
                    r = await rc.call(TOOL, {"user_third_party_integration_id": uid})
                    say(label, "changed", r.is_error, [c.text for c in r.content], r.structured_content)
        emu = revcent_emulator()
        uid = emu.add_user_integration(name="Injected", site_id=sorted(emu.site_integrations)[0])
        async with connect(revcent_settings(), revcent=emu) as rc:
            read = {"user_third_party_integration_id": uid}
            valid = json.loads(json.dumps(emu.view(emu.integration(uid))))
            for key, value in BAD_SITES:
                for first in (False, True):
                    if first:
                        await rc.call(TOOL, read)  # the valid site read just before
                    answer = copy.deepcopy({"code": 1, **valid})
                    site = answer["site_third_party_integration"]
                    if key == "required":
                        site["third_party_options"][0]["required"] = value
                    elif key:
                        site[key] = value
                    elif value is None:
                        del answer["site_third_party_integration"]
                    else:
                        answer["site_third_party_integration"] = value
                    emu.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="GET",
                                      status=200, body=json.dumps(answer).encode())
                    # Not the harness's `call`: its record of answers (JSON) cannot hold the lone surrogate that
                    # passes into an answer (before and after this benchmark was written).
                    r = await rc.client.call_tool(TOOL, read)
                    say("injected", key, repr(value), first, r.is_error, [c.text for c in r.content],
                        r.structured_content)
            emu.faults.inject(path_prefix=f"/v2/user_third_party_integrations/{uid}", method="GET", status=200,
                              body=json.dumps({"code": 0, "message": "Not found", "error_code": "x"}).encode())
            r = await rc.call(TOOL, read)
            say("error", r.is_error, [c.text for c in r.content], r.structured_content)

    anyio.run(run)


if __name__ == "__main__":
    identical.main(__file__, __doc__, answers)
