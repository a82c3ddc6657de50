#!/usr/bin/env bash
# One command, fresh machine: install, then run the whole set-up flow on the embedded sandbox (no account needed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
exec "$ROOT/.venv/bin/integrations-mcp" demo "$@"
