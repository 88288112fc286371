# rasa-guard: the two quick-start commands are `make chat` and `make test`.
.PHONY: chat test install train run-actions clean
.DEFAULT_GOAL := chat

VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore

install:
	@scripts/install.sh

# `rasa train` skips the work when config, domain and data are unchanged since the last model.
train: install
	@mkdir -p .rasa-guard
	$(BIN)/rasa train --config config.yml --domain domain.yml --data data --out models

# Install if needed, train if needed, start the action server, then chat in the terminal with the plugin active
# (SQLite tracker store in .rasa-guard/tracker.db, plugin state in .rasa-guard/state.db).
chat: train
	@scripts/chat.sh

test: install
	$(BIN)/python -m pytest

run-actions: install
	$(BIN)/rasa run actions --actions actions --port 5055

clean:
	rm -rf models .rasa-guard .pytest_cache .hypothesis
