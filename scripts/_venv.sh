# Shared by scripts/run-demo and scripts/test: make .venv with HAB installed.
# Usage: . scripts/_venv.sh [extras]   (re-installs only when pyproject.toml changed)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
EXTRAS=${1:-}
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "HAB needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp="$VENV/.hab-installed${EXTRAS:+-$EXTRAS}"
# An install with the test extras holds HAB itself too.
if [ -z "$EXTRAS" ] && [ -f "$VENV/.hab-installed-test" ] \
  && ! [ "$ROOT/pyproject.toml" -nt "$VENV/.hab-installed-test" ]; then
  stamp="$VENV/.hab-installed-test"
fi
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
