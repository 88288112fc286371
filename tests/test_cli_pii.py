"""`python -m plugin detect|mask`: JSON Lines in and out, ids passed through, bad lines answered on their line."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARD = "4111 1111 1111 1111"


def run(args: list, lines: list) -> list:
    result = subprocess.run(
        [sys.executable, "-m", "plugin", *args], cwd=ROOT, input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_detect_reports_offsets_into_the_input_and_passes_ids_through() -> None:
    text = f"pay with {CARD} please"
    out = run(["detect"], [json.dumps({"id": {"k": [1]}, "text": text})])
    assert out[0]["id"] == {"k": [1]}
    (span,) = out[0]["spans"]
    assert (span["type"], text[span["start"] : span["end"]], span["brand"]) == ("credit_card", CARD, "visa")


def test_mask_views_and_channel_overrides() -> None:
    line = json.dumps({"id": 7, "text": f"card {CARD}"})
    assert run(["mask", "--view", "nlu"], [line]) == [{"id": 7, "text": "card #creditcardnr#"}]
    assert run(["mask", "--view", "agent"], [line]) == [{"id": 7, "text": "card **** **** **** 1111"}]


def test_bad_lines_get_an_error_object_and_the_run_continues() -> None:
    out = run(["mask"], ["{not json", json.dumps(["list"]), json.dumps({"id": 3, "text": None}), json.dumps({"id": 4, "text": "hi"})])
    assert [o.get("error", "")[:7] for o in out[:3]] == ["line 1:", "line 2:", "line 3:"]
    assert out[2]["id"] == 3
    assert out[3] == {"id": 4, "text": "hi"}


def test_a_lone_surrogate_in_a_text_does_not_end_the_run() -> None:
    # valid JSON ("\\ud800"), but not encodable as UTF-8: the answer is written with escapes
    line = '{"id": 1, "text": "\\ud800 card ' + CARD + ' \\u00e9"}'
    out = run(["mask"], [line, json.dumps({"id": 2, "text": "hi"})])
    assert out == [{"id": 1, "text": "\ud800 card **** **** **** 1111 \u00e9"}, {"id": 2, "text": "hi"}]


def test_unusable_settings_file_is_refused_before_reading_input(tmp_path: Path) -> None:
    bad = tmp_path / "privacy.yml"
    bad.write_text("masking:\n  custom_rules:\n    - {name: broken, pattern: '(unclosed'}\n")
    result = subprocess.run([sys.executable, "-m", "plugin", "mask", "--config", str(bad)], cwd=ROOT, input="",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "broken" in result.stderr
