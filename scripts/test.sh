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
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's postgresql for the state store's replica tests..." >&2
    { apt-get install -y --no-install-recommends postgresql || { apt-get update && apt-get install -y --no-install-recommends postgresql; }; } >/dev/null 2>&1 \
        || echo "postgresql could not be installed: the PostgreSQL tests will be skipped" >&2
fi
cd "$ROOT"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
