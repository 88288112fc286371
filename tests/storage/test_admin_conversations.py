"""OTP code requests across processes: the Rasa server asks, for every message with a 4-8 digit number, whether the
admin chat awaits a code from that conversation; the action server writes the requests."""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert

from plugin.storage import change_signal
from plugin.storage.admin_conversations import CODE_MASKING_GRACE_SECONDS, AdminConversations, admin_code_requests
from plugin.storage.db import StateDB
from tests.storage.backends import db, state_url  # noqa: F401  (fixtures)

CONVERSATION = "conversation-7"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_request_written_by_another_process_is_seen_at_once_and_so_is_its_end(db: StateDB, state_url: str) -> None:
    server = StateDB.open(state_url)  # the Rasa server's own connection to the state database
    try:
        reader = AdminConversations(server)
        assert not reader.masks_codes(CONVERSATION)
        writer = AdminConversations(db)  # the action server
        writer.expect_code(CONVERSATION, "staff-1", ttl_seconds=300)
        assert reader.masks_codes(CONVERSATION) and not reader.masks_codes("another-conversation")
        writer.code_received(CONVERSATION)
        assert not reader.masks_codes(CONVERSATION)
    finally:
        server.close()


def test_expiry_and_the_grace_period_are_judged_when_asked_not_when_read(db: StateDB) -> None:
    clock = Clock()
    conversations = AdminConversations(db, clock=clock)
    conversations.expect_code(CONVERSATION, "staff-1", ttl_seconds=60)
    assert conversations.masks_codes(CONVERSATION)
    clock.now += 60 + CODE_MASKING_GRACE_SECONDS - 1  # the request has expired; its numbers are still masked
    assert conversations.masks_codes(CONVERSATION) and conversations.awaiting_code(CONVERSATION) is None
    clock.now += 1
    assert not conversations.masks_codes(CONVERSATION)


def test_on_sqlite_asking_costs_no_query_until_a_change_is_signalled(
    db: StateDB, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not state_url.startswith("sqlite"):
        pytest.skip("the change signal is a file beside a SQLite state database")
    server = StateDB.open(state_url)
    queries = []
    event.listen(server.engine, "before_cursor_execute", lambda *args: queries.append(1))
    try:
        reader = AdminConversations(server)
        reader.masks_codes(CONVERSATION)
        queries.clear()
        assert not any(reader.masks_codes(CONVERSATION) for _ in range(50)) and queries == []
        AdminConversations(db).expect_code(CONVERSATION, "staff-1", ttl_seconds=300)
        assert reader.masks_codes(CONVERSATION)  # seen at once, through the signal
        # A writer that died between its commit and its signal is caught up by the periodic re-read.
        with db.write() as connection:
            connection.execute(insert(admin_code_requests).values(
                conversation_id=server.conversation_ids.stored("late"), staff_id="staff-2", expires_at=2**40))
        assert not reader.masks_codes("late")
        monkeypatch.setattr(change_signal, "REVALIDATE_SECONDS", 0.0)
        assert reader.masks_codes("late")
    finally:
        server.close()
