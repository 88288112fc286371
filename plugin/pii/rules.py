"""Owner-configured rules: custom regex rules (validated when loaded) and the allow / deny term lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Tuple

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import VALIDATORS
from plugin.pii.config import CustomRule, StrategySpec
from plugin.pii.errors import InvalidRuleError
from plugin.pii.scan import Scan, strip_separators
from plugin.pii.spans import Span

TAG_SHAPE = regex.compile(r"#[A-Za-z][A-Za-z_\-]*#")
"""Tags are digit-free so masked text never re-matches a numeric rule (masking stays idempotent)."""

PROBE_BUDGET_S = 0.05
# Long runs that make nested or overlapping quantifiers backtrack exponentially, e.g. (a+)+$ or (\d+\s?)+x.
_PROBES: Tuple[str, ...] = tuple(
    unit * (2000 // len(unit)) + tail
    for unit in ("a", "1", " ", "aA1", "a ", "1 ", "1-", "a.", "@a.", "ab", "x")
    for tail in ("!", "\x00")
)


@dataclass(frozen=True)
class CompiledRule:
    name: str
    pattern: "regex.Pattern[str]" = field(repr=False)
    tag: str
    strategy: Optional[StrategySpec]
    validator: Optional[Callable[[str], bool]]
    context: Optional["regex.Pattern[str]"] = field(repr=False)
    context_window: int

    def find(self, scan: Scan, timeout: float) -> Iterator[Span]:
        text = scan.text
        for match in self.pattern.finditer(text, timeout=timeout):
            start, end = match.span()
            if start == end:
                continue
            if self.validator is not None and not _safe_check(self.validator, strip_separators(match.group())):
                continue
            if self.context is not None:
                window = self.context_window
                before = self.context.search(text, max(0, start - window), start, timeout=timeout)
                if before is None and self.context.search(text, end, end + window, timeout=timeout) is None:
                    continue
            yield make_span(start, end, self.name, rule=self.name, validated=self.validator is not None)


def _safe_check(validator: Callable[[str], bool], value: str) -> bool:
    try:
        return bool(validator(value)) if value else False
    except (ValueError, IndexError):
        return False


def compile_rule(rule: CustomRule, reserved_names: Iterable[str]) -> CompiledRule:
    """Refuse, naming the rule, anything that would fail at run time or mask nothing / everything."""
    name = rule.name
    if not name or not regex.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,63}", name):
        raise InvalidRuleError(name or "<empty>", "the name must be 1-64 letters, digits, '_' or '-', starting with a letter")
    if name in set(reserved_names):
        raise InvalidRuleError(name, "the name is already used by a built-in type; choose another name")
    if not TAG_SHAPE.fullmatch(rule.tag):
        raise InvalidRuleError(name, "the tag must look like '#letters#' (letters, '_' or '-', no digits)")
    if rule.validator is not None and rule.validator not in VALIDATORS:
        raise InvalidRuleError(name, f"unknown validator; use one of {', '.join(sorted(VALIDATORS))}")
    window = getattr(rule, "context_window")  # not a typed read: the compiled build would raise TypeError on 40.5
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise InvalidRuleError(name, "context_window must be a whole number of characters, 0 or more")
    try:
        pattern = regex.compile(rule.pattern)
    except (regex.error, TypeError, ValueError) as error:
        raise InvalidRuleError(name, f"the pattern is not a valid regular expression ({error})") from None
    if pattern.search("") is not None:
        raise InvalidRuleError(name, "the pattern matches the empty string; require at least one character")
    for probe in _PROBES:
        try:
            for match in pattern.finditer(probe, timeout=PROBE_BUDGET_S):
                if match.start() == match.end():
                    raise InvalidRuleError(name, "the pattern can match the empty string; require at least one character")
        except TimeoutError:
            raise InvalidRuleError(
                name, "the pattern is too slow on adversarial input (nested or overlapping quantifiers); simplify it"
            ) from None
    context = None
    if rule.context_words:
        words = sorted((word for word in rule.context_words if word.strip()), key=len, reverse=True)
        if not words:
            raise InvalidRuleError(name, "context_words are all empty")
        context = regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(word) for word in words) + r")(?!\w)", regex.I)
    validator = VALIDATORS[rule.validator] if rule.validator else None
    return CompiledRule(name, pattern, rule.tag, rule.strategy, validator, context, rule.context_window)


def term_pattern(terms: Iterable[str]) -> Optional["regex.Pattern[str]"]:
    """Case-insensitive whole-word alternation of literal terms (longest first), or None for an empty list."""
    cleaned = sorted({term.strip() for term in terms if term and term.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(term) for term in cleaned) + r")(?!\w)", regex.I)
