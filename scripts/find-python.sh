#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter: $PYTHON, else python3.10 on PATH, else pyenv's 3.10.x.
# Rasa 3.6 supports Python 3.8-3.10 only; we pin 3.10.
set -euo pipefail
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/3.10.*/bin/python; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "${HOME}"/.pyenv/versions/3.10.*/bin/python; do [ -x "$p" ] && candidates+=("$p"); done
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$p"; exit 0
  fi
  if [ -n "${PYTHON:-}" ] && [ "$p" = "$PYTHON" ]; then
    echo "error: PYTHON=$PYTHON is not Python 3.10 (Rasa 3.6 supports 3.8-3.10; this project pins 3.10)" >&2; exit 1
  fi
done
echo "error: no Python 3.10 found. Install it (e.g. 'pyenv install 3.10') or run with PYTHON=/path/to/python3.10" >&2
exit 1
