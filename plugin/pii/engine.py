"""The engine: build once from settings, then ``detect`` spans and ``mask`` a text for a view."""

from __future__ import annotations

import dataclasses
import logging
import time
from bisect import bisect_right
from functools import partial
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import phonenumbers

from plugin.pii.builders import make_mask_result, make_span
from plugin.pii.catalogue import (
    BUILTIN_TYPES,
    CATALOGUE,
    CHECKSUM_CLASS,
    DEFAULT_TAGS,
    DENY_CLASS,
    DENY_TYPE,
    STRUCTURE_CLASS,
    TIMEOUT_TYPE,
    Finder,
    Gate,
)
from plugin.pii.config import STRATEGY_NAMES, VIEWS, EngineConfig, StrategySpec
from plugin.pii.errors import AdminViewError, InvalidRuleError, PIIConfigError, UnknownViewError
from plugin.pii.grouped import uncovered_groups
from plugin.pii.numbers import find_long_numbers, may_hold_long_number
from plugin.pii.phones import warm_up
from plugin.pii.resolve import Rank, resolve
from plugin.pii.rules import TAG_SHAPE, CompiledRule, compile_rule, term_pattern
from plugin.pii.scan import DIGIT_RUN, Scan
from plugin.pii.spans import MaskResult, Span
from plugin.pii.strategies import Tokenizer, render

logger = logging.getLogger("plugin.pii")

TimeoutCallback = Callable[[str, int], None]
"""Called as ``on_timeout(rule_name, text_length)``; never receives the text."""

TIMEOUT_TEXT = "#redacted#"
# Built-in patterns have no nested quantifiers, so they are linear; below this size the ~1 µs cost of the regex timeout
# is not worth paying for them. Custom rules always run under the timeout.
LINEAR_SAFE_LENGTH = 1000
_MAX_RESCANS = 20  # each re-scan adds at least one span; chains like "+32 1000000+32 1000000" need several
_MASK_RUN = 2  # this many mask characters next to a short number mark it as the kept part of a masked value

_CARD_LAST4 = StrategySpec("card_last4")
_EMAIL_DOMAIN = StrategySpec("email_domain")
_PHONE_LAST4 = StrategySpec("phone_last4")
_IBAN_LAST4 = StrategySpec("redact", keep_right=4)
_TAG = StrategySpec("tag")
_AGENT_DEFAULTS: Mapping[str, StrategySpec] = {
    "credit_card": _CARD_LAST4,
    "email": _EMAIL_DOMAIN,
    "phone": _PHONE_LAST4,
    "iban": _IBAN_LAST4,
}


class _ScanTimedOut(Exception):
    """The scan cannot vouch for the text: out of time, or a finder failed on unexpected input. Fail closed."""

    def __init__(self, rule: str, failure: str = "") -> None:
        super().__init__(rule)
        self.rule = rule
        self.failure = failure


class Engine:
    """Immutable after ``build_engine``; safe to share between threads and requests."""

    def __init__(self, config: EngineConfig, rules: Tuple[CompiledRule, ...], on_timeout: Optional[TimeoutCallback]):
        self.config = config
        self._rules = rules
        self._on_timeout = on_timeout
        # (name, finder, checksum-validated, min digits, gate)
        self._finders: List[Tuple[str, Finder, bool, int, Optional[Gate]]] = []
        for info in CATALOGUE:
            if info.name not in config.enabled_types:
                continue
            if info.name == "long_number":
                if config.long_number_digits > 0:
                    finder = partial(find_long_numbers, min_digits=config.long_number_digits)
                    gate = partial(may_hold_long_number, min_digits=config.long_number_digits)
                    self._finders.append((info.name, finder, False, config.long_number_digits, gate))
            else:
                checksum = info.priority_class == CHECKSUM_CLASS
                self._finders.append((info.name, info.finder, checksum, info.min_digits, info.gate))
        # IBANs first: their digits look like cards, BSNs and VAT numbers, which then need not be validated there.
        self._finders.sort(key=lambda entry: entry[0] != "iban")
        # Most chat has no digits: only the finders that can match without any run then. In general a text with
        # ``n`` digits runs the tier of the highest floor <= n: the finders needing at most that many digits.
        self._tier_floors = sorted({0} | {entry[3] for entry in self._finders})
        self._finder_tiers = tuple(
            tuple(entry for entry in self._finders if entry[3] <= floor) for floor in self._tier_floors
        )
        self._ranks: Dict[str, Rank] = {info.name: (info.priority_class, index) for index, info in enumerate(CATALOGUE)}
        self._ranks[DENY_TYPE] = (DENY_CLASS, 0)
        self._tags: Dict[str, str] = dict(DEFAULT_TAGS)
        for index, rule in enumerate(rules):
            self._ranks[rule.name] = (CHECKSUM_CLASS if rule.validator else STRUCTURE_CLASS, index - len(rules))
            self._tags[rule.name] = rule.tag
        self._deny = term_pattern(config.deny_list)
        self._allow = term_pattern(config.allow_list)
        self._allow_values = frozenset(term.strip().casefold() for term in config.allow_list if term.strip())
        self._mask_chars = frozenset({"*", "X", "x"} | _configured_mask_chars(config))
        self._keep_max = max([4] + _configured_keeps(config))
        # Without deny terms, custom rules and allow-lists nothing can outrank or filter out a checksum-validated find.
        self._checksum_finds_final = not rules and self._deny is None and self._allow is None and not self._allow_values
        self._strategies = {view: self._view_strategies(view) for view in VIEWS}
        self._regions = tuple(config.phone_regions)
        self._group_digits = config.long_number_digits if "long_number" in config.enabled_types else 0
        # Read on every message: kept as the engine's own (typed, in the compiled build native) attributes, since the
        # settings object is an ordinary dataclass.
        self._scan_timeout_s: float = config.scan_timeout_s
        self._nlu_hidden_digits: int = config.nlu_hidden_digits
        self._hash_key: bytes = config.hash_key

    # -- detection -------------------------------------------------------------------------------------------------

    def detect(self, text: str) -> Tuple[Span, ...]:
        """Resolved, non-overlapping spans sorted by start. On timeout: one span covering the whole text (fail closed)."""
        try:
            return self._detect(text)
        except _ScanTimedOut as timed_out:
            self._report_timeout(timed_out, text)
            return (Span(0, len(text), TIMEOUT_TYPE, rule=TIMEOUT_TYPE),) if text else ()

    def _detect(self, text: str) -> Tuple[Span, ...]:
        if not text:
            return ()
        budget = self._scan_timeout_s
        limit_builtins = len(text) > LINEAR_SAFE_LENGTH
        deadline = time.perf_counter() + budget if limit_builtins or self._rules else 0.0
        scan = Scan(text, budget if limit_builtins else None, self._regions)
        candidates: List[Span] = []
        current = DENY_TYPE
        try:
            if self._deny is not None:
                candidates.extend(
                    make_span(m.start(), m.end(), DENY_TYPE, rule=DENY_TYPE)
                    for m in self._deny.finditer(text, timeout=budget)
                )
            for rule in self._rules:
                current = rule.name
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError
                candidates.extend(rule.find(scan, remaining))
            tier = self._finder_tiers[bisect_right(self._tier_floors, scan.digit_total) - 1]
            digits_left = scan.digit_total  # digits outside checksum-validated finds that are sure to be kept
            checksum_found: List[Span] = []
            scan.settled = self._checksum_finds_final and "#" not in text
            for current, finder, checksum, min_digits, gate in tier:
                if min_digits > digits_left and not checksum:
                    continue  # its finds would hold that many digits, so they would overlap a checksum find and lose
                if gate is not None and not gate(scan):
                    continue
                if limit_builtins:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        raise TimeoutError
                    scan.timeout = remaining
                found = list(finder(scan))
                if found:
                    candidates += found
                    if checksum:
                        scan.claim(found)
                        checksum_found += found
                        digits_left = self._digits_left(scan, checksum_found)
        except TimeoutError:
            raise _ScanTimedOut(current) from None
        except Exception as error:  # noqa: BLE001 - a finder bug must never let the text through unmasked
            raise _ScanTimedOut(current, type(error).__name__) from None
        spans = resolve(self._filter(text, candidates), self._ranks) if candidates else ()
        if self._group_digits and scan.digit_total >= self._group_digits:
            spans = self._cover_groups(text, scan, spans, deadline if limit_builtins else 0.0)
        return spans

    def _digits_left(self, scan: Scan, checksum_found: List[Span]) -> int:
        """Digits outside the checksum-validated finds when each of them is sure to survive resolution and filtering
        (pairwise disjoint, too long to be the kept part of a masked value, nothing that outranks them); otherwise
        all digits, and ``scan.settled`` turns false."""
        if scan.settled:
            ordered = sorted(checksum_found, key=lambda span: span.start)
            text = scan.text
            if all(before.end <= after.start for before, after in zip(ordered, ordered[1:])) and all(
                _significant(text, span) > self._keep_max for span in ordered
            ):
                return scan.digit_total - sum(_digits_within(scan, span) for span in ordered)
            scan.settled = False
        return scan.digit_total

    def _cover_groups(self, text: str, scan: Scan, spans: Tuple[Span, ...], deadline: float) -> Tuple[Span, ...]:
        """Fail closed on digit groups that no finder could segment (see ``grouped``)."""
        try:
            if deadline:
                scan.timeout = deadline - time.perf_counter()
                if scan.timeout <= 0:
                    raise TimeoutError
            extra = self._filter(text, uncovered_groups(scan, spans, self._group_digits))
        except TimeoutError:
            raise _ScanTimedOut("long_number") from None
        except Exception as error:  # noqa: BLE001 - as for the finders: never let the text through unmasked
            raise _ScanTimedOut("long_number", type(error).__name__) from None
        if not extra:
            return spans
        return tuple(sorted(spans + tuple(extra), key=lambda span: span.start))

    def _filter(self, text: str, candidates: List[Span]) -> List[Span]:
        """Drop allow-listed values, anything inside a tag, and the kept digits of an already masked value."""
        blocked: List[Tuple[int, int]] = []
        if "#" in text:
            blocked.extend(m.span() for m in TAG_SHAPE.finditer(text))
        if self._allow is not None:
            blocked.extend(m.span() for m in self._allow.finditer(text))
        check_masks = any(char in text for char in self._mask_chars)
        if not blocked and not check_masks and not self._allow_values:
            return candidates  # nothing can be dropped: the common case
        kept: List[Span] = []
        for span in candidates:
            if span.type != DENY_TYPE:
                if blocked and any(start <= span.start and span.end <= end for start, end in blocked):
                    continue
                if self._allow_values and text[span.start : span.end].strip().casefold() in self._allow_values:
                    continue
                if check_masks and self._is_kept_part(text, span):
                    continue
            kept.append(span)
        return kept

    def _is_kept_part(self, text: str, span: Span) -> bool:
        if _significant(text, span) > self._keep_max:
            return False
        return _masked_side(text, span.start - 1, -1, self._mask_chars) or _masked_side(
            text, span.end, 1, self._mask_chars
        )

    def _report_timeout(self, stopped: _ScanTimedOut, text: str) -> None:
        if stopped.failure:
            logger.error("PII rule %r failed (%s) on a %d-character text; masked whole", stopped.rule, stopped.failure, len(text))
        else:
            logger.warning("PII scan exceeded its time budget in rule %r on a %d-character text; masked whole", stopped.rule, len(text))
        if self._on_timeout is not None:
            self._on_timeout(stopped.rule, len(text))

    # -- masking ---------------------------------------------------------------------------------------------------

    def mask(self, text: str, view: str, tokenizer: Optional[Tokenizer] = None) -> MaskResult:
        """Render ``text`` for ``view``; spans index the original text. Idempotent: masking the result changes nothing."""
        strategies = self._strategies_for(view)
        try:
            return self._render_view(text, self._detect(text), view, strategies, tokenizer)
        except _ScanTimedOut as timed_out:
            self._report_timeout(timed_out, text)
            return MaskResult(TIMEOUT_TEXT if text else "", (), True)

    def mask_views(self, text: str, views: Sequence[str], tokenizer: Optional[Tokenizer] = None) -> Tuple[MaskResult, ...]:
        """``mask`` for each of ``views`` from one detection pass (a customer message is stored and shown to NLU)."""
        strategies = [self._strategies_for(view) for view in views]
        try:
            detected = self._detect(text)
            return tuple(
                self._render_view(text, detected, view, view_strategies, tokenizer)
                for view, view_strategies in zip(views, strategies)
            )
        except _ScanTimedOut as timed_out:
            self._report_timeout(timed_out, text)
            return tuple(MaskResult(TIMEOUT_TEXT if text else "", (), True) for _ in views)

    def _render_view(
        self, text: str, detected: Tuple[Span, ...], view: str, strategies: Mapping[str, StrategySpec], tokenizer
    ) -> MaskResult:
        """One view of a detection pass (its own call, so that ``mask`` of one view builds no lists)."""
        spans = detected
        if view == "nlu" and self._nlu_hidden_digits > 0:
            spans = self._hide_numbers(text, spans)
        if not spans:
            return make_mask_result(text, (), False, ())
        masked, spans, placed = self._render_stable(text, spans, view, strategies, tokenizer)
        return make_mask_result(masked, spans, False, placed)

    def _strategies_for(self, view: str) -> Mapping[str, StrategySpec]:
        if view == "admin":
            raise AdminViewError("the 'admin' view shows originals and is rendered by the vault layer, not the PII engine")
        try:
            return self._strategies[view]
        except KeyError:
            raise UnknownViewError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}") from None

    def _hide_numbers(self, text: str, spans: Tuple[Span, ...]) -> Tuple[Span, ...]:
        """The nlu view also hides every number of N+ digits ("hide numeric data from AI providers")."""
        minimum = self._nlu_hidden_digits
        extra = [
            make_span(m.start(), m.end(), "long_number")
            for m in DIGIT_RUN.finditer(text)
            if m.end() - m.start() >= minimum and not any(m.start() < s.end and s.start < m.end() for s in spans)
        ]
        if not extra:
            return spans
        return tuple(sorted(spans + tuple(extra), key=lambda span: span.start))

    def _render(self, text: str, spans: Tuple[Span, ...], strategies, tokenizer) -> Tuple[str, Tuple[Tuple[int, int], ...]]:
        """The masked text and, per span, where its replacement sits in it."""
        parts: List[str] = []
        placed: List[Tuple[int, int]] = []
        position = out = 0
        for span in spans:
            gap = text[position : span.start]
            parts.append(gap)
            out += len(gap)
            spec = strategies.get(span.rule) or strategies.get(span.type) or _TAG
            tag = self._tags.get(span.rule) or self._tags.get(span.type) or "#redacted#"
            replacement = render(text[span.start : span.end], span, spec, tag, self._hash_key, tokenizer)
            parts.append(replacement)
            placed.append((out, out + len(replacement)))
            out += len(replacement)
            position = span.end
        parts.append(text[position:])
        return "".join(parts), tuple(placed)

    def _render_stable(self, text, spans, view, strategies, tokenizer):
        """Masking can create new boundaries next to a replacement ("1234 AB4111..." -> "1234 AB#creditcardnr#");
        re-scan the result and widen the masked set until it is stable, so masking is idempotent."""
        masked, placed = self._render(text, spans, strategies, tokenizer)
        for _ in range(_MAX_RESCANS):
            if not spans or all(_isolated(text, span) for span in spans):
                break
            again = self._detect(masked)
            if view == "nlu" and self._nlu_hidden_digits > 0:
                again = self._hide_numbers(masked, again)
            if not again:
                break
            extra = _map_back(text, masked, spans, again, [end - start for start, end in placed])
            if not extra:
                break
            spans = _merge(spans, extra)
            masked, placed = self._render(text, spans, strategies, tokenizer)
        return masked, spans, placed

    # -- configuration ---------------------------------------------------------------------------------------------

    def _view_strategies(self, view: str) -> Dict[str, StrategySpec]:
        chosen: Dict[str, StrategySpec] = {}
        if view in ("agent", "storage"):
            chosen.update(_AGENT_DEFAULTS)
            for rule in self._rules:
                if rule.strategy is not None:
                    chosen[rule.name] = rule.strategy
        chosen.update(self.config.strategies.get(view, {}))
        return chosen


_TRAILING_PUNCTUATION = frozenset(".,!?;:")


def _isolated(text: str, span: Span) -> bool:
    """Whitespace (or a sentence mark then whitespace) on both sides: replacing the value cannot change what the
    finders see around it, so the masked text needs no re-scan."""
    before = span.start - 1
    if before >= 0 and (not text[before].isspace() or (before > 0 and _joins(text[before - 1]))):
        return False
    after = span.end
    if after < len(text) and text[after] in _TRAILING_PUNCTUATION:
        after += 1
    if after >= len(text):
        return True
    return text[after].isspace() and not (after + 1 < len(text) and _joins(text[after + 1]))


def _digits_within(scan: Scan, span: Span) -> int:
    """Digits of ``scan.runs`` inside ``span`` (runs cut at its edges, as a digit search in that window counts them)."""
    return sum(
        min(end, span.end) - max(start, span.start) for start, end in scan.runs if start < span.end and span.start < end
    )


def _significant(text: str, span: Span) -> int:
    """Letters and digits in a span: what keep counts and kept parts are measured in."""
    return sum(1 for char in text[span.start : span.end] if char.isalnum())


def _joins(char: str) -> bool:
    """Characters that let a value continue across a space (digit groups of phones, cards, dates; '+'; the brackets
    of a phone's area code, "00000 )0100)0000/0")."""
    return char.isdigit() or char in "+()"


def _masked_side(text: str, index: int, step: int, mask_chars: frozenset) -> bool:
    """True when, skipping one separator, at least two mask characters sit at ``index`` going in ``step``."""
    if 0 <= index < len(text) and text[index] in " -./()":
        index += step
    run = 0
    while 0 <= index < len(text) and text[index] in mask_chars and run < _MASK_RUN:
        run += 1
        index += step
    return run >= _MASK_RUN


def _map_back(text, masked, spans, again, lengths) -> List[Span]:
    """Spans found in the masked text, mapped to original offsets; a span touching a replacement swallows it."""
    segments = []  # (masked_start, masked_end, original_start, original_end, is_replacement)
    position = masked_position = 0
    for span, length in zip(spans, lengths):
        gap = span.start - position
        segments.append((masked_position, masked_position + gap, position, span.start, False))
        masked_position += gap
        segments.append((masked_position, masked_position + length, span.start, span.end, True))
        masked_position += length
        position = span.end
    segments.append((masked_position, masked_position + len(text) - position, position, len(text), False))
    mapped = []
    for found in again:
        start = end = None
        for m_start, m_end, o_start, o_end, replaced in segments:
            if start is None and found.start < m_end or (start is None and found.start == m_end == m_start):
                start = o_start if replaced else o_start + (found.start - m_start)
            if found.end <= m_end:
                end = o_end if replaced else o_start + (found.end - m_start)
                break
        if start is None or end is None or end <= start:
            continue
        mapped.append(make_span(start, end, found.type, found.attributes, found.rule, found.validated))
    return mapped


def _merge(spans: Tuple[Span, ...], extra: List[Span]) -> Tuple[Span, ...]:
    """Add re-scan findings; where they overlap existing spans the union takes the existing (higher-ranked) type."""
    merged = sorted(list(spans) + extra, key=lambda span: (span.start, -span.end))
    out: List[Span] = []
    for span in merged:
        if out and span.start < out[-1].end:
            last = out[-1]
            if span.end > last.end:
                out[-1] = make_span(last.start, span.end, last.type, last.attributes, last.rule, last.validated)
            continue
        out.append(span)
    return tuple(out)


def _configured_mask_chars(config: EngineConfig) -> set:
    chars = set()
    for per_type in config.strategies.values():
        for spec in per_type.values():
            chars.add(spec.mask_char)
    for rule in config.custom_rules:
        if rule.strategy is not None:
            chars.add(rule.strategy.mask_char)
    return chars


def _configured_keeps(config: EngineConfig) -> List[int]:
    specs = [spec for per_type in config.strategies.values() for spec in per_type.values()]
    specs += [rule.strategy for rule in config.custom_rules if rule.strategy is not None]
    return [spec.keep_left + spec.keep_right for spec in specs]


def _normalized(config: EngineConfig) -> EngineConfig:
    """The settings with lists as tuples and sets as frozensets: the engine's modules declare those types, and the
    compiled build checks them. Fields are read with ``getattr`` so that no typed read happens before this."""
    rules = tuple(
        dataclasses.replace(rule, context_words=tuple(getattr(rule, "context_words")))
        for rule in getattr(config, "custom_rules")
    )
    return dataclasses.replace(
        config,
        enabled_types=frozenset(getattr(config, "enabled_types")),
        phone_regions=tuple(getattr(config, "phone_regions")),
        allow_list=tuple(getattr(config, "allow_list")),
        deny_list=tuple(getattr(config, "deny_list")),
        custom_rules=rules,
    )


def _is_count(value: object) -> bool:
    """A whole number, 0 or more (not a bool, not 4.0: the compiled engine takes ints only)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_strategy(where: str, spec: StrategySpec) -> None:
    if spec.name not in STRATEGY_NAMES:
        raise PIIConfigError(f"unknown strategy {spec.name!r} for {where}; use one of {', '.join(STRATEGY_NAMES)}")
    if not isinstance(spec.mask_char, str) or len(spec.mask_char) != 1 or spec.mask_char.isdigit() or spec.mask_char.isspace():
        raise PIIConfigError(f"mask_char for {where} must be one character, not a digit or space")
    if not (_is_count(getattr(spec, "keep_left")) and _is_count(getattr(spec, "keep_right"))):
        raise PIIConfigError(f"keep_left/keep_right for {where} must be whole numbers, 0 or more")
    if spec.tag is not None and not TAG_SHAPE.fullmatch(spec.tag):
        raise PIIConfigError(f"tag for {where} must look like '#letters#'")


def _validate_config(config: EngineConfig) -> None:
    unknown = set(config.enabled_types) - set(BUILTIN_TYPES)
    if unknown:
        raise PIIConfigError(f"unknown PII types in enabled_types: {', '.join(sorted(unknown))}; known: {', '.join(BUILTIN_TYPES)}")
    for view, per_type in config.strategies.items():
        if view not in VIEWS:
            raise PIIConfigError(f"strategies for unknown view {view!r}; views are {', '.join(VIEWS)} (admin is the vault's)")
        for type_name, spec in per_type.items():
            _check_strategy(f"{view}/{type_name}", spec)
    for rule in config.custom_rules:
        if rule.strategy is not None:
            _check_strategy(f"custom rule {rule.name}", rule.strategy)
    if not (_is_count(getattr(config, "long_number_digits")) and _is_count(getattr(config, "nlu_hidden_digits"))):
        raise PIIConfigError("long_number_digits and nlu_hidden_digits must be whole numbers, 0 (off) or more")
    timeout = getattr(config, "scan_timeout_s")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise PIIConfigError("scan_timeout_s must be a positive number of seconds")
    supported = phonenumbers.SUPPORTED_REGIONS
    bad = [region for region in config.phone_regions if region not in supported]
    if bad:
        raise PIIConfigError(f"unknown phone regions {', '.join(bad)}; use ISO 3166 codes such as NL, DE, GB")


def build_engine(config: EngineConfig = EngineConfig(), on_timeout: Optional[TimeoutCallback] = None) -> Engine:
    """Validate settings and custom rules (``InvalidRuleError`` names a bad rule) and build a reusable engine."""
    config = _normalized(config)
    _validate_config(config)
    reserved = set(BUILTIN_TYPES) | {DENY_TYPE, TIMEOUT_TYPE}
    rules: List[CompiledRule] = []
    for rule in config.custom_rules:
        if not rule.enabled:
            continue
        if rule.name in {existing.name for existing in rules}:
            raise InvalidRuleError(rule.name, "two custom rules have this name; names must be unique")
        rules.append(compile_rule(rule, reserved))
    warm_up(config.phone_regions)
    return Engine(config, tuple(rules), on_timeout)
