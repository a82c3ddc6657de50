#!/usr/bin/env bash
# Create .venv (if needed) and install the project into it, once: sourced by demo.sh (EXTRAS="", the server only)
# and test.sh (EXTRAS=test). A stamp keyed on pyproject.toml's hash and the extras skips the install when nothing
# changed (the install is editable: source edits need no reinstall).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
EXTRAS="${EXTRAS-test}"
say() { printf '%s\n' "$*" >&2; }
if [ ! -x "$VENV/bin/python" ]; then
    say "[setup] creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
HASH="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16])' "$ROOT/pyproject.toml")"
STAMP="$VENV/.installed-${EXTRAS:-server}-$HASH"
# The test extras include the server: after test.sh, demo.sh installs nothing.
if [ -f "$STAMP" ] || { [ -z "$EXTRAS" ] && compgen -G "$VENV/.installed-*-$HASH" >/dev/null; }; then
    say "[setup] integrations-mcp${EXTRAS:+[$EXTRAS]} already installed in .venv (pyproject.toml unchanged)"
else
    TARGET="$ROOT${EXTRAS:+[$EXTRAS]}"
    say "[setup] installing integrations-mcp${EXTRAS:+[$EXTRAS]} and its dependencies into .venv (first run: about a minute)"
    # One line per package as pip resolves it, so a slow network shows progress instead of silence.
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e "$TARGET" 2>&1 \
        | while IFS= read -r line; do
            case "$line" in
                Collecting*|Successfully*|ERROR*|error*) say "[setup]   $line" ;;
            esac
        done; then
        say "[setup] the install failed: run  $VENV/bin/python -m pip install -e '$TARGET'  to see why"
        exit 1
    fi
    rm -f "$VENV"/.installed-"${EXTRAS:-server}"-*
    touch "$STAMP"
fi
