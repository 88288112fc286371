"""`python -m plugin staff ...` and `python -m plugin token ...` round trips in real subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pyotp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+31612345678"


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("RASA_GUARD_")}
    env["PYTHONPATH"] = str(ROOT)

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "plugin", *args, "--state-url", url],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == expect, result.stderr
        return result

    return run


def test_staff_round_trip(cli) -> None:  # type: ignore[no-untyped-def]
    added = cli("staff", "add", "ann", "--role", "admin", "--identity", f"whatsapp:{PHONE}", "--identity", "telegram:998877")
    uri = re.search(r"otpauth://totp/\S+", added.stdout).group(0)
    secret = pyotp.parse_uri(uri).secret
    assert "█" in added.stdout or "▀" in added.stdout  # the QR code
    cli("staff", "add", "bob", "--role", "agent", "--identity", "telegram:112233", "--otp", "code",
        "--contact", "bob.agent@example.com")

    listing = cli("staff", "list").stdout
    assert re.search(r"^ann\s+admin\s+totp", listing, re.M) and re.search(r"^bob\s+agent\s+code\s+b\*\*\*@example.com", listing, re.M)
    for secret_text in (secret, "12345678", "998877", "bob.agent"):
        assert secret_text not in listing

    reset = cli("staff", "reset", "ann", "--no-qr")
    new_secret = pyotp.parse_uri(re.search(r"otpauth://totp/\S+", reset.stdout).group(0)).secret
    assert new_secret != secret and "failures and lockout cleared" in reset.stdout

    cli("staff", "remove", "bob")
    assert "bob" not in cli("staff", "list").stdout
    assert "no staff member is named 'bob'" in cli("staff", "remove", "bob", expect=2).stderr
    assert "role" in cli("staff", "add", "eve", "--role", "owner", "--identity", "rest:x", expect=2).stderr

    trail = cli("audit", "show", "--action", "staff.*", "--format", "jsonl").stdout
    assert [json.loads(line)["action"] for line in trail.splitlines()] == ["staff.add", "staff.add", "staff.reset", "staff.remove"]
    assert secret not in trail and new_secret not in trail


def test_token_round_trip(cli) -> None:  # type: ignore[no-untyped-def]
    created = cli("token", "create", "--label", "crm")
    token = re.search(r"^token: (rg_\S+)$", created.stdout, re.M).group(1)
    token_id = re.search(r"^id: (tok_\w+)$", created.stdout, re.M).group(1)

    rotated = cli("token", "rotate", "--grace", "60")
    new_token = re.search(r"^token: (rg_\S+)$", rotated.stdout, re.M).group(1)
    assert new_token != token

    listing = cli("token", "list").stdout
    assert token not in listing and new_token not in listing
    assert re.search(rf"^{token_id}\s+crm\s+\S+ \S+\s+expires ", listing, re.M)

    cli("token", "revoke", token_id)
    assert re.search(rf"^{token_id}\s+crm\s+.*revoked", cli("token", "list").stdout, re.M)
    assert "no API token with id" in cli("token", "revoke", "tok_000000000000", expect=2).stderr

    trail = cli("audit", "show", "--action", "token.*", "--format", "jsonl").stdout
    assert token not in trail and new_token not in trail
    assert trail.count("\n") == 3
