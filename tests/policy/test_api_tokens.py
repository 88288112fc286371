"""API tokens: stored hashed, rotated with a grace period, revoked at once; every decision takes an explicit ``now``."""

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from plugin.policy.api_tokens import (
    TOKEN_PREFIX,
    UnknownToken,
    active_records,
    check_request,
    new_token,
    parse_bearer,
    revoke,
    rotate,
    verify,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
DAY = 86400


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_new_token_is_shown_once_and_only_its_hash_is_stored() -> None:
    plaintext, record = new_token(T0, label="crm")
    assert plaintext.startswith(TOKEN_PREFIX) and len(plaintext) >= len(TOKEN_PREFIX) + 43
    assert record.hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in repr(record) and record.hash not in repr(record)
    assert record.created_at == T0 and record.expires_at is None and record.revoked_at is None and record.label == "crm"
    assert verify((record,), plaintext, T0) == record


def test_tokens_are_unique() -> None:
    tokens = {new_token(T0)[0] for _ in range(200)}
    assert len(tokens) == 200


def test_wrong_or_empty_token_is_refused() -> None:
    plaintext, record = new_token(T0)
    assert verify((record,), plaintext + "x", T0) is None
    assert verify((record,), plaintext[:-1], T0) is None
    assert verify((record,), "", T0) is None
    assert verify((record,), None, T0) is None
    assert verify((record,), record.hash, T0) is None  # the stored hash is not itself a credential


def test_rotation_keeps_the_previous_token_for_the_grace_period_only() -> None:
    old_plain, old = new_token(T0)
    new_plain, records = rotate((old,), at(100), grace_s=DAY)
    assert len(records) == 2
    assert records[0].expires_at == at(100 + DAY)
    assert verify(records, old_plain, at(100 + DAY - 1)) == records[0]
    assert verify(records, old_plain, at(100 + DAY)) is None
    assert verify(records, new_plain, at(100 + 10 * DAY)) == records[1]


def test_rotation_with_zero_grace_ends_the_previous_token_at_once() -> None:
    old_plain, old = new_token(T0)
    new_plain, records = rotate((old,), at(5), grace_s=0)
    assert verify(records, old_plain, at(5)) is None
    assert verify(records, new_plain, at(5)) is not None


def test_rotating_again_never_extends_an_old_token() -> None:
    first_plain, first = new_token(T0)
    _, records = rotate((first,), at(0), grace_s=DAY)
    _, records = rotate(records, at(60), grace_s=DAY)
    assert records[0].expires_at == at(DAY)  # unchanged by the second rotation
    assert records[1].expires_at == at(60 + DAY)
    assert verify(records, first_plain, at(DAY)) is None
    assert len(active_records(records, at(DAY))) == 2


def test_rotation_does_not_revive_revoked_or_expired_tokens() -> None:
    plain, record = new_token(T0)
    records = revoke((record,), record.id, at(1))
    _, rotated = rotate(records, at(2), grace_s=DAY)
    assert rotated[0] == records[0]
    assert verify(rotated, plain, at(3)) is None


def test_revocation_is_immediate_and_ignores_the_grace_period() -> None:
    old_plain, old = new_token(T0)
    new_plain, records = rotate((old,), at(10), grace_s=DAY)
    records = revoke(records, records[0].id, at(20))
    assert verify(records, old_plain, at(21)) is None
    assert verify(records, new_plain, at(21)) is not None
    again = revoke(records, records[0].id, at(30))
    assert again[0].revoked_at == at(20)


def test_revoking_an_unknown_id_says_how_to_find_the_ids() -> None:
    _, record = new_token(T0)
    with pytest.raises(UnknownToken, match="list the tokens"):
        revoke((record,), "tok_doesnotexist", T0)


def test_negative_grace_and_naive_times_are_refused() -> None:
    _, record = new_token(T0)
    with pytest.raises(ValueError, match="0 seconds or more"):
        rotate((record,), T0, grace_s=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify((record,), "rg_x", datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    "header,expected",
    [
        ("Bearer rg_abc-DEF_123", "rg_abc-DEF_123"),
        ("bearer rg_abc", "rg_abc"),
        ("BEARER   rg_abc  ", "rg_abc"),
        ("Bearer abc+/def==", "abc+/def=="),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer rg_a rg_b", None),
        ("rg_abc", None),
        ("Bearer rg_a\nX-Injected: 1", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_bearer(header, expected) -> None:
    assert parse_bearer(header) == expected


def test_check_request_requires_a_token_once_any_token_exists() -> None:
    assert check_request((), None, T0).allowed
    plain, record = new_token(T0)
    assert check_request((record,), None, T0).reason == "missing_token"
    assert check_request((record,), "Token " + plain, T0).reason == "malformed_header"
    assert check_request((record,), "Bearer rg_wrong", T0).reason == "invalid_token"
    decision = check_request((record,), "Bearer " + plain, T0)
    assert decision.allowed and decision.reason == "ok" and decision.record == record
    # Revoking every token must not reopen the API.
    revoked = revoke((record,), record.id, at(1))
    assert check_request(revoked, None, at(2)).allowed is False
    assert check_request(revoked, "Bearer " + plain, at(2)).reason == "invalid_token"
