"""``GuardTurnPolicy`` and ``GuardedRulePolicy``: per-turn checks inside the Rasa server, no extra round trip.

After every real customer message it asks two questions of the live tracker: is the sender blacklisted (settings as
of this instant, so an admin's change applies to the next message), and did the previous customer message come longer
ago than the idle timeout (the timers are in memory and die with a restart)? Only then does it predict
``action_guard_turn`` with full confidence and the highest priority; that action refuses or ends the old session and
reverts its own ``ActionExecuted``, so rules, stories and TED see the conversation as if it had not run. Otherwise the
policy abstains and the turn costs nothing more. The idle timers are restarted by the guarded channels
(``plugin.server.idle_timers``). Reminder-triggered (external) messages are skipped: they are not customer activity.

config.yml, in place of ``RulePolicy`` (same options; one graph node for both)::

    policies:
      - name: plugin.server.turn_policy.GuardedRulePolicy
        core_fallback_threshold: 0.3

or, beside any policies (a bot without ``RulePolicy``)::

    policies:
      - name: plugin.server.turn_policy.GuardTurnPolicy
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from plugin.policy.blacklist import find_block
from plugin.policy.guard import current_guard
from plugin.policy.idle import InvalidIdleTimers, is_customer_text, session_expired
from plugin.policy.metadata_seal import verified_entry
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)

GUARD_TURN_ACTION = "action_guard_turn"
DECISIONS_KEPT = 10_000


def latest_customer_message(tracker: DialogueStateTracker, action_name: Text = GUARD_TURN_ACTION) -> Optional[UserUttered]:
    """The latest real customer message, unless the guard action has already run for it (or it is a reminder's)."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == action_name:
            return None
        if isinstance(event, UserUttered):
            return event if is_customer_message(event) else None
    return None


def is_customer_message(event: UserUttered) -> bool:
    return is_customer_text(event.text, event.metadata)


def previous_customer_message_at(tracker: DialogueStateTracker, latest: UserUttered) -> Optional[float]:
    """When the customer last wrote before ``latest`` in the current session (None: ``latest`` opened it)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return None
        if event is latest:
            seen_latest = True
        elif seen_latest and isinstance(event, UserUttered) and is_customer_message(event):
            return event.timestamp
    return None


def guard_turn_reason(
    tracker: DialogueStateTracker,
    latest: UserUttered,
    settings_now: Callable[[Optional[str]], Settings],
    seal_key: bytes = b"",
    stored_id: Callable[[str], str] = str,
) -> Optional[str]:
    """Why ``action_guard_turn`` must run for ``latest`` ("blocked", "idle_expired"), or None. The channel's metadata
    counts only under a valid seal (``metadata_seal``): a client's own ``rasa_guard`` entry cannot pick the scope."""
    verified = verified_entry(latest.metadata, seal_key) or {}
    channel = verified.get("channel") or latest.input_channel or tracker.get_latest_input_channel()
    settings = settings_now(channel)
    if find_block(settings.blacklist, channel, tracker.sender_id, verified, stored_id(tracker.sender_id)) is not None:
        return "blocked"
    previous = previous_customer_message_at(tracker, latest)
    try:
        if session_expired(previous, latest.timestamp, settings.session.idle_timeout_seconds):
            return "idle_expired"
    except InvalidIdleTimers as error:
        logger.error("rasa-guard: idle expiry not checked: %s", error)
    return None


class TurnCheck:
    """The decision both policies make, once per real customer message (they are asked after every action)."""

    def __init__(self, action: Text) -> None:
        self.action = action
        self._decided: "OrderedDict[Tuple[Text, float], Optional[str]]" = OrderedDict()

    def guard_action_index(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[int]:
        """The domain index of the guard action when it must run now, else None."""
        latest = latest_customer_message(tracker, self.action)
        if latest is None or self._reason(tracker, latest) is None:
            return None
        if self.action not in domain.action_names_or_texts:
            logger.error("rasa-guard: %s is not in the domain's actions; per-turn protection is off", self.action)
            return None
        return domain.index_for_action(self.action)

    def _reason(self, tracker: DialogueStateTracker, latest: UserUttered) -> Optional[str]:
        key = (tracker.sender_id, latest.timestamp)
        if key not in self._decided:
            try:
                guard = current_guard()
                self._decided[key] = guard_turn_reason(
                    tracker, latest, guard.settings_now, guard.metadata_seal_key(), guard.conversation_ids.stored
                )
            except Exception as error:  # noqa: BLE001 - fail closed: the action decides again, on its own view
                logger.error("rasa-guard: per-turn check failed (%s); running the guard action", type(error).__name__)
                self._decided[key] = "check_failed"
            if len(self._decided) > DECISIONS_KEPT:
                self._decided.popitem(last=False)
        return self._decided[key]


def guard_prediction(policy: Policy, domain: Domain, index: int) -> PolicyPrediction:
    """Full confidence for the guard action as a "no user" prediction, which outranks every prediction based on the
    user's input and even RulePolicy's active-loop predictions, so forms cannot skip the guard."""
    probabilities = policy._default_predictions(domain)
    probabilities[index] = 1.0
    return policy._prediction(probabilities, is_no_user_prediction=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class GuardTurnPolicy(Policy):
    """Predicts the guard action when a customer message needs it; above RulePolicy (priority 6) so it goes first.
    For bots with ``RulePolicy``, ``GuardedRulePolicy`` does the same in RulePolicy's node (one graph node less)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "action": GUARD_TURN_ACTION}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._check = TurnCheck(self.config.get("action", GUARD_TURN_ACTION))

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: the decision depends on the live tracker only

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        index = self._check.guard_action_index(tracker, domain)
        if index is None:
            return self._prediction(self._default_predictions(domain))
        return guard_prediction(self, domain, index)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class GuardedRulePolicy(RulePolicy):
    """``RulePolicy`` with ``GuardTurnPolicy``'s check in front: in place of both, it saves Rasa one policy node per
    prediction (two or more per message). Takes every RulePolicy option, plus ``guard_action``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**RulePolicy.get_default_config(), "guard_action": GUARD_TURN_ACTION}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._check = TurnCheck(self.config.get("guard_action", GUARD_TURN_ACTION))

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # Rasa's recipe validator checks only nodes that are exactly RulePolicy against the domain (the fallback action
        # must exist); the same check for this subclass. (Its warning that no RulePolicy is configured does not apply:
        # restart, back and forms work here as in RulePolicy.)
        self.raise_if_incompatible_with_domain(self.config, domain)
        return super().train(training_trackers, domain, **kwargs)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        index = self._check.guard_action_index(tracker, domain)
        if index is None:
            return super().predict_action_probabilities(tracker, domain, rule_only_data, **kwargs)
        return guard_prediction(self, domain, index)
