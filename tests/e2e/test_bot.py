"""The reference bot, trained for real, answers in-process and over a real `rasa run` + `rasa run actions`."""

import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def texts(messages: list) -> list:
    return [m.get("text", "") for m in messages]


@pytest.mark.parametrize(
    "message, expected",
    [
        ("hello there", "How can I help you?"),
        ("what can you do for me?", "hand you over to a human agent"),
        ("bye, talk to you later", "Goodbye"),
    ],
)
def test_in_process_agent_answers(chat, message: str, expected: str) -> None:
    assert any(expected in t for t in texts(chat(message)))


def test_in_process_handoff_runs_the_plugin_action_on_the_action_server(chat, agent, event_loop_session) -> None:
    sender = f"handoff-{uuid.uuid4().hex[:6]}"
    assert any("An agent will take over" in t for t in texts(chat("can I speak to a human agent please", sender)))
    tracker = event_loop_session.run_until_complete(agent.tracker_store.retrieve(sender))
    assert tracker.get_slot("handoff_requested") is True


def test_rest_webhook_over_real_servers(rasa_stack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:6]}"
    assert any("How can I help you?" in t for t in texts(rasa_stack.send(sender, "hi")))
    assert any("An agent will take over" in t for t in texts(rasa_stack.send(sender, "I want to talk to a human")))


def test_action_server_serves_the_plugin_actions(rasa_stack) -> None:
    listed = requests.get(f"{rasa_stack.actions_url}/actions", timeout=10).json()
    assert {"name": "action_handoff"} in listed
    reply = requests.post(
        f"{rasa_stack.actions_url}/webhook",
        json={
            "next_action": "action_handoff",
            "sender_id": "smoke",
            "tracker": {"sender_id": "smoke", "slots": {}, "events": [], "latest_message": {}},
            "domain": {},
        },
        timeout=10,
    ).json()
    assert reply["responses"][0]["response"] == "utter_handoff"
    assert reply["events"][0]["name"] == "handoff_requested"


def test_rasa_http_api_is_off_by_default(rasa_stack) -> None:
    assert requests.get(f"{rasa_stack.url}/status", timeout=10).status_code == 404
