#!/usr/bin/env bash
# Start `rasa run actions` in the background, wait until it answers, then open `rasa shell`; stop the actions on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
port=5055  # the action_endpoint in endpoints.yml
mkdir -p .rasa-guard
.venv/bin/rasa run actions --actions actions --port "$port" > .rasa-guard/actions.log 2>&1 &
actions_pid=$!
trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$actions_pid" 2>/dev/null || { echo "chat: the action server failed to start; see .rasa-guard/actions.log" >&2; exit 1; }
  sleep 0.5
done
echo "chat: action server on port $port (log: .rasa-guard/actions.log). Type /stop to leave."
.venv/bin/rasa shell --endpoints endpoints.yml --credentials credentials.yml
