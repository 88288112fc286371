"""The admin chat end to end: the real trained bot, real `rasa run` + `rasa run actions`, a real state DB.

Staff are added with the CLI into the stack's state DB; OTPs are computed with pyotp from the enrolment secret.
Also: `rasa test nlu` on held-out admin phrasings (tests/nlu/admin_test.yml) reaches a weighted F1 of at least 0.95.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import List

import pyotp
import pytest

from tests import harness

pytestmark = pytest.mark.e2e

ANN = "+31612340001"  # admin, logs in
BOB = "+31612340002"  # supervisor, gets locked out
BLOCKED = "+31623456789"
NEUTRAL = "Sorry, I didn't get that."
ADMIN_INTENTS = (
    "admin_login", "admin_logout", "admin_code", "admin_set", "admin_list_edit", "admin_show", "admin_history",
    "admin_rotate_token",
)


def texts(messages: list) -> List[str]:
    return [m.get("text", "") for m in messages]


def staff_add(workdir: Path, name: str, role: str, sender: str) -> str:
    """Add a TOTP staff member with the CLI; returns the secret from the otpauth:// URI it prints once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RASA_GUARD_")}
    env.update(PYTHONPATH=str(harness.ROOT), RASA_GUARD_CONFIG=str(harness.ROOT / "privacy.yml"))
    result = subprocess.run(
        [sys.executable, "-m", "plugin", "staff", "add", name, "--role", role, "--identity", f"rest:{sender}",
         "--no-qr", "--state-url", f"sqlite:///{workdir / 'state.db'}"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return pyotp.parse_uri(re.search(r"otpauth://totp/\S+", result.stdout).group(0)).secret


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    valid = {totp.at(datetime.now().timestamp() + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in valid)


@pytest.fixture(scope="module")
def admin_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("admin-stack")
    secrets = {"ann": staff_add(workdir, "ann", "admin", ANN), "bob": staff_add(workdir, "bob", "supervisor", BOB)}
    env = {"RASA_GUARD_OTP_OUTBOX": str(workdir / "outbox.jsonl")}
    with harness.RasaStack(model=trained_model, workdir=workdir, extra_env=env) as stack:
        yield stack, secrets


def audit_rows(workdir: Path, action: str) -> List[tuple]:
    with sqlite3.connect(workdir / "state.db") as db:
        return db.execute("SELECT actor, detail FROM rg_audit_log WHERE action = ?", (action,)).fetchall()


def stored_settings(workdir: Path) -> dict:
    with sqlite3.connect(workdir / "state.db") as db:
        return {key: json.loads(value) for key, value in db.execute("SELECT setting_key, value FROM rg_settings_changes")}


def test_customer_using_admin_phrases_is_refused_neutrally(admin_stack) -> None:  # type: ignore[no-untyped-def]
    stack, _ = admin_stack
    customer = f"+3161{uuid.uuid4().int % 10**7:07d}"
    for text in ("log in as admin", "block +44", "rotate the API token"):
        assert any(NEUTRAL in t for t in texts(stack.send(customer, text))), text
    assert len([row for row in audit_rows(stack.workdir, "admin.refused") if "not in the staff directory" in row[1]]) >= 3
    assert "blacklist.country_codes" not in stored_settings(stack.workdir)


def test_five_wrong_codes_lock_a_staff_member_out(admin_stack) -> None:  # type: ignore[no-untyped-def]
    stack, secrets = admin_stack
    assert any("authenticator app" in t for t in texts(stack.send(BOB, "log in as admin")))
    code = wrong_code(secrets["bob"])
    replies = [" ".join(texts(stack.send(BOB, code))) for _ in range(5)]
    assert all("not right" in r for r in replies[:4]), replies
    assert "locked" in replies[4]
    assert any("locked" in t for t in texts(stack.send(BOB, "log in as admin")))
    assert [row[0] for row in audit_rows(stack.workdir, "otp.lockout")] == ["bob"]


def test_admin_logs_in_changes_settings_and_they_are_enforced(admin_stack) -> None:  # type: ignore[no-untyped-def]
    stack, secrets = admin_stack
    assert any("authenticator app" in t for t in texts(stack.send(ANN, "log in as admin")))
    code = pyotp.TOTP(secrets["ann"]).now()
    assert any("Verified, ann (admin)" in t for t in texts(stack.send(ANN, code)))

    readback = " ".join(texts(stack.send(ANN, "set the idle timeout to 20 minutes")))
    assert "session.idle_timeout_seconds (global): 900 → 1200" in readback
    assert any("Done" in t for t in texts(stack.send(ANN, "yes")))

    readback = " ".join(texts(stack.send(ANN, "block 06 23456789")))
    assert "blacklist.phone_numbers" in readback and "23456789" not in readback
    assert any("Done" in t for t in texts(stack.send(ANN, "yes")))

    stored = stored_settings(stack.workdir)
    assert stored["session.idle_timeout_seconds"] == 1200
    assert stored["blacklist.phone_numbers"] == [BLOCKED]
    assert [row[0] for row in audit_rows(stack.workdir, "settings.change")] == ["ann", "ann"]

    # Enforced in a customer's conversation on another sender: the blocked number gets the one refusal.
    refusal = texts(stack.send(BLOCKED, "hello"))
    assert any("cannot continue this conversation" in t for t in refusal), refusal

    history = " ".join(texts(stack.send(ANN, "show the last 10 changes")))
    assert "session.idle_timeout_seconds" in history and "23456789" not in history

    # After logout the next change is refused and nothing is stored.
    assert any("logged out" in t for t in texts(stack.send(ANN, "log out")))
    assert any("log in first" in t for t in texts(stack.send(ANN, "block +44")))
    assert "blacklist.country_codes" not in stored_settings(stack.workdir)

    # The OTP never reached the tracker store or a log in clear.
    with sqlite3.connect(stack.tracker_db) as db:
        events = "\n".join(row[0] for row in db.execute("SELECT data FROM events"))
    assert code not in events and "23456789" not in events
    for log in ("rasa.log", "actions.log"):
        assert code not in (stack.workdir / log).read_text(errors="replace")


def test_admin_nlu_reaches_95_percent_weighted_f1(trained_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "nlu-results"
    env = harness.subprocess_env(
        {"RASA_GUARD_CONFIG": str(harness.ROOT / "privacy.yml"), "RASA_GUARD_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    )
    result = subprocess.run(
        [harness.RASA, "test", "nlu", "--nlu", str(harness.ROOT / "tests/nlu/admin_test.yml"), "--model", str(trained_model),
         "--out", str(out)],
        cwd=harness.ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    rows = {name: report[name] for name in ADMIN_INTENTS if name in report}
    assert set(rows) == set(ADMIN_INTENTS)
    support = sum(row["support"] for row in rows.values())
    weighted_f1 = sum(row["f1-score"] * row["support"] for row in rows.values()) / support
    print(f"\n[admin NLU] weighted F1 {weighted_f1:.3f} over {support} held-out examples")
    assert weighted_f1 >= 0.95, {name: round(row["f1-score"], 3) for name, row in rows.items()}
