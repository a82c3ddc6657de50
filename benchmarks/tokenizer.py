"""Anthropic's tokenizer (npm `@anthropic-ai/tokenizer`, run by Node) and the FastMCP baseline's own venv, both
installed on first use into a cache directory ($BENCH_CACHE, default .cache/benchmarks in the repository) with the
registries' ordinary clients: never project dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("BENCH_CACHE") or HERE.parent / ".cache" / "benchmarks")
TOKENIZER = "@anthropic-ai/tokenizer@0.0.4"
FASTMCP = "fastmcp"
# The seed operations as the RevCent emulator ships them (the vendor documents, ../shared/seeds)
SEEDS = Path(os.environ.get("SEEDS_DIR") or HERE.parent / "src/integrations_mcp/vendors/revcent/emulator/schemas")


def _npm_prefix() -> Path:
    prefix = CACHE / "npm"
    if not (prefix / "node_modules" / "@anthropic-ai" / "tokenizer").is_dir():
        print(f"(installing {TOKENIZER} into {prefix})", file=sys.stderr)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), TOKENIZER],
                       check=True, stdout=sys.stderr)
    return prefix


def count_tokens(texts: list[str]) -> list[int]:
    """Anthropic-tokenizer counts of `texts`, in one Node run."""
    env = {**os.environ, "NODE_PATH": str(_npm_prefix() / "node_modules")}
    done = subprocess.run(["node", str(HERE / "count_tokens.cjs")], input=json.dumps(texts), capture_output=True,
                          text=True, env=env, check=True)
    return list(json.loads(done.stdout))


def tokens(text: str) -> int:
    return count_tokens([text])[0]


def _fastmcp_python() -> Path:
    venv = CACHE / "fastmcp-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"(installing {FASTMCP} into {venv})", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", FASTMCP], check=True, stdout=sys.stderr)
    return python


def fastmcp_baseline_tools() -> list[dict[str, object]]:
    """tools/list of FastMCP's OpenAPI importer over the three RevCent seed operations."""
    done = subprocess.run([str(_fastmcp_python()), str(HERE / "fastmcp_baseline.py"), str(SEEDS)],
                          capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))
