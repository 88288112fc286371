"""Blacklist enforcement in actions: who the sender is, whether an entry blocks them, and the one refusal they get.

``action_session_start`` and ``action_guard_turn`` (see ``plugin.actions.session``) both call ``find_block``; the
refusal is sent once (until the sender has a normal turn again), the block is audited with the sender masked, and
the blocked message is reverted so no NLU result, slot or other action follows from it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import BotUttered

from plugin.policy.audit import REFUSED
from plugin.policy.blacklist import Block, mask_identity
from plugin.policy.blacklist import find_block as find_sender_block
from plugin.policy.guard import current_guard
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)

NOTICE_KEY = "rasa_guard_notice"  # BotUttered metadata marking the plugin's own notices
BLOCKED_NOTICE = "blacklist"
# Actions a blocked turn may consist of; any other action since the refusal means the sender was served again.
_BLOCK_TURN_ACTIONS = frozenset({"action_listen", "action_session_start", "action_guard_turn"})


def find_block(tracker: Tracker, channel: Optional[str], settings: Settings, verified: Mapping[str, Any]) -> Optional[Block]:
    """The entry that blocks this conversation's sender, or None (the same decision ``GuardTurnPolicy`` makes)."""
    stored_id = current_guard().conversation_ids.stored(tracker.sender_id)
    return find_sender_block(settings.blacklist, channel, tracker.sender_id, verified, stored_id)


def already_refused(events: Sequence[Mapping[str, Any]]) -> bool:
    """True when the refusal was sent and the sender has had no normal turn since."""
    for event in reversed(events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get(NOTICE_KEY) == BLOCKED_NOTICE:
            return True
        if event.get("event") == "action" and event.get("name") not in _BLOCK_TURN_ACTIONS:
            return False
    return False


def refusal(block: Block, tracker: Tracker, channel: Optional[str], settings: Settings, where: str) -> List[Dict[str, Any]]:
    """The refusal message (unless already sent) and an audit entry for this blocked message."""
    first = not already_refused(tracker.events)
    try:
        current_guard().state.audit.append(
            "blacklist.block",
            outcome=REFUSED,
            channel=channel,
            setting=f"blacklist.{block.entry.kind}",
            detail=f"sender {mask_identity(block.identity)} matched {block.entry.masked} at {where}"
            + ("" if first else "; refusal already sent"),
        )
    except Exception as error:  # noqa: BLE001 - the block holds even if the audit trail is unreachable
        logger.error("rasa-guard: a blacklist block could not be audited (%s)", type(error).__name__)
    if not first:
        return []
    return [BotUttered(text=settings.blacklist.message, metadata={NOTICE_KEY: BLOCKED_NOTICE})]
