"""The latency benchmark's baseline is the reference bot minus the plugin, and nothing else changes."""

import yaml

from benchmarks.rasa_latency import plain_config
from tests import harness


def test_the_plain_bot_is_the_reference_bot_without_the_plugin() -> None:
    shipped = yaml.safe_load((harness.ROOT / "config.yml").read_text())
    plain = yaml.safe_load(plain_config((harness.ROOT / "config.yml").read_text()))
    assert "plugin." not in str(plain)
    assert [c["name"] for c in plain["pipeline"]] == [c["name"] for c in shipped["pipeline"] if "plugin." not in c["name"]]
    plain_policies = {p["name"]: p for p in plain["policies"]}
    for policy in shipped["policies"]:
        if policy["name"].endswith("GuardedRulePolicy"):  # Rasa's RulePolicy with the same options
            assert plain_policies["RulePolicy"] == dict(policy, name="RulePolicy")
        elif "plugin." not in policy["name"]:
            assert plain_policies[policy["name"]] == policy
    assert "RulePolicy" in plain_policies and len(plain_policies) == len(plain["policies"])
