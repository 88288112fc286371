"""Settings changed at run time (through the admin chat or the CLI), stored in the plugin-state database and versioned.

Resolution order stays the one of ``plugin.policy.settings.resolve``: defaults < ``privacy.yml`` < runtime changes <
per-channel overrides. Each stored change is one dotted key in one scope ("" = global, else a channel name). A one-row
version counter goes up on every write, so a process polls ``version()`` (one cheap query) and only re-reads the
changes when it moved. Changes are validated by resolving every scope with the change applied before anything is written.
On a SQLite state database a change signal (``change_signal``) makes ``version()`` one ``stat`` while nothing changed:
settings "as of this instant" cost no query on every message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import Column, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.policy import blacklist, permissions
from plugin.policy.audit import OK, AuditEntry, AuditLog
from plugin.policy.schema import EDITABLE_GROUPS, Settings
from plugin.policy.settings import PrivacyConfig, resolve
from plugin.policy.validation import SettingsError, get_value, to_mapping
from plugin.storage.change_signal import ChangeSignal, SignalledRead
from plugin.storage.db import StateDB, metadata

logger = logging.getLogger(__name__)

GLOBAL = ""
SIGNAL_SUFFIX = ".settings-version"  # beside a SQLite state database: replaced after every settings change
MAX_SCOPE_CHARS = 100
CHANGE_ACTION = "settings.change"
RESET_ACTION = "settings.reset"
# Lists whose entries are personal data: shown masked in confirmations and audit entries.
BLACKLIST_LISTS: Tuple[str, ...] = tuple(f"blacklist.{name}" for name in blacklist.FIELD_KINDS)
TERM_LISTS: Tuple[str, ...] = ("masking.allow_list", "masking.deny_list")
CUSTOM_RULES = "masking.custom_rules"

settings_changes = Table(
    "rg_settings_changes",
    metadata,
    Column("scope", String(MAX_SCOPE_CHARS), primary_key=True),  # "" = global, else a channel name
    Column("setting_key", String(255), primary_key=True),  # dotted key, e.g. session.idle_timeout_seconds
    Column("value", Text, nullable=False),  # JSON
    Column("version", Integer, nullable=False),  # the version this row was written at
)

settings_version = Table(
    "rg_settings_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)


class StaleChange(Exception):
    """The settings changed between ``propose`` and ``apply``; propose the change again and confirm it anew."""


@dataclass(frozen=True)
class RuntimeSettings:
    """Every stored runtime change at one version, as ``resolve`` takes them (nested mappings)."""

    version: int
    global_changes: Mapping[str, Any] = field(repr=False)
    channel_changes: Mapping[str, Mapping[str, Any]] = field(repr=False)
    flat: Mapping[str, Mapping[str, Any]] = field(repr=False)  # scope -> {dotted key: value}

    @classmethod
    def from_flat(cls, version: int, flat: Mapping[str, Mapping[str, Any]]) -> "RuntimeSettings":
        nested = {scope: _nest(changes) for scope, changes in flat.items() if changes}
        channels = {scope: changes for scope, changes in nested.items() if scope != GLOBAL}
        return cls(version, nested.get(GLOBAL, {}), channels, {s: dict(c) for s, c in flat.items()})

    def resolve(self, config: PrivacyConfig, channel: Optional[str] = None) -> Settings:
        """The settings in force for ``channel`` (None or "" = global)."""
        return resolve(config, channel or None, self.global_changes, self.channel_changes)

    def with_change(self, scope: str, key: str, value: Any) -> "RuntimeSettings":
        """These changes plus one more (``value`` None drops ``key`` and everything under it)."""
        flat = {s: dict(c) for s, c in self.flat.items()}
        changes = {k: v for k, v in flat.get(scope, {}).items() if not _covers(key, k)}
        if value is not None:
            changes[key] = value
        flat[scope] = changes
        return RuntimeSettings.from_flat(self.version, flat)


@dataclass(frozen=True)
class Change:
    """A validated, not yet written change of one setting in one scope; ``shown_*`` are safe to display and audit."""

    key: str
    scope: str
    old: Any = field(repr=False)  # effective value before (plain form)
    new: Any = field(repr=False)  # value stored; None when ``reset``
    shown_old: str = ""
    shown_new: str = ""
    reset: bool = False
    base_version: int = 0

    @property
    def scope_name(self) -> str:
        return self.scope or "global"


class SettingsStore:
    """Read, validate and write runtime settings changes; every write bumps the version and is audited."""

    def __init__(self, db: StateDB, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        self._signal = ChangeSignal(db, SIGNAL_SUFFIX)
        self._version = SignalledRead(self._signal, self._read_version)
        db.ensure_tables(settings_changes, settings_version)
        try:
            with db.write() as connection:
                if connection.execute(select(settings_version.c.id)).first() is None:
                    connection.execute(insert(settings_version).values(id=1, version=0))
        except IntegrityError:
            pass  # another process created it first

    def version(self) -> int:
        """The current settings version: one indexed single-row read, or on SQLite one ``stat`` of the change signal
        while nothing changed (``change_signal``)."""
        return self._version.get()

    def _read_version(self) -> int:
        with self._db.read() as connection:
            return int(connection.execute(select(settings_version.c.version).where(settings_version.c.id == 1)).scalar_one())

    def snapshot(self) -> RuntimeSettings:
        """All stored changes and the version they belong to, read consistently."""
        with self._db.read(snapshot=True) as connection:
            version = int(connection.execute(select(settings_version.c.version).where(settings_version.c.id == 1)).scalar_one())
            rows = connection.execute(select(settings_changes)).all()
        flat: Dict[str, Dict[str, Any]] = {}
        for row in rows:
            flat.setdefault(row.scope, {})[row.setting_key] = json.loads(row.value)
        return RuntimeSettings.from_flat(version, flat)

    def propose(
        self, config: PrivacyConfig, key: str, value: Any, scope: str = GLOBAL, *, role: Optional[str] = None
    ) -> Change:
        """Validate setting ``key`` to ``value`` in ``scope`` against the full resolved settings; writes nothing.

        With ``role``, also refuse (``permissions.PermissionDenied``) what that role may not change.
        """
        if value is None:
            raise SettingsError(key, "needs a value; reset it to return to the value of privacy.yml")
        runtime = self.snapshot()
        current = self._current(config, runtime, key, scope, role)
        old = to_mapping(get_value(current, key))
        value = _normalise_lists(key, to_mapping(value), current.blacklist.default_region)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise SettingsError(key, "must be text, a number, true/false, a list or a mapping") from None
        return self._validated(config, runtime.with_change(scope, key, value), key, scope, old, value, False, current)

    def propose_reset(self, config: PrivacyConfig, key: str, scope: str = GLOBAL, *, role: Optional[str] = None) -> Change:
        """Validate dropping the runtime change of ``key`` (and of keys under it) in ``scope``, back to the file's value."""
        runtime = self.snapshot()
        current = self._current(config, runtime, key, scope, role)
        stored = runtime.flat.get(scope, {})
        if not any(_covers(key, k) or _covers(k, key) for k in stored):
            raise SettingsError(key, f"has no runtime change in scope {scope or 'global'} to reset")
        old = to_mapping(get_value(current, key))
        return self._validated(config, runtime.with_change(scope, key, None), key, scope, old, None, True, current)

    def add_to_list(
        self, config: PrivacyConfig, key: str, item: str, scope: str = GLOBAL, *, role: Optional[str] = None
    ) -> Change:
        """Propose ``key`` with one more entry; blacklist entries are normalised, so notation never makes a duplicate."""
        items, region = self._list(config, key, scope)
        entry = _normalise_item(key, item, region)
        if any(_normalise_item(key, existing, region, strict=False) == entry for existing in items):
            raise SettingsError(key, "already contains that entry")
        return self.propose(config, key, list(items) + [entry], scope, role=role)

    def remove_from_list(
        self, config: PrivacyConfig, key: str, item: str, scope: str = GLOBAL, *, role: Optional[str] = None
    ) -> Change:
        """Propose ``key`` without the entry equal to ``item`` (compared after normalisation)."""
        items, region = self._list(config, key, scope)
        entry = _normalise_item(key, item, region)
        kept = [existing for existing in items if _normalise_item(key, existing, region, strict=False) != entry]
        if len(kept) == len(items):
            raise SettingsError(key, "does not contain that entry")
        return self.propose(config, key, kept, scope, role=role)

    def apply(
        self,
        change: Change,
        *,
        actor: str,
        role: Optional[str] = None,
        channel: Optional[str] = None,
        conversation_id: Optional[str] = None,
    ) -> int:
        """Write a proposed change atomically, bump the version and audit it; returns the new version.

        Raises ``StaleChange`` (writing nothing) if any setting changed since the proposal was validated.
        """
        with self._db.write() as connection:
            version = connection.execute(
                select(settings_version.c.version).where(settings_version.c.id == 1).with_for_update()
            ).scalar_one()
            if version != change.base_version:
                raise StaleChange("the settings were changed by someone else meanwhile; propose the change again")
            new_version = version + 1
            in_scope = settings_changes.c.scope == change.scope
            stored = connection.execute(select(settings_changes.c.setting_key).where(in_scope)).scalars().all()
            superseded = [k for k in stored if _covers(change.key, k)]
            if superseded:
                connection.execute(delete(settings_changes).where(in_scope, settings_changes.c.setting_key.in_(superseded)))
            if not change.reset:
                connection.execute(
                    insert(settings_changes).values(
                        scope=change.scope, setting_key=change.key, value=json.dumps(change.new), version=new_version
                    )
                )
            connection.execute(update(settings_version).where(settings_version.c.id == 1).values(version=new_version))
        self._signal.signal()
        # Audited after the commit: the audit log takes its own write lock (a crash in between loses only the entry).
        self._audit.append(
            RESET_ACTION if change.reset else CHANGE_ACTION,
            outcome=OK,
            actor=actor,
            role=role,
            channel=channel,
            conversation_id=conversation_id,
            setting=change.key,
            scope=change.scope_name,
            old_value=change.shown_old,
            new_value=change.shown_new,
            detail=f"version {new_version}",
        )
        return new_version

    def reset(self, config: PrivacyConfig, key: str, scope: str = GLOBAL, *, actor: str, role: Optional[str] = None) -> int:
        """Drop a runtime change (validated like any change) and audit it; returns the new version."""
        return self.apply(self.propose_reset(config, key, scope, role=role), actor=actor, role=role)

    def history(self, limit: int = 20) -> List[AuditEntry]:
        """The newest settings changes and resets, oldest first, from the audit trail (values masked)."""
        return self._audit.entries(action="settings.*", limit=limit)

    def _current(
        self, config: PrivacyConfig, runtime: RuntimeSettings, key: str, scope: str, role: Optional[str]
    ) -> Settings:
        _check_scope(scope)
        group = key.split(".", 1)[0]
        if group not in EDITABLE_GROUPS:
            raise SettingsError(
                key, f"cannot be changed at run time; editable groups: {', '.join(EDITABLE_GROUPS)} (edit privacy.yml)"
            )
        current = runtime.resolve(config, scope)
        get_value(current, key)  # unknown keys are refused here
        if role is not None:
            permissions.require_edit(current, role, key)
        return current

    def _list(self, config: PrivacyConfig, key: str, scope: str) -> Tuple[Sequence[str], str]:
        current = self._current(config, self.snapshot(), key, scope, None)
        items = get_value(current, key)
        if not isinstance(items, tuple) or not all(isinstance(i, str) for i in items):
            raise SettingsError(key, "is not a list of entries; set it with a value instead")
        return items, current.blacklist.default_region

    def _validated(
        self,
        config: PrivacyConfig,
        candidate: RuntimeSettings,
        key: str,
        scope: str,
        old: Any,
        value: Any,
        reset: bool,
        current: Settings,
    ) -> Change:
        resolved = candidate.resolve(config, scope)
        # A global change must also leave every channel valid (a channel may override a related setting).
        if scope == GLOBAL:
            for channel in sorted(set(config.channel_overrides) | set(candidate.channel_changes)):
                try:
                    candidate.resolve(config, channel)
                except SettingsError as error:
                    message = str(error).split(": ", 1)[-1]
                    raise SettingsError(error.key, f"{message} (with the overrides of channel {channel})") from None
        if "roles" not in resolved.roles.edit.get("admin", ()):
            raise SettingsError("roles.edit.admin", "must keep the roles group, or no one could undo this in the chat")
        new_plain = to_mapping(get_value(resolved, key))
        region = current.blacklist.default_region
        return Change(
            key=key,
            scope=scope,
            old=old,
            new=value,
            shown_old=shown_value(key, old, region),
            shown_new=shown_value(key, new_plain, region),
            reset=reset,
            base_version=candidate.version,
        )


class LiveSettings:
    """Per-process resolved settings that follow runtime changes: polls ``version()`` at most every ``poll_seconds``.

    If stored changes stop validating (e.g. after a schema change), the last good settings stay in force and the
    problem is logged (key only, never a value).
    """

    def __init__(
        self,
        store: SettingsStore,
        config: PrivacyConfig,
        *,
        poll_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._config = config
        self._poll = poll_seconds
        self._clock = clock
        # Re-entrant: a refresh may log, and log masking reads the settings again on the same thread.
        self._lock = threading.RLock()
        self._runtime = store.snapshot()
        self._checked_at = clock()
        self._resolved: Dict[str, Settings] = {}

    @property
    def version(self) -> int:
        self._refresh()
        return self._runtime.version

    def changed_scopes(self) -> Tuple[str, ...]:
        """The channel scopes that have runtime changes (at most ``poll_seconds`` behind the database)."""
        self._refresh()
        return tuple(self._runtime.channel_changes)

    def settings(self, channel: Optional[str] = None) -> Settings:
        """Settings in force for ``channel`` now (at most ``poll_seconds`` behind the database)."""
        self._refresh()
        scope = channel or GLOBAL
        with self._lock:
            found = self._resolved.get(scope)
            if found is None:
                found = self._runtime.resolve(self._config, channel)
                self._resolved[scope] = found
        return found

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked_at < self._poll:
            return
        with self._lock:
            self._checked_at = now
            if self._store.version() == self._runtime.version:
                return
            runtime = self._store.snapshot()
            try:
                fresh = {GLOBAL: runtime.resolve(self._config)}
            except SettingsError as error:
                logger.error("runtime settings version %s refused (%s); keeping version %s", runtime.version, error.key, self._runtime.version)
                return
            self._runtime, self._resolved = runtime, fresh


def shown_value(key: str, value: Any, region: str) -> str:
    """A value as confirmations and the audit trail may show it: blacklist entries, custom terms and custom rules'
    patterns and context words masked."""
    return json.dumps(_masked(key, value, region), ensure_ascii=False, sort_keys=True)


def _masked(key: str, value: Any, region: str) -> Any:
    if isinstance(value, Mapping):
        return {name: _masked(f"{key}.{name}", item, region) for name, item in value.items()}
    if isinstance(value, (list, tuple)) and key in BLACKLIST_LISTS:
        return [_mask_entry(key, str(item), region) for item in value]
    if isinstance(value, (list, tuple)) and key in TERM_LISTS:
        return [blacklist.mask_text(str(item)) for item in value]
    if isinstance(value, (list, tuple)) and key == CUSTOM_RULES:
        return [_masked_rule(rule) for rule in value]
    return value


def _masked_rule(rule: Any) -> Any:
    """A rule's pattern and context words can spell out what it hides (a name, an account word): shown masked."""
    if not isinstance(rule, Mapping):
        return blacklist.mask_text(str(rule))
    shown = dict(rule)
    if isinstance(shown.get("pattern"), str):
        shown["pattern"] = blacklist.mask_text(shown["pattern"])
    if isinstance(shown.get("context_words"), (list, tuple)):
        shown["context_words"] = [blacklist.mask_text(str(word)) for word in shown["context_words"]]
    return shown


def _mask_entry(key: str, text: str, region: str) -> str:
    try:
        return blacklist.parse_entry(text, region, blacklist.FIELD_KINDS[key.split(".", 1)[1]]).masked
    except (blacklist.InvalidBlacklistEntry, ValueError):
        return blacklist.mask_text(text)


def _normalise_lists(key: str, value: Any, region: str) -> Any:
    """Blacklist lists are stored normalised (E.164, lower-case e-mail), so one entry has one spelling."""
    if isinstance(value, Mapping):
        return {name: _normalise_lists(f"{key}.{name}", item, region) for name, item in value.items()}
    if key in BLACKLIST_LISTS and isinstance(value, list):
        return [_normalise_item(key, item, region) for item in value]
    return value


def _normalise_item(key: str, item: Any, region: str, strict: bool = True) -> Any:
    if key not in BLACKLIST_LISTS:
        if not isinstance(item, str) or not item.strip():
            raise SettingsError(key, "entries must be non-empty text")
        return item.strip()
    try:
        return blacklist.parse_entry(item, region, blacklist.FIELD_KINDS[key.split(".", 1)[1]]).settings_value
    except blacklist.InvalidBlacklistEntry as error:
        if not strict:
            return item  # an entry already stored but unparseable is compared as written
        raise SettingsError(key, str(error)) from None


def _covers(key: str, other: str) -> bool:
    """``other`` is ``key`` or a setting under it (``masking.types`` covers ``masking.types.email``)."""
    return other == key or other.startswith(key + ".")


def _nest(changes: Mapping[str, Any]) -> Dict[str, Any]:
    nested: Dict[str, Any] = {}
    for key in sorted(changes, key=lambda k: k.count(".")):  # parents first, so children merge into them
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        value = changes[key]
        node[parts[-1]] = json.loads(json.dumps(value))  # a private copy: callers may not mutate stored values
    return nested


def _check_scope(scope: str) -> None:
    if not isinstance(scope, str) or len(scope) > MAX_SCOPE_CHARS or scope != scope.strip():
        raise SettingsError("(scope)", f"scope must be '' (global) or a channel name of at most {MAX_SCOPE_CHARS} characters")
