"""The engine's results: spans (positions only, never the raw value) and mask results."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Tuple

NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Span:
    """One detected value: ``text[start:end]`` is the value; the span itself never holds it, so reprs are safe."""

    start: int
    end: int
    type: str
    attributes: Mapping[str, str] = field(default=NO_ATTRIBUTES, hash=False, compare=True)
    rule: str = ""
    validated: bool = False

    def __post_init__(self) -> None:
        if not self.rule:
            object.__setattr__(self, "rule", self.type)

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def to_json(self) -> dict:
        """The JSON Lines shape of the CLI: offsets are Python string indices."""
        data = {"start": self.start, "end": self.end, "type": self.type, "rule": self.rule, "validated": self.validated}
        data.update(self.attributes)
        return data


@dataclass(frozen=True)
class MaskResult:
    """A rendered view. ``text`` is masked; ``spans`` index the ORIGINAL text; ``timed_out`` means fail-closed;
    ``output_spans[i]`` is where the replacement of ``spans[i]`` sits in ``text`` (NLU entities point there)."""

    text: str = field(repr=False)
    spans: Tuple[Span, ...] = ()
    timed_out: bool = False
    output_spans: Tuple[Tuple[int, int], ...] = ()
