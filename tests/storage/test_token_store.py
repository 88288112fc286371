"""Persisted API tokens: rotation with a grace period, immediate revocation, hashes only, every change audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from plugin.policy.api_tokens import UnknownToken
from plugin.policy.audit import AuditLog
from plugin.storage.db import StateDB
from plugin.storage.token_store import TokenLabelError, TokenStore
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

START = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(db: StateDB) -> AuditLog:
    return AuditLog(db)


@pytest.fixture
def store(db: StateDB, audit: AuditLog, clock: Clock) -> TokenStore:
    return TokenStore(db, audit, clock=clock)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_without_tokens_requests_pass_and_after_create_the_token_is_required(store: TokenStore) -> None:
    assert store.check(None).reason == "no_tokens_configured"
    token, record = store.create("crm", actor="cli")
    assert store.records() == (record,)  # exact round trip, microseconds included
    assert store.check(bearer(token)).allowed
    assert store.check(None).reason == "missing_token"
    assert store.check(bearer(token + "x")).reason == "invalid_token"


def test_rotation_keeps_the_old_token_for_the_grace_period_only(store: TokenStore, clock: Clock) -> None:
    old, _ = store.create("crm", actor="cli")
    new, fresh = store.rotate(3600, actor="cli")
    assert store.check(bearer(old)).allowed and store.check(bearer(new)).allowed
    clock.now += timedelta(seconds=3599)
    assert store.check(bearer(old)).allowed
    clock.now += timedelta(seconds=1)
    assert not store.check(bearer(old)).allowed
    assert store.check(bearer(new)).record == fresh
    assert [r.id for r in store.active()] == [fresh.id]


def test_rotating_twice_never_extends_an_old_token(store: TokenStore, clock: Clock) -> None:
    first, _ = store.create(actor="cli")
    store.rotate(3600, actor="cli")
    clock.now += timedelta(seconds=1800)
    store.rotate(7200, actor="cli")
    clock.now += timedelta(seconds=1800)
    assert not store.check(bearer(first)).allowed


def test_revocation_is_immediate_and_unknown_ids_are_refused(store: TokenStore) -> None:
    token, record = store.create(actor="cli")
    store.rotate(86400, actor="cli")
    store.revoke(record.id, actor="cli")
    assert not store.check(bearer(token)).allowed
    with pytest.raises(UnknownToken):
        store.revoke("tok_000000000000", actor="cli")


def test_only_hashes_are_stored_and_the_audit_names_ids_only(
    store: TokenStore, audit: AuditLog, state_url: str
) -> None:
    token, record = store.create("crm", actor="cli")
    rotated, fresh = store.rotate(60, actor="cli")
    store.revoke(record.id, actor="cli")
    dump = repr(raw_sql(state_url, "SELECT * FROM rg_api_tokens")) + repr(raw_sql(state_url, "SELECT * FROM rg_audit_log"))
    assert token not in dump and rotated not in dump
    assert record.hash not in repr(raw_sql(state_url, "SELECT * FROM rg_audit_log"))
    entries = audit.entries(action="token.*")
    assert [(e.action, e.setting) for e in entries] == [
        ("token.create", record.id),
        ("token.rotate", fresh.id),
        ("token.revoke", record.id),
    ]
    assert record.id in entries[1].detail  # which token the rotation put on a deadline


def test_bad_labels_are_refused(store: TokenStore) -> None:
    with pytest.raises(TokenLabelError):
        store.create("x" * 101, actor="cli")
    with pytest.raises(TokenLabelError):
        store.create("line\nbreak", actor="cli")
    assert store.records() == ()
