#!/usr/bin/env bash
# One command, fresh machine: install the project, the browser the secure-form test drives, then lint and test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS=test source "$ROOT/scripts/bootstrap.sh"
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the real-browser test (a few minutes)..." >&2
    { apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; } >/dev/null 2>&1 \
        || echo "chromium could not be installed: the browser test will be skipped" >&2
fi
# Claude Code's CLI, for the tests of the README's `claude mcp add` snippets (skipped without it).
if command -v npm >/dev/null && [ ! -x "$ROOT/.cache/npm/node_modules/.bin/claude" ]; then
    echo "Installing Claude Code's CLI from npm for the client snippet tests..." >&2
    npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund @anthropic-ai/claude-code@2 >/dev/null 2>&1 \
        || echo "Claude Code's CLI could not be installed: its snippet tests will be skipped" >&2
fi
# docker-compose validates compose.yaml (no Docker daemon needed); skipped without it.
if ! command -v docker-compose >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    { apt-get install -y --no-install-recommends docker-compose || { apt-get update && apt-get install -y --no-install-recommends docker-compose; }; } >/dev/null 2>&1 \
        || echo "docker-compose could not be installed: the compose.yaml check will be skipped" >&2
fi
# The official MCP conformance suite and the Node 22 it needs, from the npm registry (tests/server/test_conformance.py).
if [ ! -x "$ROOT/.cache/conformance/node_modules/.bin/conformance" ] && command -v npm >/dev/null; then
    npm install --prefix "$ROOT/.cache/conformance" --silent --no-audit --no-fund \
        node@22 @modelcontextprotocol/conformance@0.1.16 >/dev/null 2>&1 \
        || echo "the MCP conformance suite could not be installed: its test will be skipped" >&2
fi
# panva's oidc-provider (a certified OpenID provider) and the Node 22 it wants, from the npm registry, for the
# approvers' sign-in tests (tests/signin/provider.py; without npm locally they skip, under CI they fail).
if { [ ! -f "$ROOT/.cache/oidc-provider/node_modules/oidc-provider/package.json" ] || [ ! -e "$ROOT/.cache/oidc-provider/node_modules/.bin/node" ]; } && command -v npm >/dev/null; then
    npm install --prefix "$ROOT/.cache/oidc-provider" --silent --no-audit --no-fund \
        node@22 oidc-provider@9.13.3 >/dev/null 2>&1 \
        || echo "oidc-provider could not be installed: the sign-in tests will install it or fail" >&2
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's postgresql for the state store's replica tests..." >&2
    { apt-get install -y --no-install-recommends postgresql || { apt-get update && apt-get install -y --no-install-recommends postgresql; }; } >/dev/null 2>&1 \
        || echo "postgresql could not be installed: the PostgreSQL tests will be skipped" >&2
fi
cd "$ROOT"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
