"""Spans and mask results built without their frozen-dataclass ``__init__`` (~2x faster): the finders make one per
candidate. A module of its own so that it is compiled with the engine (spans.py, which defines the dataclasses,
stays interpreted: mypyc's native classes have no ``__dict__`` to fill)."""

from __future__ import annotations

from typing import Mapping, Tuple

from plugin.pii.spans import NO_ATTRIBUTES, MaskResult, Span

_new = object.__new__


def make_span(
    start: int,
    end: int,
    type: str,
    attributes: Mapping[str, str] = NO_ATTRIBUTES,
    rule: str = "",
    validated: bool = False,
) -> Span:
    """``Span(...)`` without the frozen-dataclass ``__init__`` (~2x faster); the finders create one per candidate."""
    span = _new(Span)
    fields = span.__dict__  # item by item: ~40 % faster than one update(**keywords)
    fields["start"] = start
    fields["end"] = end
    fields["type"] = type
    fields["attributes"] = attributes
    fields["rule"] = rule or type
    fields["validated"] = validated
    return span


def make_mask_result(
    text: str, spans: Tuple[Span, ...], timed_out: bool, output_spans: Tuple[Tuple[int, int], ...]
) -> MaskResult:
    """``MaskResult(...)`` without the frozen-dataclass ``__init__``: it is built once per message, on the hot path."""
    result = _new(MaskResult)
    fields = result.__dict__
    fields["text"] = text
    fields["spans"] = spans
    fields["timed_out"] = timed_out
    fields["output_spans"] = output_spans
    return result
