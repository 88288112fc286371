"""The audit trail: an append-only, hash-chained table of who did what to which setting or record, and how it ended.

Every row stores SHA-256 over its own content (id included) and the previous row's hash; a one-row head table holds
the last id and hash. ``verify`` recomputes the chain and names the first row of every break, so an edited, deleted,
inserted or reordered row is detected (an attacker who can rewrite every later hash and the head is not: export the
head hash elsewhere to anchor it). Callers pass already-masked values; ``redact`` masks them once more before writing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, List, Optional, TextIO, Tuple

from sqlalchemy import Column, Integer, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.storage.db import StateDB, metadata

OK = "ok"
REFUSED = "refused"
FAILED = "failed"
OUTCOMES = frozenset({OK, REFUSED, FAILED})

GENESIS_HASH = "0" * 64
REDACTION_FAILED = "[redaction failed]"
_ACTION_RE = re.compile(r"^[a-z0-9_.-]{1,100}$")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

audit_log = Table(
    "rg_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False, index=True),
    Column("actor", String(255)),
    Column("role", String(64)),
    Column("channel", String(100)),
    Column("conversation_id", String(255)),
    Column("action", String(100), nullable=False, index=True),
    Column("setting", String(255)),
    Column("scope", String(255)),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# The chain head: one row (id 1). Appenders lock it, so two processes can never both extend the same last row.
audit_head = Table(
    "rg_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)


class AuditError(Exception):
    """An audit entry was rejected (bad action or outcome); nothing was written."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail, as stored (values already masked)."""

    id: int
    at: str
    actor: Optional[str]
    role: Optional[str]
    channel: Optional[str]
    conversation_id: Optional[str]
    action: str
    setting: Optional[str]
    scope: Optional[str]
    old_value: Optional[str]
    new_value: Optional[str]
    outcome: str
    detail: Optional[str]
    prev_hash: str
    row_hash: str


ENTRY_FIELDS: Tuple[str, ...] = tuple(f.name for f in fields(AuditEntry))
_HASHED_FIELDS = ENTRY_FIELDS[:-1]  # everything except row_hash itself


@dataclass(frozen=True)
class ChainProblem:
    row_id: int
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    rows: int
    head_id: int
    head_hash: str
    problems: Tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def row_hash(values: dict) -> str:
    """SHA-256 over the canonical JSON of a row's fields (id and prev_hash included, row_hash excluded)."""
    canonical = json.dumps([values[name] for name in _HASHED_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def format_time(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so stored times sort and compare as strings on every database."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AuditLog:
    """Append to, verify and read the audit trail in the state database."""

    def __init__(
        self,
        db: StateDB,
        *,
        redact: Optional[Callable[[str], str]] = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._db = db
        self._redact = redact
        self._clock = clock
        db.ensure_tables(audit_log, audit_head)
        self._ensure_head()

    def _ensure_head(self) -> None:
        try:
            with self._db.write() as connection:
                if connection.execute(select(audit_head.c.id)).first() is None:
                    connection.execute(insert(audit_head).values(id=1, last_id=0, last_hash=GENESIS_HASH))
        except IntegrityError:
            pass  # another process created it first

    def append(
        self,
        action: str,
        *,
        outcome: str,
        actor: Optional[str] = None,
        role: Optional[str] = None,
        channel: Optional[str] = None,
        conversation_id: Optional[str] = None,
        setting: Optional[str] = None,
        scope: Optional[str] = None,
        old_value: Any = None,
        new_value: Any = None,
        detail: Optional[str] = None,
    ) -> AuditEntry:
        """Add one entry. Values must already be masked; non-strings are stored as JSON; ``redact`` is applied on top."""
        if not _ACTION_RE.match(action):
            raise AuditError("audit action must be 1-100 characters of a-z, 0-9, '_', '.', '-', e.g. 'settings.change'")
        if outcome not in OUTCOMES:
            raise AuditError(f"audit outcome must be one of {sorted(OUTCOMES)}")
        values = {
            "at": format_time(self._clock()),
            "actor": actor,
            "role": role,
            "channel": channel,
            "conversation_id": self._db.conversation_ids.stored_optional(conversation_id),
            "action": action,
            "setting": setting,
            "scope": scope,
            "old_value": self._clean(old_value),
            "new_value": self._clean(new_value),
            "outcome": outcome,
            "detail": self._clean(detail),
        }
        with self._db.write() as connection:
            head = connection.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).one()
            values["id"] = head.last_id + 1
            values["prev_hash"] = head.last_hash
            values["row_hash"] = row_hash(values)
            connection.execute(insert(audit_log).values(**values))
            connection.execute(
                update(audit_head).where(audit_head.c.id == 1).values(last_id=values["id"], last_hash=values["row_hash"])
            )
        return AuditEntry(**values)

    def _clean(self, value: Any) -> Optional[str]:
        if value is None:
            return None
        as_text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        if self._redact is None:
            return as_text
        try:
            return self._redact(as_text)
        except Exception:  # fail closed: never fall back to the unredacted value
            return REDACTION_FAILED

    def head(self) -> Tuple[int, str]:
        """The last row id and its hash: note it somewhere else to detect a wholesale rewrite later."""
        with self._db.read() as connection:
            row = connection.execute(select(audit_head).where(audit_head.c.id == 1)).one()
        return row.last_id, row.last_hash

    def verify(self, max_problems: int = 100) -> VerifyResult:
        """Recompute the chain; report every row where it breaks (edited, missing, inserted or reordered rows)."""
        problems: List[ChainProblem] = []
        rows = 0
        with self._db.read(snapshot=True) as connection:
            head = connection.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            query = select(audit_log).order_by(audit_log.c.id)
            previous_id, previous_hash = 0, GENESIS_HASH
            for row in connection.execution_options(stream_results=True).execute(query).yield_per(1000):
                rows += 1
                if row.id != previous_id + 1:
                    problems.append(ChainProblem(row.id, f"rows {previous_id + 1}..{row.id - 1} are missing (deleted?)"))
                elif row.prev_hash != previous_hash:
                    problems.append(ChainProblem(row.id, "does not link to the previous row (row inserted or reordered?)"))
                if row_hash(dict(row._mapping)) != row.row_hash:
                    problems.append(ChainProblem(row.id, "content does not match its hash (row edited?)"))
                previous_id, previous_hash = row.id, row.row_hash
                if len(problems) >= max_problems:
                    break
            else:
                problems.extend(_head_problems(previous_id, previous_hash, head.last_id, head.last_hash))
        return VerifyResult(rows=rows, head_id=head.last_id, head_hash=head.last_hash, problems=tuple(problems))

    def entries(
        self,
        *,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        action: Optional[str] = None,
        actor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[AuditEntry]:
        """Entries oldest first; ``action`` ending in ``*`` matches a prefix; ``limit`` keeps the newest N."""
        query = select(audit_log)
        if since is not None:
            query = query.where(audit_log.c.at >= format_time(since))
        if until is not None:
            query = query.where(audit_log.c.at < format_time(until))
        if action is not None:
            if action.endswith("*"):
                prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(audit_log.c.action.like(prefix + "%", escape="\\"))
            else:
                query = query.where(audit_log.c.action == action)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        query = query.order_by(audit_log.c.id.desc())
        if limit is not None:
            if limit < 1:
                raise AuditError("limit must be a positive number of entries")
            query = query.limit(limit)
        with self._db.read() as connection:
            found = [AuditEntry(**row._mapping) for row in connection.execute(query)]
        return found[::-1]


def _head_problems(last_id: int, last_hash: str, head_id: int, head_hash: str) -> List[ChainProblem]:
    """Compare the last row with the chain head, which catches rows deleted from or added at the end."""
    if last_id < head_id:
        return [ChainProblem(last_id + 1, f"rows {last_id + 1}..{head_id} are missing (deleted?)")]
    if last_id > head_id:
        return [ChainProblem(head_id + 1, f"rows {head_id + 1}..{last_id} are not in the chain head (inserted?)")]
    if last_hash != head_hash:
        return [ChainProblem(last_id, "last row does not match the chain head (row edited?)")]
    return []


def write_jsonl(entries: Iterable[AuditEntry], out: TextIO) -> int:
    """One JSON object per line with every stored field (hashes included, so an export can be re-verified)."""
    count = 0
    for entry in entries:
        out.write(json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def write_csv(entries: Iterable[AuditEntry], out: TextIO) -> int:
    """CSV with a header row; cells that a spreadsheet would run as a formula get a leading apostrophe."""
    writer = csv.writer(out)
    writer.writerow(ENTRY_FIELDS)
    count = 0
    for entry in entries:
        writer.writerow([_csv_cell(getattr(entry, name)) for name in ENTRY_FIELDS])
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_CSV_FORMULA_START):
        return "'" + value
    return value
