#!/usr/bin/env bash
# One command, fresh machine: install the project, the browser the secure-form test drives, then lint and test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the real-browser test (a few minutes)..." >&2
    { apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; } >/dev/null 2>&1 \
        || echo "chromium could not be installed: the browser test will be skipped" >&2
fi
# The official MCP conformance suite and the Node 22 it needs, from the npm registry (tests/server/test_conformance.py).
if [ ! -x "$ROOT/.cache/conformance/node_modules/.bin/conformance" ] && command -v npm >/dev/null; then
    npm install --prefix "$ROOT/.cache/conformance" --silent --no-audit --no-fund \
        node@22 @modelcontextprotocol/conformance@0.1.16 >/dev/null 2>&1 \
        || echo "the MCP conformance suite could not be installed: its test will be skipped" >&2
fi
cd "$ROOT"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
