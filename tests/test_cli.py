"""The command line is a real entry point: `python -m plugin`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plugin", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "settings" in result.stdout


def test_settings_check_refuses_a_bad_file_with_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "privacy.yml"
    bad.write_text("redaction:\n  trigger: time_based\n  hours: 100\n")
    result = run("settings", "check", "--config", str(bad))
    assert result.returncode == 2
    assert "redaction.hours: must be between 12 and 72" in result.stderr and "100" not in result.stderr


def test_settings_show_resolves_channel_overrides() -> None:
    result = run("settings", "show", "--channel", "whatsapp", "masking.card_neutralisation")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "true"
