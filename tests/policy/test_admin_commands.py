"""The admin command grammar: natural phrasings and explicit commands -> (kind, key, value, scope); clear errors."""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import pytest

from plugin.policy import admin_commands as grammar
from plugin.policy.admin_commands import Command, ParseError, coerce, marker, parse


def masked(template: str, *types: str) -> Tuple[str, Sequence[Tuple[int, int, str]]]:
    """Text with ``{}`` holes filled by tags, and the (start, end, type) spans of the tags, as PIIMasker emits them."""
    text, spans = "", []
    parts = template.split("{}")
    for part, pii_type in zip(parts, types):
        text += part
        tag = f"#{pii_type}#"
        spans.append((len(text), len(text) + len(tag), pii_type))
        text += tag
    return text + parts[-1], spans


@pytest.mark.parametrize(
    "text, expected",
    [
        ("log in as admin", Command("login")),
        ("Could you log me in please?", Command("login")),
        ("log out", Command("logout")),
        ("sign me out of admin mode", Command("logout")),
        ("set the idle timeout to 15 minutes", Command("set", "session.idle_timeout_seconds", 900)),
        ("close idle chats after 1 hour", Command("set", "session.idle_timeout_seconds", 3600)),
        ("mask numbers with 6 or more digits", Command("set", "masking.long_number_digits", 6)),
        ("hide numbers of 4+ digits from the AI", Command("set", "masking.ai_hidden_digits", 4)),
        ("turn on card neutralisation for whatsapp", Command("set", "masking.card_neutralisation", True, "whatsapp")),
        ("disable card neutralization on the sms channel", Command("set", "masking.card_neutralisation", False, "sms")),
        ("redact transcripts 24 hours after creation",
         Command("set", "redaction", {"trigger": "time_based", "hours": 24})),
        ("redact transcripts when the conversation is resolved", Command("set", "redaction.trigger", "upon_resolve")),
        ("set the lockout to 30 minutes", Command("set", "admin.lockout_minutes", 30)),
        ("set the token grace period to 2 hours", Command("set", "access.token_grace_seconds", 7200)),
        ("block +44", Command("add", "blacklist", "+44")),
        ("block country code 33", Command("add", "blacklist.country_codes", "+33")),
        ("block sender abc123", Command("add", "blacklist.sender_ids", "abc123")),
        ("unban +44", Command("remove", "blacklist", "+44")),
        ("block @example.com", Command("add", "blacklist", "@example.com")),
        ("rotate the API token", Command("rotate", "access.token_grace_seconds")),
        ("show the masking settings", Command("show", "masking")),
        ("display session settings for whatsapp", Command("show", "session", scope="whatsapp")),
        ("show all settings", Command("show", "")),
        ("show the last 10 changes", Command("history", count=10)),
        ("what changed recently?", Command("history", count=grammar.DEFAULT_HISTORY)),
        ("reset session.idle_timeout_seconds", Command("reset", "session.idle_timeout_seconds")),
    ],
)
def test_phrasings_parse_to_commands(text: str, expected: Command) -> None:
    command = parse(text)
    assert (command.kind, command.key, command.value, command.scope, command.count) == (
        expected.kind, expected.key, expected.value, expected.scope, expected.count,
    )


def test_explicit_set_keeps_the_value_raw_and_original_case_for_coercion() -> None:
    command = parse("Set blacklist.message to Sorry, We Cannot Help")
    assert (command.kind, command.key, command.value, command.raw) == ("set", "blacklist.message", "Sorry, We Cannot Help", True)


@pytest.mark.parametrize(
    "template, types, kind, key, value",
    [
        ("block {}", ("phonenr",), "add", "blacklist", marker(0)),
        ("unblock {}", ("email",), "remove", "blacklist", marker(0)),
        ("ban the number {}", ("phonenr",), "add", "blacklist.phone_numbers", marker(0)),
        ("remove {} from the blacklist", ("email",), "remove", "blacklist", marker(0)),
        ("allow {}/8 for the API", ("ipaddress",), "add", "access.api_ip_allowlist", marker(0) + "/8"),
        ("allow {} for the admin chat", ("ipaddress",), "add", "access.management_ip_allowlist", marker(0)),
        ("disallow {}/24 from the api", ("ipaddress",), "remove", "access.api_ip_allowlist", marker(0) + "/24"),
        ("please block {} on whatsapp", ("phonenr",), "add", "blacklist", marker(0)),
    ],
)
def test_masked_values_become_markers_the_action_resolves(
    template: str, types: Tuple[str, ...], kind: str, key: str, value: str
) -> None:
    text, spans = masked(template, *types)
    command = parse(text, spans)
    assert (command.kind, command.key, command.value) == (kind, key, value)
    assert "#" not in command.value  # the tag text never becomes a value
    originals = {0: "10.0.0.0"}
    assert grammar.resolve_markers(command.value, lambda i: originals[i]) == value.replace(marker(0), "10.0.0.0")


def test_scope_is_taken_from_the_channel_phrase() -> None:
    text, spans = masked("block {} on the whatsapp channel", "phonenr")
    assert parse(text, spans).scope == "whatsapp"
    assert parse("turn on card neutralisation for the voice channel").scope == "voice"
    assert parse("turn on card neutralisation globally").scope == ""


def test_markers_in_client_text_are_dropped() -> None:
    """A typed NUL marker cannot point the action at another entity."""
    assert parse(f"block {marker(0)}+44").value == "0+44"


@pytest.mark.parametrize(
    "text, says",
    [
        ("hello there", "I understand"),
        ("", "say what to do"),
        ("block", "say what to block"),
        ("allow example.com for the api", "IP address or range"),
        ("show the last 500 changes", "between 1 and"),
        ("set session.idle_timeout_seconds to", "say the new value"),
    ],
)
def test_unknown_or_incomplete_commands_say_what_is_understood(text: str, says: str) -> None:
    with pytest.raises(ParseError, match=says):
        parse(text)


@pytest.mark.parametrize(
    "key, raw, current, expected",
    [
        ("session.idle_timeout_seconds", "900", 60, 900),
        ("session.idle_timeout_seconds", "15 minutes", 60, 900),
        ("admin.lockout_minutes", "2 hours", 30, 120),
        ("masking.card_neutralisation", "on", False, True),
        ("masking.enabled", "Disabled", True, False),
        ("roles.edit.supervisor", "session, blacklist and redaction", ("session",), ["session", "blacklist", "redaction"]),
        ("blacklist.message", "'Sorry!'", "x", "Sorry!"),
    ],
)
def test_coerce_reads_values_by_the_settings_type(key: str, raw: str, current: Any, expected: Any) -> None:
    assert coerce(key, raw, current) == expected


@pytest.mark.parametrize(
    "key, raw, current, says",
    [
        ("masking.enabled", "maybe", True, "on or off"),
        ("session.idle_timeout_seconds", "soon", 60, "whole number of seconds"),
        ("admin.lockout_minutes", "90 seconds", 30, "whole minutes"),
        ("masking.types", "x", {"email": True}, "group of settings"),
    ],
)
def test_coerce_refuses_values_of_the_wrong_type(key: str, raw: str, current: Any, says: str) -> None:
    with pytest.raises(ParseError, match=says):
        coerce(key, raw, current)


def test_blacklist_key_follows_the_entry_form() -> None:
    assert grammar.blacklist_key("+44", "NL") == "blacklist.country_codes"
    assert grammar.blacklist_key("06 12345678", "NL") == "blacklist.phone_numbers"
    assert grammar.blacklist_key("noreply@example.com", "NL") == "blacklist.emails"
    assert grammar.blacklist_key("@example.com", "NL") == "blacklist.emails"
    with pytest.raises(ParseError, match="sender <id>"):
        grammar.blacklist_key("not a thing", "NL")


def test_marker_indexes_lists_every_reference() -> None:
    assert grammar.marker_indexes({"a": [marker(0), "x"], "b": marker(2) + "/8"}) == [0, 2]
