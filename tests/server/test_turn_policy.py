"""GuardTurnPolicy decides in the Rasa server, once per real customer message, whether the guard action must run:
only for a blacklisted sender or a session that expired while no idle timer was running; never for reminders."""

from __future__ import annotations

import time

import pytest
from typing import Any, Dict, Optional

from rasa.shared.core.events import ActionExecuted, ActionReverted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from plugin.policy.metadata_seal import sealed
from plugin.policy.schema import Settings
from plugin.policy.settings import parse_privacy_config, resolve
from plugin.server.turn_policy import guard_turn_reason, latest_customer_message

SETTINGS = resolve(parse_privacy_config({
    "blacklist": {"sender_ids": ["spammer-7"], "country_codes": ["+44"]},
    "session": {"idle_timeout_seconds": 60, "warning_lead_seconds": 20},
}))


def tracker(*events: Any, sender: str = "c1") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), *events])


KEY = b"s" * 32  # the metadata seal key (from the master key in a real server)


def customer(text: str, at: float, channel: str = "rest", **guard: Any) -> UserUttered:
    return UserUttered(text, {"name": "greet"}, input_channel=channel,
                       metadata={"rasa_guard": sealed({"channel": channel, **guard}, KEY)}, timestamp=at)


def reason(t: DialogueStateTracker, settings: Settings = SETTINGS) -> Optional[str]:
    latest = latest_customer_message(t)
    assert latest is not None
    return guard_turn_reason(t, latest, lambda channel: settings, KEY)


def test_a_customer_message_needs_the_guard_once() -> None:
    message = UserUttered("hi", {"name": "greet"})
    assert latest_customer_message(tracker(message)) is message
    assert latest_customer_message(tracker(message, ActionExecuted("action_guard_turn"), ActionReverted())) is None
    assert latest_customer_message(tracker(message, ActionExecuted("action_guard_turn"), ActionReverted(), ActionExecuted("utter_greet"))) is None


def test_reminder_messages_and_empty_conversations_do_not() -> None:
    assert latest_customer_message(tracker(UserUttered.create_external("EXTERNAL_idle_warning", []))) is None
    assert latest_customer_message(tracker()) is None


def test_an_ordinary_turn_needs_no_action_at_all() -> None:
    now = time.time()
    assert reason(tracker(customer("hi", now - 30), ActionExecuted("utter_greet"), customer("thanks", now))) is None


def test_a_blacklisted_sender_is_caught_by_id_and_by_verified_phone() -> None:
    assert reason(tracker(customer("hi", time.time()), sender="spammer-7")) == "blocked"
    # the guarded channel's verified phone counts; +44 is blocked as a country code
    assert reason(tracker(customer("hi", time.time(), verified_phone="+442079460018"), sender="web-1")) == "blocked"
    assert reason(tracker(customer("hi", time.time(), verified_phone="+31612345678"), sender="web-2")) is None


def test_a_conversation_blocked_by_its_stored_pseudonym_is_caught() -> None:
    pseudonym = "cid-" + "p" * 32  # what the audit trail or an export shows of a WhatsApp conversation
    blocked = resolve(parse_privacy_config({"blacklist": {"sender_ids": [pseudonym]}}))
    t = tracker(customer("hi", time.time(), channel="whatsapp"), sender="whatsapp:+31612345670")
    latest = latest_customer_message(t)
    assert latest is not None
    ids = {"whatsapp:+31612345670": pseudonym}
    assert guard_turn_reason(t, latest, lambda channel: blocked, KEY, lambda sender: ids.get(sender, sender)) == "blocked"
    assert guard_turn_reason(t, latest, lambda channel: blocked, KEY) is None


def test_a_client_forged_entry_cannot_pick_a_laxer_scope() -> None:
    # through a stock channel a client may write {"rasa_guard": {"channel": "vip"}}; unsealed, it is ignored
    lax = resolve(parse_privacy_config({}))
    forged = UserUttered("hi", {"name": "greet"}, input_channel="rest", metadata={"rasa_guard": {"channel": "vip"}},
                         timestamp=time.time())
    t = tracker(forged, sender="spammer-7")
    latest = latest_customer_message(t)
    assert latest is not None
    assert guard_turn_reason(t, latest, lambda channel: lax if channel == "vip" else SETTINGS, KEY) == "blocked"


def test_a_runtime_blacklist_change_is_seen_through_the_settings_of_this_instant() -> None:
    t = tracker(customer("hi", time.time()), sender="newly-blocked")
    assert reason(t) is None
    changed = resolve(parse_privacy_config({"blacklist": {"sender_ids": ["newly-blocked"]}}))
    assert reason(t, changed) == "blocked"


def test_a_message_after_the_idle_timeout_finds_the_session_expired() -> None:
    now = time.time()
    assert reason(tracker(customer("hi", now - 61), ActionExecuted("utter_greet"), customer("back", now))) == "idle_expired"
    assert reason(tracker(customer("hi", now - 59), ActionExecuted("utter_greet"), customer("back", now))) is None


def test_reminder_messages_do_not_count_as_activity_and_a_new_session_starts_the_clock() -> None:
    now = time.time()
    warning = UserUttered.create_external("EXTERNAL_idle_warning", [])
    warning.timestamp = now - 10
    assert reason(tracker(customer("hi", now - 61), warning, customer("back", now))) == "idle_expired"
    assert reason(tracker(customer("hi", now - 600), SessionStarted(), ActionExecuted("action_listen"), customer("back", now))) is None


# -- the policies in Rasa's graph -----------------------------------------------------------------------------------

DOMAIN_YAML = """
version: "3.1"
intents: [greet]
responses:
  utter_greet:
  - text: "Hello"
actions: [action_guard_turn]
"""


def policies(tmp_path: Any) -> Dict[str, Any]:
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from plugin.server.turn_policy import GuardedRulePolicy, GuardTurnPolicy

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    return {
        kind: cls.create(cls.get_default_config(), storage, Resource(kind), context)
        for kind, cls in (("rule", RulePolicy), ("guarded_rule", GuardedRulePolicy), ("turn", GuardTurnPolicy))
    }


@pytest.mark.parametrize("reason_found", ["blocked", None])
def test_guarded_rule_policy_is_rule_policy_with_the_guard_check_in_front(tmp_path: Any, monkeypatch: Any,
                                                                          reason_found: Optional[str]) -> None:
    from rasa.shared.core.domain import Domain

    from plugin.server.turn_policy import TurnCheck

    monkeypatch.setattr(TurnCheck, "_reason", lambda self, tracker, latest: reason_found)
    domain = Domain.from_yaml(DOMAIN_YAML)
    made = policies(tmp_path)
    t = tracker(customer("hi", time.time()))
    for policy in made.values():
        policy.train([], domain)  # no rules: RulePolicy then predicts its core fallback or nothing
    rule, guarded, turn = (made[k].predict_action_probabilities(t, domain) for k in ("rule", "guarded_rule", "turn"))
    guard_index = domain.index_for_action("action_guard_turn")
    if reason_found:
        for prediction in (guarded, turn):
            assert prediction.max_confidence_index == guard_index and prediction.max_confidence == 1.0
            assert prediction.is_no_user_prediction  # outranks every other policy, even a form's loop prediction
        assert guarded.policy_name == "GuardedRulePolicy" and guarded.policy_priority == rule.policy_priority
    else:
        assert guarded.probabilities == rule.probabilities and not guarded.is_no_user_prediction
        assert turn.max_confidence == 0.0  # abstains


def test_guarded_rule_policy_refuses_a_fallback_action_the_domain_lacks(tmp_path: Any) -> None:
    # Rasa's validator checks this only for nodes that are exactly RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain, InvalidDomain

    from plugin.server.turn_policy import GuardedRulePolicy

    config = dict(GuardedRulePolicy.get_default_config(), core_fallback_action_name="action_not_in_domain")
    policy = GuardedRulePolicy.create(config, LocalModelStorage(tmp_path), Resource("guarded_rule"),
                                      ExecutionContext(GraphSchema({}), "test"))
    with pytest.raises(InvalidDomain, match="action_not_in_domain"):
        policy.train([], Domain.from_yaml(DOMAIN_YAML))
