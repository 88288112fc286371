"""One master key per deployment: the state database records the fingerprint of the key it was first opened with,
and a process holding another key is refused.

Several machines or processes share one state database (PostgreSQL, or SQLite beside both servers). If one of them
created its own key file instead of sharing ``$RASA_GUARD_MASTER_KEY`` (or the key file), its vault records could not
be read by the others, the action server would distrust the Rasa server's sealed metadata, and every conversation
would be stored under another pseudonym: split transcripts that no error reports. Only the non-secret key id is
stored.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from plugin.storage.db import StateDB, metadata
from plugin.storage.keys import MASTER_KEY_ENV, MasterKey, MasterKeyError

deployment_key = Table(
    "rg_deployment_key",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("key_id", String(32), nullable=False),
)


def check_deployment_key(db: StateDB, key: MasterKey) -> None:
    """Record ``key``'s id on first use; refuse a key whose id differs from the recorded one."""
    db.ensure_tables(deployment_key)
    recorded = _recorded(db)
    if recorded is None:
        try:
            with db.write() as connection:
                connection.execute(insert(deployment_key).values(id=1, key_id=key.key_id))
            return
        except IntegrityError:  # another process recorded its key first
            recorded = _recorded(db)
    if recorded != key.key_id:
        raise MasterKeyError(
            f"this process's master key ({key.key_id}) is not the one the state database was first opened with "
            f"({recorded}); give every process of the deployment the same key: ${MASTER_KEY_ENV} or one shared key file"
        )


def _recorded(db: StateDB) -> "str | None":
    with db.read() as connection:
        return connection.execute(select(deployment_key.c.key_id).where(deployment_key.c.id == 1)).scalar()
