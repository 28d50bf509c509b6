#!/usr/bin/env bash
# Checks the Python worker runtime (runner/python) with flake8 (pyflakes and pycodestyle, .flake8),
# on the interpreter the tests use (Debian's /usr/bin/python3, for which apt installs flake8).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
if ! "$PYTHON" -m flake8 --version >/dev/null 2>&1; then
  echo "check:python: flake8 is not installed for $PYTHON (Debian: apt-get install python3-flake8)" >&2
  exit 1
fi
"$PYTHON" -m flake8 runner/python
echo "check:python: runner/python is clean (flake8 $("$PYTHON" -m flake8 --version | cut -d" " -f1 | head -1) on $PYTHON)"
