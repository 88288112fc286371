"""Log redaction: stdlib records, Rasa's structlog JSON lines, exceptions; failures withhold the line."""

import json
import logging

import pytest

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
