#!/usr/bin/env bash
# Create .venv from Python 3.10 and install rasa-guard with the server, actions, test and build extras.
# Re-runs only when pyproject.toml or constraints.txt changed (stamp file). Sources: the package registry only.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.rasa-guard-installed"
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi
python=$(scripts/find-python.sh)
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "install: $VENV is not Python 3.10; recreating it" >&2
  rm -rf "$VENV"
fi
[ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
echo "install: installing rasa-guard and Rasa 3.6.21 into $VENV (about 2.8 GB on a first run)..."
"$VENV/bin/python" -m pip install --quiet --upgrade "pip<25"
# constraints.txt pins every transitive dependency to the versions the test suite was run with.
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[server,actions,test,build]"
echo "$want" > "$STAMP"
echo "install: done"
