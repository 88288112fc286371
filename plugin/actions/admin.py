"""The admin chat: staff log in with an OTP, then change settings by chatting; every change is read back and confirmed.

Rights come only from the staff directory (channel + sender id) plus a verified OTP that opened an editing window for
this conversation; never from metadata, ``/intent{...}`` shortcuts or slots. Anyone else who uses an admin phrase gets
the bot's ordinary "didn't get that" reply, and the attempt is audited as ``admin.refused``. The text the actions see
is masked: values such as a phone number to block are read from the vault tokens of the message's PII entities, and
only after the sender has been verified. A pending change lives in the state DB (new value in the vault), not in a slot.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from plugin.actions.admin_delivery import DeliveryUnavailable, deliver_token
from plugin.actions.context import trusted_guard_metadata
from plugin.policy import admin_commands as grammar
from plugin.policy import permissions
from plugin.policy.admin_commands import Command, ParseError
from plugin.policy.audit import REFUSED
from plugin.policy.guard import ENTITY_EXTRACTOR, Guard, current_guard
from plugin.policy.ip_allowlist import IPAllowlist
from plugin.policy.otp import (
    EXPIRED, LOCKED, NO_CODE, CodeNotSent, EditingWindows, LockedOut, OtpService, ResendTooSoon, sender_from_env,
)
from plugin.policy.schema import EDITABLE_GROUPS, Settings
from plugin.policy.staff import CODE, StaffDirectory, StaffMember
from plugin.policy.validation import SettingsError, get_value, to_mapping
from plugin.storage.admin_conversations import AdminConversations, PendingChange
from plugin.storage.settings_store import Change, StaleChange, shown_value
from plugin.storage.token_store import TokenStore
from plugin.storage.vault import VaultError, is_token

logger = logging.getLogger(__name__)

PENDING_SLOT = "admin_pending"
NEUTRAL_RESPONSE = "utter_default"  # what a customer gets for an admin phrase: the bot's ordinary "didn't get that"
PENDING_TTL_SECONDS = 600
ROTATE_KEY = "access.token_grace_seconds"  # rotating tokens needs the right to edit the access group
# A code typed while one is awaited is a pin_puk entity, or long_number where the engine's own rule caught it first.
CODE_ENTITIES = ("pin_puk", "long_number")
LOGIN_HINT = "Please log in first: say 'log in as admin'."


@dataclass(frozen=True)
class Services:
    """The state-backed services the admin actions use, opened once per state database."""

    guard: Guard
    directory: StaffDirectory
    windows: EditingWindows
    otp: OtpService
    conversations: AdminConversations
    tokens: TokenStore


_services: Dict[int, Services] = {}


def services(guard: Optional[Guard] = None) -> Services:
    guard = guard or current_guard()
    state = guard.state
    found = _services.get(id(state))
    if found is None or found.guard is not guard:
        region = guard.settings().blacklist.default_region
        directory = StaffDirectory(state.db, state.master_key, state.audit, default_region=region)
        windows = EditingWindows(state.db, state.audit)
        otp = OtpService(state.db, directory, state.master_key, state.audit, windows, sender=sender_from_env())
        found = Services(guard, directory, windows, otp, AdminConversations(state.db), TokenStore(state.db, state.audit))
        _services[id(state)] = found
    return found


def guard_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The plugin's own metadata of the latest message (sealed by the guarded channel), never the client's."""
    return trusted_guard_metadata(tracker)


@dataclass(frozen=True)
class Caller:
    """Who sent the latest message, as far as the directory (not the client) says."""

    conversation_id: str
    channel: Optional[str]
    member: Optional[StaffMember]
    metadata: Dict[str, Any]
    intent: str


def caller(tracker: Tracker, svc: Services) -> Caller:
    metadata = guard_metadata(tracker)
    channel = metadata.get("channel") if isinstance(metadata.get("channel"), str) else None
    member = svc.directory.find_by_identity(channel, tracker.sender_id) if channel and tracker.sender_id else None
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return Caller(tracker.sender_id, channel, member, metadata, intent)


def management_allowed(settings: Settings, metadata: Dict[str, Any]) -> bool:
    """The admin chat is refused outside ``access.management_ip_allowlist`` (when set); an unknown address is outside."""
    if "management_allowed" in metadata:
        return metadata.get("management_allowed") is True
    allowlist = IPAllowlist.parse(settings.access.management_ip_allowlist)
    if not allowlist:
        return True
    ip = metadata.get("client_ip")
    return isinstance(ip, str) and allowlist.allows(ip)


def refuse(svc: Services, who: Caller, detail: str, dispatcher: CollectingDispatcher, reply: Optional[str] = None) -> None:
    """Audit an ``admin.refused``; customers get the neutral reply, staff ``reply``."""
    svc.guard.state.audit.append(
        "admin.refused",
        outcome=REFUSED,
        actor=who.member.name if who.member else None,
        role=who.member.role if who.member else None,
        channel=who.channel,
        conversation_id=who.conversation_id,
        detail=f"{detail} (intent {who.intent or 'none'})",
    )
    if reply is None:
        dispatcher.utter_message(response=NEUTRAL_RESPONSE)
    else:
        dispatcher.utter_message(text=reply)


def staff_gate(svc: Services, who: Caller, dispatcher: CollectingDispatcher) -> Optional[StaffMember]:
    """The staff member, if the sender is one and may use the admin chat from where they are; else refuse."""
    if who.member is None:
        refuse(svc, who, "not in the staff directory", dispatcher)
        return None
    if not management_allowed(svc.guard.settings(who.channel), who.metadata):
        refuse(svc, who, "outside the management IP allowlist", dispatcher, "Admin access is not allowed from this network.")
        return None
    return who.member


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M UTC")


class ActionAdminLogin(Action):
    """``admin_login``: ask a directory staff member for an OTP (authenticator app or a code sent to their contact)."""

    def name(self) -> Text:
        return "action_admin_login"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        svc = services()
        who = caller(tracker, svc)
        member = staff_gate(svc, who, dispatcher)
        if member is not None:
            request_code(svc, who, member, dispatcher)
        return []


def request_code(svc: Services, who: Caller, member: StaffMember, dispatcher: CollectingDispatcher) -> None:
    admin = svc.guard.settings(who.channel).admin
    try:
        challenge = svc.otp.request(member, admin, channel=who.channel, conversation_id=who.conversation_id)
    except LockedOut as error:
        dispatcher.utter_message(text=f"Too many wrong codes: this staff account is locked until {_when(error.until)}.")
        return
    except (ResendTooSoon, CodeNotSent) as error:
        dispatcher.utter_message(text=f"I could not send a code: {error}.")
        return
    svc.conversations.expect_code(who.conversation_id, member.id, admin.otp_validity_seconds)
    if challenge.method == CODE:
        dispatcher.utter_message(text=f"I sent a 6-digit code to {challenge.sent_to}. Please type it here.")
    else:
        dispatcher.utter_message(text="Please type the 6-digit code from your authenticator app.")


class ActionAdminVerify(Action):
    """``admin_code``: check the OTP the staff member typed (read from its vault token; the text holds only a tag)."""

    def name(self) -> Text:
        return "action_admin_verify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        svc = services()
        who = caller(tracker, svc)
        awaited = svc.conversations.awaiting_code(who.conversation_id)
        if who.member is None or awaited != who.member.id:
            dispatcher.utter_message(response=NEUTRAL_RESPONSE)  # a number from anyone not asked for a code
            return []
        member = staff_gate(svc, who, dispatcher)
        if member is None:
            return []
        token = next((e["value"] for e in _pii_entities(tracker) if e.get("entity") in CODE_ENTITIES), None)
        if token is None:
            dispatcher.utter_message(text="Please type just the 6-digit code.")
            return []
        admin = svc.guard.settings(who.channel).admin
        try:
            code = svc.guard.vault.lookup(token, reason="admin OTP check", actor=member.name, channel=who.channel)
        except VaultError:
            dispatcher.utter_message(text="I could not read that code; please type it again.")
            return []
        finally:
            svc.guard.vault.shred(token)
        result = svc.otp.verify(member, code, admin, channel=who.channel, conversation_id=who.conversation_id)
        if result.ok:
            svc.conversations.code_received(who.conversation_id)
            dispatcher.utter_message(
                text=f"Verified, {member.name} ({member.role}). You can change settings for the next "
                f"{admin.window_seconds // 60} minutes, or until {admin.window_idle_seconds // 60} minutes without activity "
                "or you log out. Try 'show the masking settings'."
            )
        elif result.reason == LOCKED:
            svc.conversations.code_received(who.conversation_id)
            until = f" until {_when(result.locked_until)}" if result.locked_until else ""
            dispatcher.utter_message(text=f"Too many wrong codes: this staff account is locked{until}.")
        elif result.reason in (NO_CODE, EXPIRED):
            svc.conversations.code_received(who.conversation_id)
            dispatcher.utter_message(text="That code is no longer valid. Say 'log in' to get a new one.")
        else:
            left = f" ({result.attempts_left} attempts left for this code)" if result.attempts_left is not None else ""
            dispatcher.utter_message(text=f"That code is not right{left}. Please try again.")
        return []


def _pii_entities(tracker: Tracker) -> List[Dict[str, Any]]:
    """Entities the plugin's masker produced (value = vault token); entities from ``/intent{...}`` text are ignored."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return [
        e for e in entities
        if isinstance(e, dict) and e.get("extractor") == ENTITY_EXTRACTOR and isinstance(e.get("value"), str)
        and is_token(e["value"])
    ]


def parse_latest(tracker: Tracker, channels: Tuple[str, ...]) -> Tuple[Command, List[Dict[str, Any]]]:
    """The admin's latest message as a command; PII spans (entity offsets into the nlu text) become markers."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    entities = _pii_entities(tracker)
    spans = [(int(e.get("start", -1)), int(e.get("end", -1)), str(e.get("entity"))) for e in entities]
    return grammar.parse(text, spans, channels), entities


class ActionAdminCommand(Action):
    """Every admin command after login: show, history, logout, and changes (read back, then confirmed)."""

    def name(self) -> Text:
        return "action_admin_command"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        svc = services()
        who = caller(tracker, svc)
        member = staff_gate(svc, who, dispatcher)
        if member is None:
            return []
        channels = tuple(grammar.KNOWN_CHANNELS) + tuple(svc.guard.config.channel_overrides)
        try:
            command, entities = parse_latest(tracker, channels)
        except ParseError as error:
            dispatcher.utter_message(text=str(error))
            return []
        if command.kind == grammar.LOGOUT:
            return logout(svc, who, member, dispatcher)
        if command.kind == grammar.LOGIN:
            request_code(svc, who, member, dispatcher)
            return []
        if not svc.windows.check(member.id, who.conversation_id):
            refuse(svc, who, "no open editing window", dispatcher, LOGIN_HINT)
            return []
        if command.kind == grammar.SHOW:
            dispatcher.utter_message(text=show(svc, command))
            return []
        if command.kind == grammar.HISTORY:
            dispatcher.utter_message(text=history(svc, command.count))
            return []
        return propose(svc, who, member, command, entities, dispatcher)


def logout(svc: Services, who: Caller, member: StaffMember, dispatcher: CollectingDispatcher) -> List[Dict[Text, Any]]:
    closed = svc.windows.close(member.id, who.conversation_id)
    svc.conversations.code_received(who.conversation_id)
    _discard(svc, who.conversation_id)
    dispatcher.utter_message(text="You are logged out." if closed else "You were not logged in.")
    return [SlotSet(PENDING_SLOT, False)]


def show(svc: Services, command: Command) -> str:
    settings = svc.guard.settings(command.scope or None)
    region = settings.blacklist.default_region
    keys = [command.key] if command.key else list(EDITABLE_GROUPS)
    lines = []
    for key in keys:
        try:
            value = to_mapping(get_value(settings, key))
        except SettingsError as error:
            return f"{error}"
        lines.extend(_flatten(key, json.loads(shown_value(key, value, region))))
    scope = command.scope or "global"
    return f"Settings in force ({scope}):\n" + "\n".join(lines)


def _flatten(key: str, value: Any) -> List[str]:
    if isinstance(value, dict) and value:
        return [line for name, item in value.items() for line in _flatten(f"{key}.{name}", item)]
    return [f"{key}: {json.dumps(value, ensure_ascii=False)}"]


def history(svc: Services, count: int) -> str:
    entries = svc.guard.state.settings_store.history(limit=count)
    if not entries:
        return "No settings have been changed yet."
    lines = [
        f"{e.at[:16].replace('T', ' ')} {e.actor or '?'} {e.setting} ({e.scope}): {e.old_value} → {e.new_value}"
        for e in reversed(entries)
    ]
    return f"The last {len(entries)} change(s), newest first:\n" + "\n".join(lines)


def _resolve_value(svc: Services, member: StaffMember, who: Caller, command: Command, entities: List[Dict[str, Any]]) -> Any:
    """The command's value with PII markers replaced by the originals from the vault (caller is verified staff)."""

    def original(index: int) -> str:
        if not 0 <= index < len(entities):
            raise ParseError("I could not read one of the values; please type the command again")
        try:
            return svc.guard.vault.lookup(entities[index]["value"], reason="admin command", actor=member.name, channel=who.channel)
        except VaultError:
            raise ParseError("I could not read one of the values (expired?); please type the command again") from None

    return grammar.resolve_markers(command.value, original)


def _change_for(svc: Services, member: StaffMember, request: Dict[str, Any]) -> Change:
    """Validate a change request ({kind, key, value, scope}) for ``member``'s role; raises ParseError/SettingsError/
    PermissionDenied."""
    store = svc.guard.state.settings_store
    config = svc.guard.config
    kind, key, value, scope = request["kind"], request["key"], request.get("value"), request.get("scope", "")
    if kind == grammar.SET and request.get("raw"):
        current = get_value(store.snapshot().resolve(config, scope), key)
        value = grammar.coerce(key, value, current)
    if kind == grammar.SET:
        return store.propose(config, key, value, scope, role=member.role)
    if kind == grammar.ADD:
        return store.add_to_list(config, key, value, scope, role=member.role)
    if kind == grammar.REMOVE:
        return store.remove_from_list(config, key, value, scope, role=member.role)
    return store.propose_reset(config, key, scope, role=member.role)


def propose(
    svc: Services, who: Caller, member: StaffMember, command: Command, entities: List[Dict[str, Any]],
    dispatcher: CollectingDispatcher,
) -> List[Dict[Text, Any]]:
    settings = svc.guard.settings(command.scope or None)
    if command.kind == grammar.ROTATE:
        return _propose_rotation(svc, who, member, settings, dispatcher)
    try:
        if not permissions.can_edit(settings, member.role, command.key):  # before any original is read
            raise permissions.PermissionDenied(permissions.edit_refusal(settings, member.role, command.key))
        value = _resolve_value(svc, member, who, command, entities)
        key = command.key
        if key == "blacklist":
            key = grammar.blacklist_key(str(value), settings.blacklist.default_region)
        request = {"kind": command.kind, "key": key, "value": value, "scope": command.scope, "raw": command.raw}
        change = _change_for(svc, member, request)
    except permissions.PermissionDenied as error:
        refuse(svc, who, f"permission: {command.key or command.kind}", dispatcher, f"Not allowed: {error}.")
        return []
    except (ParseError, SettingsError) as error:
        dispatcher.utter_message(text=f"Nothing changed: {error}.")
        return []
    if command.kind == grammar.SET:
        request.update(value=change.new, raw=False)
    return _read_back(svc, who, member, request, change, dispatcher)


def _read_back(
    svc: Services, who: Caller, member: StaffMember, request: Dict[str, Any], change: Change,
    dispatcher: CollectingDispatcher, prefix: str = "",
) -> List[Dict[Text, Any]]:
    token = svc.guard.vault.store(
        json.dumps(request), pii_type="admin_change", conversation_id=who.conversation_id, ttl_seconds=PENDING_TTL_SECONDS
    )
    _discard(svc, who.conversation_id)
    svc.conversations.propose(
        PendingChange(
            conversation_id=who.conversation_id, staff_id=member.id, kind=request["kind"], key=change.key,
            scope=change.scope, reset=change.reset, base_version=change.base_version, shown_old=change.shown_old,
            shown_new=change.shown_new, value_token=token,
            expires_at=int(datetime.now(timezone.utc).timestamp()) + PENDING_TTL_SECONDS,
        )
    )
    verb = "reset to the file's value" if change.reset else "change"
    dispatcher.utter_message(
        text=f"{prefix}Please confirm this {verb}: {change.key} ({change.scope_name}): "
        f"{change.shown_old} → {change.shown_new}. Apply it? (yes/no)"
    )
    return [SlotSet(PENDING_SLOT, True)]


def _propose_rotation(
    svc: Services, who: Caller, member: StaffMember, settings: Settings, dispatcher: CollectingDispatcher
) -> List[Dict[Text, Any]]:
    if not permissions.can_edit(settings, member.role, ROTATE_KEY):
        reason = permissions.edit_refusal(settings, member.role, ROTATE_KEY)
        refuse(svc, who, "permission: rotate token", dispatcher, f"Not allowed: rotating API tokens needs the access group; {reason}.")
        return []
    if member.otp_method != CODE:
        dispatcher.utter_message(
            text="A new token is never shown in the chat; it is sent to your directory e-mail contact, and you have "
            "none (authenticator app login). Rotate on the server instead: python -m plugin token rotate."
        )
        return []
    grace = settings.access.token_grace_seconds
    _discard(svc, who.conversation_id)
    svc.conversations.propose(
        PendingChange(
            conversation_id=who.conversation_id, staff_id=member.id, kind=grammar.ROTATE, key=ROTATE_KEY, scope="",
            reset=False, base_version=0, shown_old="current API token(s)",
            shown_new=f"a new token sent to {member.contact_shown}; the current ones stop working in {grace} s",
            expires_at=int(datetime.now(timezone.utc).timestamp()) + PENDING_TTL_SECONDS,
        )
    )
    dispatcher.utter_message(
        text=f"Please confirm: rotate the API token. The new token goes to {member.contact_shown} (never into this "
        f"chat); the current token(s) keep working for {grace} seconds. Apply it? (yes/no)"
    )
    return [SlotSet(PENDING_SLOT, True)]


def _discard(svc: Services, conversation_id: str) -> Optional[PendingChange]:
    pending = svc.conversations.discard(conversation_id)
    if pending is not None and pending.value_token:
        svc.guard.vault.shred(pending.value_token)
    return pending


class ActionAdminConfirm(Action):
    """``affirm``/``deny`` while a change awaits confirmation: apply it (audited) or discard it."""

    def name(self) -> Text:
        return "action_admin_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        svc = services()
        who = caller(tracker, svc)
        done = [SlotSet(PENDING_SLOT, False)]
        pending = svc.conversations.pending(who.conversation_id)
        if pending is None or who.member is None or who.member.id != pending.staff_id:
            if who.member is None and pending is None:
                dispatcher.utter_message(response=NEUTRAL_RESPONSE)
            else:
                dispatcher.utter_message(text="There is no change waiting for your confirmation.")
            return done
        member = staff_gate(svc, who, dispatcher)
        if member is None:
            _discard(svc, who.conversation_id)
            return done
        if who.intent != "affirm":
            _discard(svc, who.conversation_id)
            dispatcher.utter_message(text="Cancelled; nothing was changed.")
            return done
        if not svc.windows.check(member.id, who.conversation_id):
            _discard(svc, who.conversation_id)
            refuse(svc, who, "no open editing window (confirmation)", dispatcher, "Your editing window has ended; nothing was changed. " + LOGIN_HINT)
            return done
        if pending.kind == grammar.ROTATE:
            _discard(svc, who.conversation_id)
            return _rotate(svc, who, member, dispatcher) + done
        return _apply(svc, who, member, pending, dispatcher)


def _apply(
    svc: Services, who: Caller, member: StaffMember, pending: PendingChange, dispatcher: CollectingDispatcher
) -> List[Dict[Text, Any]]:
    """Re-validate the stored request now (role and settings may have moved) and apply it if it reads back the same."""
    done = [SlotSet(PENDING_SLOT, False)]
    try:
        request = json.loads(svc.guard.vault.lookup(pending.value_token or "", reason="admin confirmation", actor=member.name))
        change = _change_for(svc, member, request)
    except VaultError:
        _discard(svc, who.conversation_id)
        dispatcher.utter_message(text="That change expired; nothing was changed. Please type it again.")
        return done
    except permissions.PermissionDenied as error:
        _discard(svc, who.conversation_id)
        refuse(svc, who, f"permission: {pending.key}", dispatcher, f"Not allowed: {error}.")
        return done
    except (ParseError, SettingsError) as error:
        _discard(svc, who.conversation_id)
        dispatcher.utter_message(text=f"Nothing changed: {error}.")
        return done
    if (change.base_version, change.shown_old, change.shown_new) != (pending.base_version, pending.shown_old, pending.shown_new):
        return _read_back(svc, who, member, request, change, dispatcher, "The settings changed meanwhile. ")
    try:
        version = svc.guard.state.settings_store.apply(
            change, actor=member.name, role=member.role, channel=who.channel, conversation_id=who.conversation_id
        )
    except StaleChange:
        change = _change_for(svc, member, request)
        return _read_back(svc, who, member, request, change, dispatcher, "The settings changed meanwhile. ")
    _discard(svc, who.conversation_id)
    dispatcher.utter_message(
        text=f"Done: {change.key} ({change.scope_name}) is now {change.shown_new} (settings version {version}). "
        "It takes effect everywhere within a few seconds."
    )
    return done


def _rotate(svc: Services, who: Caller, member: StaffMember, dispatcher: CollectingDispatcher) -> List[Dict[Text, Any]]:
    grace = svc.guard.settings().access.token_grace_seconds
    try:
        contact = svc.directory.contact(member.id)
    except Exception:  # noqa: BLE001 - no readable contact: refuse before rotating anything
        dispatcher.utter_message(text="I cannot read your directory contact, so I did not rotate the token.")
        return []
    if sender_from_env() is None:
        dispatcher.utter_message(text="No e-mail transport is configured, so I did not rotate the token.")
        return []
    plaintext, record = svc.tokens.rotate(grace, label=f"chat:{member.name}", actor=member.name, role=member.role)
    try:
        deliver_token(contact, plaintext, grace)
    except (DeliveryUnavailable, OSError) as error:
        logger.error("token %s created but not delivered (%s)", record.id, type(error).__name__)
        dispatcher.utter_message(
            text=f"The token {record.id} was created but could not be delivered; revoke it with "
            f"'python -m plugin token revoke {record.id}' and try again."
        )
        return []
    dispatcher.utter_message(
        text=f"Done: new API token {record.id} sent to {member.contact_shown}. The previous token(s) keep working "
        f"for {grace} seconds."
    )
    return []
