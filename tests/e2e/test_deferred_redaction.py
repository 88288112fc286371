"""Deferred redaction end to end: the real trained bot over HTTP with ``redaction.trigger: upon_resolve``, an admin
reveal before the resolve, ``python -m plugin redact`` after it, and a bot that keeps working on the rewritten rows."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from plugin.cli import main as cli_main
from plugin.storage.vault import TOKEN_RE
from tests import harness

pytestmark = pytest.mark.e2e

EMAIL = "jan.jansen@example.com"
IBAN = "NL91ABNA0417164300"


def rows(db: Path, sender: str) -> List[Tuple[int, str]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("select id, data from events where sender_id = ? order by id", (sender,)).fetchall()
    finally:
        connection.close()


def test_resolve_then_redact_over_http(trained_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    privacy = yaml.safe_load((harness.ROOT / "privacy.yml").read_text())
    privacy["redaction"] = {"trigger": "upon_resolve", "hours": 24}
    config = tmp_path / "privacy.yml"
    config.write_text(yaml.safe_dump(privacy))
    workdir = tmp_path / "stack"
    state_url = f"sqlite:///{workdir / 'state.db'}"
    sender = f"whatsapp:+3161{uuid.uuid4().int % 10**7:07d}"  # generated; a channel whose ids are phone numbers
    options = ["--config", str(config), "--state-url", state_url]

    with harness.RasaStack(model=trained_model, workdir=workdir, extra_env={"RASA_GUARD_CONFIG": str(config)}) as stack:
        endpoints = ["--endpoints", str(stack.endpoints_file())]
        stack.send(sender, "hello")
        stack.send(sender, f"my email is {EMAIL} and my IBAN is {IBAN}")
        monkeypatch.setenv("RASA_GUARD_STATE_URL", state_url)
        conversation = stack.stored_id(sender)
        assert conversation != sender
        stored = "".join(d for _, d in rows(stack.tracker_db, conversation))
        assert EMAIL not in stored and IBAN not in stored and '"original": "vlt_' in stored

        assert cli_main(["staff", "add", "ada", "--role", "admin", "--identity", "rest:ada-1", "--no-qr", *options]) == 0
        capsys.readouterr()
        assert cli_main(["reveal", sender, "--staff", "ada", "--reason", "ticket 7", *endpoints, *options]) == 0
        assert EMAIL in capsys.readouterr().out

        answer = stack.send(sender, "that's all, my issue is solved")
        assert any("solved" in (m.get("text") or "") for m in answer), answer
        before = rows(stack.tracker_db, conversation)

        redact = subprocess.run([sys.executable, "-m", "plugin", "redact", "--no-progress", *endpoints, *options],
                                cwd=harness.ROOT, env=harness.subprocess_env({"RASA_GUARD_CONFIG": str(config)}),
                                capture_output=True, text=True, timeout=300)
        assert redact.returncode == 0, redact.stderr[-2000:]
        assert "1 conversation(s) due" in redact.stdout

        after = rows(stack.tracker_db, conversation)
        assert [i for i, _ in after] == [i for i, _ in before]
        text = "".join(d for _, d in after)
        assert not TOKEN_RE.search(text) and EMAIL not in text and IBAN not in text
        assert all(isinstance(json.loads(d), dict) for _, d in after)

        assert cli_main(["reveal", sender, "--staff", "ada", "--reason", "ticket 7", *endpoints, *options]) == 1
        assert "gone" in capsys.readouterr().out

        assert stack.send(sender, "hello")  # Rasa still loads and extends the rewritten transcript
        assert len(rows(stack.tracker_db, conversation)) > len(after)
    stored_files = [p for p in workdir.iterdir() if p.name.startswith(("tracker.db", "state.db"))]
    assert len(stored_files) >= 2
    for path in stored_files:  # the phone number that names the conversation is in no stored file
        assert sender.split("+")[1].encode() not in path.read_bytes(), path.name
