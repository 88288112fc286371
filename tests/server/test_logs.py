"""Log redaction: stdlib records, Rasa's structlog JSON lines, exceptions; failures withhold the line."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rasa.shared.core.events import SlotSet

from plugin.policy import log_redaction
from plugin.server import logs

CARD = "4111 1111 1111 1111"
MAIL = "jan.jansen@example.com"


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture):
    logs.install()
    caplog.set_level(logging.DEBUG)
    return caplog


def test_stdlib_messages_and_arguments_are_masked(records) -> None:
    logging.getLogger("some.library").debug("user said %s to %s", f"card {CARD}", MAIL)
    assert records.records[-1].getMessage() == "user said card #creditcardnr# to #email#"


def test_exception_text_is_masked(records) -> None:
    try:
        raise ValueError(f"cannot parse {CARD}")
    except ValueError:
        logging.getLogger("x").exception("failed for %s", MAIL)
    record = records.records[-1]
    assert MAIL not in record.getMessage() and CARD not in (record.exc_text or "")
    assert "#creditcardnr#" in record.exc_text


def test_structlog_json_lines_are_masked_value_by_value_even_when_escaped() -> None:
    line = json.dumps({"event": "processor.message.parse", "parse_data_text": f"Hauptstraße 5 {CARD}"})
    masked = json.loads(log_redaction.mask_log_text(line, lambda t: t.replace(CARD, "#creditcardnr#")))
    assert masked["parse_data_text"] == "Hauptstraße 5 #creditcardnr#"


def test_a_masker_that_fails_withholds_the_line() -> None:
    def broken(_: str) -> str:
        raise RuntimeError("boom")

    factory = log_redaction._RedactingFactory(logging.LogRecord, broken, broken)
    record = factory("x", logging.INFO, __file__, 1, "card %s", (CARD,), None)
    assert record.getMessage() == log_redaction.WITHHELD


NAME = "Jan de Vries"  # no pattern finds a name: only its field's name tells that it is sensitive


@pytest.mark.parametrize(
    "line",
    [
        repr({"customer_name": NAME, "channel": "rest"}),  # a Python repr, as in Rasa's slot log
        json.dumps({"customer_name": NAME, "channel": "rest"}),  # JSON
        json.dumps({"event": "x", "slot_values": repr({"customer_name": NAME})}),  # a repr inside a JSON line
        json.dumps({"event": "x", "payload": json.dumps({"customer_name": NAME, "n": 1})}),  # JSON inside JSON
        repr(repr({"customer_name": "Jan O'Brien", "n": 1})),  # escaped twice
        repr({"customer_name": {"first": "Jan", "last": "de Vries"}, "n": 1}),  # a mapping as the value
        repr({"n": 1, "customer_name": ["Jan", "de Vries"]}),  # a list, last in the mapping
        repr([SlotSet("customer_name", f"{NAME} (JJ)"), SlotSet("channel", "rest")]),  # an action's events
        json.dumps({"event": "processor.actions.log", "rasa_events": [SlotSet("customer_name", NAME)]}, default=repr),
        f"\tcustomer_name: {NAME}\n\tchannel: rest",  # Rasa's log of all slot values
        json.dumps({"event": "processor.slots.log", "slot_values": f"\tcustomer_name: {NAME}\n\tchannel: rest"}),
        # a slot event as JSON (a tracker dump in an action server's error), nested and multi-line values, quotes and
        # commas inside a value
        json.dumps({"events": [{"event": "slot", "name": "customer_name", "value": NAME}, {"channel": "rest"}]}),
        repr({"customer_name": {"address": {"city": "Utrecht"}, "full": NAME}, "channel": "rest"}),
        f"\tcustomer_name: {{'first': 'Jan', 'last': 'de Vries'}}\n\tchannel: rest",
        f"\tcustomer_name: ['Jan', 'Piet Jansen de Vries']\n\tchannel: rest",
        f"\tcustomer_name: Jan\nde Vries\n\tchannel: rest",
        repr([SlotSet("customer_name", "Jan\nde Vries"), SlotSet("channel", "rest")]),
        f"\tcustomer_name: Jan 'JJ', de Vries\n\tchannel: rest",
        json.dumps({"slot_values": "\tcustomer_name: Jan 'JJ', de Vries\n\tchannel: rest", "event": "e"}),
        "slot_values=" + repr("\tcustomer_name: Jan 'JJ', de Vries\n\tchannel: rest"),  # key=value rendering
    ],
)
def test_fields_named_sensitive_are_redacted_whole_in_any_quoting(line: str) -> None:
    redacted = log_redaction.redact_named_fields(line, log_redaction.named_field_pattern(("customer_name",)))
    assert "Jan" not in redacted and "Vries" not in redacted and "Utrecht" not in redacted and "#redacted#" in redacted
    assert "channel" not in line or "rest" in redacted  # other fields stay readable


def test_without_named_fields_a_line_is_left_as_it_is() -> None:
    line = repr({"customer_name": NAME})
    assert log_redaction.redact_named_fields(line, log_redaction.named_field_pattern(())) == line


SLOT_LOG = """
import logging, sys
from rasa.utils.log_utils import configure_structlog
configure_structlog(logging.DEBUG)  # what `rasa run --debug` does before it loads the plugin
from plugin.server import logs
logs.install()
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
domain = Domain.from_dict({"slots": {"nickname": {"type": "text", "mappings": [{"type": "custom"}]}}})
tracker = DialogueStateTracker("c1", domain.slots)
tracker.update(SlotSet("session_started_metadata", {"customer_name": sys.argv[1], "email": sys.argv[2]}))
tracker.update(SlotSet("nickname", sys.argv[1].split()[0]))  # a slot declared sensitive, holding a raw value
MessageProcessor._log_slots(tracker)
"""


def test_rasas_debug_slot_log_hides_sensitive_metadata_of_the_session_start(tmp_path) -> None:
    # `rasa run --debug` logs every slot value, among them the metadata the session started with
    config = tmp_path / "privacy.yml"
    config.write_text("masking:\n  sensitive_metadata: [customer_name]\n  sensitive_slots: [nickname]\n")
    env = dict(os.environ, RASA_GUARD_CONFIG=str(config), RASA_GUARD_STATE_URL=f"sqlite:///{tmp_path / 'state.db'}")
    done = subprocess.run([sys.executable, "-c", SLOT_LOG, NAME, MAIL], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    logged = [line for line in done.stdout.splitlines() if "processor.slots.log" in line]
    assert logged, done.stderr[-2000:]
    assert "#redacted#" in logged[0] and "#email#" in logged[0] and "nickname" in logged[0]
    assert NAME.split()[0] not in done.stdout + done.stderr and MAIL not in done.stdout + done.stderr


def test_non_ascii_escapes_outside_a_json_line_are_decoded_before_masking() -> None:
    # a tracker dump inside an exception's text: JSON, but not the whole line
    line = 'Traceback ... ClientResponseError: {"text": "ik woon in de Hauptstra\\u00dfe 12, mail j\\u00fcrgen@example.com"}'
    masked = log_redaction.mask_log_text(line, lambda text: text.replace("Hauptstraße 12", "#address#").replace("jürgen@example.com", "#email#"))
    assert "#address#" in masked and "#email#" in masked and "Hauptstra" not in masked and "\\u00fc" not in masked
    assert log_redaction.mask_log_text('say \\"hi\\" \\u0041', lambda text: text) == 'say \\"hi\\" \\u0041'
