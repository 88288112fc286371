"""The latency benchmark's baseline is the reference bot minus the plugin, and nothing else changes."""

import pytest
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


def test_the_median_overhead_interval_brackets_the_overhead_and_narrows_with_more_messages() -> None:
    import random

    from benchmarks.rasa_latency import median_overhead_interval

    rng = random.Random(3)
    plain = [rng.lognormvariate(3.3, 0.25) for _ in range(2000)]
    guarded = [p * 1.02 + rng.gauss(0, 0.3) for p in plain]  # +2 % plus per-message noise
    low, high = median_overhead_interval(plain, guarded, resamples=400)
    assert low < 0.02 < high and high - low < 0.03
    few_low, few_high = median_overhead_interval(plain[:200], guarded[:200], resamples=400)
    assert few_high - few_low > high - low
    assert median_overhead_interval([10.0] * 50, [10.5] * 50, resamples=50) == pytest.approx((0.05, 0.05))
