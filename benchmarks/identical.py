"""What the `*_identical.py` checks share: each script's `_answers` role prints every answer as one JSON line (its
isError third from the end), run once with older source first on PYTHONPATH (`--before SRC`) and once with this
source; the lines are compared byte for byte, the first difference printed, exit 1 on any."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable


def collect(script: str, pythonpath: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "PATH", "LANG", "TMPDIR")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([sys.executable, script, "_answers"], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def main(script: str, doc: str | None, answers: Callable[[], None]) -> None:
    """A check's entry: `answers()` in its `_answers` role, else the comparison."""
    if sys.argv[1:2] == ["_answers"]:
        answers()
        return
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the other source folder (its src)")
    args = parser.parse_args()
    before = collect(script, os.pathsep.join(filter(None, [args.before, os.environ.get("PYTHONPATH")])))
    after = collect(script, os.environ.get("PYTHONPATH"))
    same = sum(a == b for a, b in zip(before, after, strict=False))
    errors = sum(json.loads(line)[-3] is True for line in after)
    print(f"{len(after)} answers ({errors} of them errors), {same} byte-identical to {args.before}'s "
          f"({len(before)} answers)")
    for a, b in zip(before, after, strict=False):
        if a != b:
            print(f"first difference:\n  before {a[:600]}\n  after  {b[:600]}")
            break
    sys.exit(0 if same == len(after) == len(before) else 1)
