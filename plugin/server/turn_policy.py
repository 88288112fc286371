"""``GuardTurnPolicy``: runs the plugin's per-turn action first after every real customer message.

Rasa 3.6 has no hook that runs a custom action on every turn *and* lets it schedule reminders: rules and stories would
have to name it in every flow, and ``action_extract_slots`` drops reminder events. This policy predicts
``action_guard_turn`` (blacklist, lazy idle check, idle reminders) with full confidence and the highest priority right
after a customer message, once. The action reverts its own ``ActionExecuted`` (``ActionReverted``), so rules, stories
and TED see the conversation exactly as if it had not run. Reminder-triggered (external) messages are skipped: they
are not customer activity.

config.yml::

    policies:
      - name: plugin.server.turn_policy.GuardTurnPolicy
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

GUARD_TURN_ACTION = "action_guard_turn"
IS_EXTERNAL = "is_external"


def needs_guard_turn(tracker: DialogueStateTracker, action_name: Text = GUARD_TURN_ACTION) -> bool:
    """True when the latest real customer message has not been seen by the guard action yet."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == action_name:
            return False
        if isinstance(event, UserUttered):
            return not (event.metadata or {}).get(IS_EXTERNAL, False)
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class GuardTurnPolicy(Policy):
    """Predicts the guard action once per customer message; above RulePolicy (priority 6) so it always goes first."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "action": GUARD_TURN_ACTION}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: the decision depends on the live tracker only

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.config.get("action", GUARD_TURN_ACTION)
        if action not in domain.action_names_or_texts:
            logger.error("rasa-guard: %s is not in the domain's actions; per-turn protection is off", action)
            return self._prediction(probabilities)
        if not needs_guard_turn(tracker, action):
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # A "no user" prediction outranks even RulePolicy's active-loop predictions, so forms cannot skip the guard.
        return self._prediction(probabilities, is_no_user_prediction=True)
