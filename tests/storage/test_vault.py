"""The vault: encrypted originals, audited reads, expiry, and crypto-shredding that leaves nothing to recover."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from typing import List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from plugin.policy.audit import OK, REFUSED, AuditEntry, AuditLog
from plugin.storage.db import StateDB, sqlite_path
from plugin.storage import vault as vault_module
from plugin.storage.keys import MasterKey
from plugin.storage.vault import (
    TOKEN_RE,
    ForeignRecord,
    MasterKeyMismatch,
    RecordExpired,
    RecordShredded,
    RevealRefused,
    UnknownToken,
    Vault,
    VaultInputError,
    VaultIntegrityError,
    is_token,
    new_token,
)
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

CARD = "4111 1111 1111 1111"
PHONE = "+31 20 794 0000"
DAY = 86400
ADMINS = ("admin",)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(os.urandom(32))


@pytest.fixture
def audit(db: StateDB) -> AuditLog:
    return AuditLog(db)


@pytest.fixture
def vault(db: StateDB, master: MasterKey, audit: AuditLog, clock: FakeClock) -> Vault:
    return Vault(db, master, audit, clock=clock)


def reveal(vault: Vault, token: str, role: str = "admin", reason: str = "customer asked for a call back") -> str:
    return vault.reveal(token, actor="staff-1", role=role, reason=reason, allowed_roles=ADMINS, channel="rest")


def key_rows(url: str, token: str) -> int:
    return raw_sql(url, "SELECT COUNT(*) FROM rg_vault_keys WHERE token = :t", {"t": token})[0][0]


def all_audit_text(audit: AuditLog) -> str:
    return json.dumps([vars(entry) for entry in audit.entries()])


def test_store_then_reveal_returns_the_original_and_audits_without_it(vault: Vault, audit: AuditLog) -> None:
    token = vault.store(PHONE, pii_type="phone", conversation_id="conv-1", ttl_seconds=DAY)
    assert reveal(vault, token) == PHONE
    [entry] = audit.entries(action="vault.reveal")
    assert (entry.outcome, entry.actor, entry.role, entry.channel) == (OK, "staff-1", "admin", "rest")
    assert (entry.conversation_id, entry.scope) == ("conv-1", "phone")
    assert token in entry.detail and "call back" in entry.detail
    assert PHONE not in all_audit_text(audit)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=200))
def test_any_text_round_trips(vault: Vault, value: str) -> None:
    token = vault.store(value, pii_type="free_text", ttl_seconds=60)
    assert vault.lookup(token, reason="property test") == value


def test_the_bots_own_use_is_audited_as_vault_use(vault: Vault, audit: AuditLog) -> None:
    token = vault.store("493817", pii_type="otp", conversation_id="conv-9", ttl_seconds=600)
    assert vault.lookup(token, reason="verify admin OTP", actor="action_verify_otp") == "493817"
    [entry] = audit.entries(action="vault.use")
    assert entry.outcome == OK and entry.actor == "action_verify_otp" and "verify admin OTP" in entry.detail
    with pytest.raises(RevealRefused):
        vault.lookup(token, reason=" ")
    assert "493817" not in all_audit_text(audit)


@pytest.mark.parametrize("role, reason", [("agent", "callback"), ("admin", ""), ("admin", "   ")])
def test_reveal_without_an_allowed_role_and_a_reason_is_refused_and_audited(
    vault: Vault, audit: AuditLog, role: str, reason: str
) -> None:
    token = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    with pytest.raises(RevealRefused) as error:
        reveal(vault, token, role=role, reason=reason)
    assert CARD not in str(error.value)
    [entry] = audit.entries(action="vault.reveal")
    assert entry.outcome == REFUSED and entry.role == role
    assert CARD not in all_audit_text(audit)


def test_allowed_roles_given_as_one_string_is_not_a_substring_match(vault: Vault) -> None:
    token = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    with pytest.raises(RevealRefused):
        vault.reveal(token, actor="staff-1", role="adm", reason="x", allowed_roles="admin")
    assert vault.reveal(token, actor="staff-1", role="admin", reason="x", allowed_roles="admin") == CARD


def test_one_messages_values_are_stored_together_in_order_or_not_at_all(vault: Vault, state_url: str) -> None:
    tokens = vault.store_many([(CARD, "credit_card"), (PHONE, "phone")], conversation_id="c1", ttl_seconds=DAY)
    assert [reveal(vault, token) for token in tokens] == [CARD, PHONE]
    before = raw_sql(state_url, "SELECT COUNT(*) FROM rg_vault_records")[0][0]
    with pytest.raises(VaultInputError):
        vault.store_many([(PHONE, "phone"), (CARD, "credit card!")], conversation_id="c1", ttl_seconds=DAY)
    assert raw_sql(state_url, "SELECT COUNT(*) FROM rg_vault_records")[0][0] == before
    assert vault.store_many([], ttl_seconds=DAY) == []


def test_unknown_and_malformed_tokens_are_refused_and_audited(vault: Vault, audit: AuditLog) -> None:
    for token in (new_token(), "vlt_short", "'; DROP TABLE rg_vault_keys; --"):
        with pytest.raises(UnknownToken):
            reveal(vault, token)
    outcomes = [entry.outcome for entry in audit.entries(action="vault.reveal")]
    assert outcomes == [REFUSED] * 3
    assert "DROP TABLE" not in all_audit_text(audit)


def test_a_different_master_key_cannot_read_and_says_so(
    db: StateDB, vault: Vault, audit: AuditLog, clock: FakeClock, master: MasterKey
) -> None:
    token = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    other = Vault(db, MasterKey(os.urandom(32)), audit, clock=clock)
    with pytest.raises(MasterKeyMismatch, match=master.key_id):
        reveal(other, token)
    assert audit.entries(action="vault.reveal")[-1].outcome == "failed"


def test_a_wrong_master_key_fails_even_with_a_forged_key_id(
    db: StateDB, vault: Vault, audit: AuditLog, clock: FakeClock, state_url: str
) -> None:
    token = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    wrong = MasterKey(os.urandom(32))
    raw_sql(state_url, "UPDATE rg_vault_keys SET key_id = :k WHERE token = :t", {"k": wrong.key_id, "t": token})
    with pytest.raises(VaultIntegrityError):
        reveal(Vault(db, wrong, audit, clock=clock), token)


@pytest.mark.parametrize("columns", [("nonce", "ciphertext"), ("wrapped_key",)])
def test_swapping_rows_between_records_is_detected(vault: Vault, state_url: str, columns: tuple) -> None:
    first = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    second = vault.store(PHONE, pii_type="credit_card", ttl_seconds=DAY)
    table = "rg_vault_keys" if columns == ("wrapped_key",) else "rg_vault_records"
    for column in columns:
        raw_sql(
            state_url,
            f"UPDATE {table} SET {column} = (SELECT {column} FROM {table} WHERE token = :src) WHERE token = :dst",
            {"src": second, "dst": first},
        )
    with pytest.raises(VaultIntegrityError):
        reveal(vault, first)
    assert reveal(vault, second) == PHONE


@pytest.mark.parametrize(
    "assignment", ["pii_type = 'phone'", "conversation_id = 'conv-other'", "expires_at = expires_at + 86400"]
)
def test_altered_record_metadata_is_detected(vault: Vault, state_url: str, assignment: str) -> None:
    token = vault.store(CARD, pii_type="credit_card", conversation_id="conv-1", ttl_seconds=DAY)
    raw_sql(state_url, f"UPDATE rg_vault_records SET {assignment} WHERE token = :t", {"t": token})
    with pytest.raises(VaultIntegrityError):
        reveal(vault, token)


def test_an_expired_record_is_refused_and_shredded_on_access(vault: Vault, clock: FakeClock, state_url: str) -> None:
    token = vault.store(PHONE, pii_type="phone", ttl_seconds=3600)
    clock.now += 3599
    assert reveal(vault, token) == PHONE
    clock.now += 1
    with pytest.raises(RecordExpired):
        reveal(vault, token)
    assert key_rows(state_url, token) == 0
    with pytest.raises(RecordShredded):
        reveal(vault, token)


def test_purge_expired_removes_only_expired_records(vault: Vault, clock: FakeClock, state_url: str) -> None:
    short = [vault.store(PHONE, pii_type="phone", ttl_seconds=60) for _ in range(3)]
    long = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    assert vault.purge_expired(clock.now + 59) == 0
    assert vault.purge_expired(clock.now + 60) == 3
    for token in short:
        assert key_rows(state_url, token) == 0
        with pytest.raises(UnknownToken):
            reveal(vault, token)
    assert raw_sql(state_url, "SELECT COUNT(*) FROM rg_vault_records")[0][0] == 1
    assert reveal(vault, long) == CARD


def test_shred_makes_reveal_impossible_and_deletes_the_key_row(vault: Vault, state_url: str) -> None:
    token = vault.store(CARD, pii_type="credit_card", conversation_id="conv-1", ttl_seconds=DAY)
    assert key_rows(state_url, token) == 1
    assert vault.shred(token) is True
    assert key_rows(state_url, token) == 0
    assert raw_sql(state_url, "SELECT ciphertext, nonce FROM rg_vault_records WHERE token = :t", {"t": token}) == [
        (None, None)
    ]
    with pytest.raises(RecordShredded):
        reveal(vault, token)
    assert vault.shred(token) is False


def test_shred_conversation_shreds_only_that_conversation(vault: Vault, state_url: str) -> None:
    mine = [vault.store(value, pii_type="phone", conversation_id="conv-1", ttl_seconds=DAY) for value in (PHONE, CARD)]
    other = vault.store(PHONE, pii_type="phone", conversation_id="conv-2", ttl_seconds=DAY)
    assert vault.shred_conversation("conv-1") == 2
    assert vault.shred_conversation("conv-1") == 0
    for token in mine:
        with pytest.raises(RecordShredded):
            reveal(vault, token)
    assert reveal(vault, other) == PHONE


def test_with_an_owner_only_that_conversations_records_and_unassigned_ones_are_read_or_shredded(
    vault: Vault, audit: AuditLog
) -> None:
    mine = vault.store(PHONE, pii_type="phone", conversation_id="conv-1", ttl_seconds=DAY)
    unassigned = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)  # PIIMasker on a stock channel
    other = vault.store(PHONE, pii_type="phone", conversation_id="conv-2", ttl_seconds=DAY)
    tokens = [mine, unassigned, other]
    assert set(vault.read_for_rewrite(tokens, owner="conv-1")) == {mine, unassigned}
    assert set(vault.read_for_rewrite(tokens)) == set(tokens)
    with pytest.raises(ForeignRecord):
        vault.reveal(other, actor="staff-1", role="admin", reason="complaint", allowed_roles=ADMINS, owner="conv-1")
    refusal = audit.entries(action="vault.reveal")[-1]
    assert refusal.outcome == REFUSED and "conv-1" not in (refusal.detail or "")  # conversation ids may be phone numbers
    assert vault.count_unshredded(tokens, owner="conv-1") == 2
    assert vault.shred_many(tokens, owner="conv-1") == 2
    assert reveal(vault, other) == PHONE


def file_bytes(url: str) -> bytes:
    path = sqlite_path(url)
    assert path is not None
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_the_database_files_never_hold_the_plaintext_and_lose_the_key_on_shred(
    db: StateDB, vault: Vault, state_url: str
) -> None:
    if sqlite_path(state_url) is None:
        pytest.skip("inspects the SQLite files")
    # Another process keeps the database open, as a running bot does, so SQLite keeps its WAL file between writes.
    keeper = sqlite3.connect(sqlite_path(state_url))
    keeper.execute("SELECT COUNT(*) FROM rg_vault_keys").fetchall()
    secret = "NL91ABNA0417164300"
    token = vault.store(secret, pii_type="iban", conversation_id="conv-1", ttl_seconds=DAY)
    [(wrapped,)] = raw_sql(state_url, "SELECT wrapped_key FROM rg_vault_keys WHERE token = :t", {"t": token})
    [(ciphertext,)] = raw_sql(state_url, "SELECT ciphertext FROM rg_vault_records WHERE token = :t", {"t": token})
    before = file_bytes(state_url)
    assert secret.encode() not in before and secret.encode("utf-16-le") not in before
    assert wrapped in before and ciphertext in before  # sanity: the search would find them if present
    vault.shred(token)
    after = file_bytes(state_url)
    keeper.close()
    assert wrapped not in after and ciphertext not in after and secret.encode() not in after


def test_an_audit_failure_blocks_the_reveal(db: StateDB, master: MasterKey, clock: FakeClock) -> None:
    class BrokenAudit(AuditLog):
        def append(self, *args: object, **kwargs: object) -> AuditEntry:  # type: ignore[override]
            raise OSError("disk full")

    vault = Vault(db, master, BrokenAudit(db), clock=clock)
    token = vault.store(CARD, pii_type="credit_card", ttl_seconds=DAY)
    with pytest.raises(OSError):
        reveal(vault, token)


def test_tokens_are_opaque_unique_and_safe_in_text() -> None:
    tokens: List[str] = [new_token() for _ in range(5000)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens[:200]:
        assert is_token(token) and len(token) == 26 and token.startswith("vlt_")
        assert token[4:].isalnum() and token.isascii() and " " not in token and "#" not in token
    text = f"call me on {tokens[0]}, card {tokens[1]}."
    assert TOKEN_RE.findall(text) == tokens[:2]
    assert not is_token(tokens[0] + "x") and not is_token(tokens[0][:-1])


def test_token_characters_are_uniform_over_letters_and_digits() -> None:
    """Every one of the 62 characters equally likely: 131 random bits per token only if no character is favoured
    (a plain ``byte % 62`` would make the first eight ~25 % more frequent than the rest)."""
    counts: Counter = Counter("".join(new_token()[4:] for _ in range(20_000)))
    expected = 20_000 * 22 / 62
    assert len(counts) == 62
    assert all(abs(count - expected) < 0.06 * expected for count in counts.values()), counts.most_common(3)


def test_token_skips_random_bytes_that_would_bias_it(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([bytes([255, 248] * 22), bytes([0, 61, 62, 247] * 11)])
    monkeypatch.setattr(vault_module.secrets, "token_bytes", lambda n: next(draws))
    assert new_token() == "vlt_" + "a9a9" * 5 + "a9"  # 0 -> "a", 61 -> "9", 62 -> "a", 247 -> 247 % 62 = 61 -> "9"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"value": 4111, "pii_type": "card", "ttl_seconds": 60},
        {"value": CARD, "pii_type": "credit card", "ttl_seconds": 60},
        {"value": CARD, "pii_type": "", "ttl_seconds": 60},
        {"value": CARD, "pii_type": "card", "ttl_seconds": 0},
        {"value": CARD, "pii_type": "card", "ttl_seconds": -5},
        {"value": CARD, "pii_type": "card", "ttl_seconds": True},
        {"value": CARD, "pii_type": "card", "ttl_seconds": 1.5},
        {"value": CARD, "pii_type": "card", "ttl_seconds": 60, "conversation_id": "c" * 256},
    ],
)
def test_bad_store_arguments_are_refused_and_store_nothing(vault: Vault, state_url: str, kwargs: dict) -> None:
    arguments = dict(kwargs)
    value = arguments.pop("value")
    with pytest.raises(VaultInputError) as error:
        vault.store(value, **arguments)
    assert CARD not in str(error.value)
    assert raw_sql(state_url, "SELECT COUNT(*) FROM rg_vault_records")[0][0] == 0


def test_a_message_whose_write_fails_keeps_nothing(vault: Vault, state_url: str) -> None:
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate (JSON "\ud800") cannot be stored: refused before writing
        vault.store_many([(CARD, "credit_card"), (PHONE + "\ud800", "phone")], ttl_seconds=DAY)
    if not state_url.startswith("sqlite"):
        return
    # the key rows fail after the record rows went in: the whole message's write is undone
    raw_sql(state_url, "CREATE TRIGGER no_keys BEFORE INSERT ON rg_vault_keys BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(DBAPIError, match="disk full") as error:
        vault.store_many([(CARD, "credit_card"), (PHONE, "phone")], conversation_id="c2", ttl_seconds=DAY)
    assert error.value.params is None and "parameters" not in str(error.value)  # not even the ciphertexts
    assert raw_sql(state_url, "SELECT COUNT(*) FROM rg_vault_records")[0][0] == 0
