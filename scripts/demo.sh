#!/usr/bin/env bash
# One command, fresh machine: install the server (not the test extras), then run the whole set-up flow on the
# embedded sandbox (no account needed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS="" source "$ROOT/scripts/bootstrap.sh"
echo "[demo] starting integrations-mcp serve --sandbox and playing the agent and the person..." >&2
status=0
"$ROOT/.venv/bin/integrations-mcp" demo "$@" || status=$?
cat >&2 <<MSG

integrations-mcp is installed in $ROOT/.venv/bin (not on your PATH). To run it:
  source $ROOT/.venv/bin/activate && integrations-mcp --help
  $ROOT/.venv/bin/integrations-mcp serve --sandbox     # or connect a client: see README.md
MSG
exit "$status"
