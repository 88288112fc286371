"""``PIIMasker``: the first NLU component. The model only ever sees the ``nlu`` view; PII spans become entities.

config.yml::

    pipeline:
      - name: plugin.server.nlu.PIIMasker
      - name: WhitespaceTokenizer
      ...

Registered as a (non-trainable) message featurizer so that Rasa runs it on training data too: the model is trained on
the same tags it sees at run time, with annotated entity offsets moved onto the masked text. At run time each PII span
becomes an entity whose value is a vault token (``vlt_...``), so slots filled from entities never hold raw values.
When the plugin's input channel already masked the message, its nlu rendering and entities are taken from the
message metadata (the text itself is then the storage rendering, which must not be scanned twice); the channel has
stored the originals behind their tokens before handing the message to Rasa.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from plugin.policy.guard import Guard, current_guard
from plugin.policy.metadata_seal import verified_entry


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class PIIMasker(GraphComponent):
    """Renders the ``nlu`` view into TEXT before tokenizers and featurizers; adds PII spans as token-valued entities."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"add_entities": True}

    def __init__(self, config: Dict[Text, Any], guard: Optional[Guard] = None) -> None:
        self._add_entities = bool(config.get("add_entities", True))
        self._guard = guard

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PIIMasker":
        return cls(config)

    @property
    def guard(self) -> Guard:
        return self._guard or current_guard()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Mask training examples the way run-time messages are masked, keeping annotated entities on their words."""
        engine = self.guard.engine()
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not text:
                continue
            result = engine.mask(text, "nlu")
            if result.text == text:
                continue
            moves = list(zip(result.spans, result.output_spans))
            example.set(TEXT, result.text)
            if example.get(ENTITIES):
                example.set(ENTITIES, [_moved_entity(e, moves, text, result.text) for e in example.get(ENTITIES)])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            from_channel = channel_rendering(message.get("metadata"), self.guard.metadata_seal_key())
            if from_channel is not None:
                nlu_text, entities = from_channel
            else:
                protected = self.guard.protect(text)
                nlu_text, entities = protected.nlu_text, list(protected.entities)
            message.set(TEXT, nlu_text)
            if self._add_entities and entities:
                message.set(ENTITIES, list(message.get(ENTITIES) or []) + entities, add_to_output=True)
        return messages


def channel_rendering(metadata: Any, seal_key: bytes) -> Optional[Tuple[str, List[Dict[str, Any]]]]:
    """The nlu text and entities the plugin's input channel put in the message metadata, if it did: an entry without
    a valid seal (a client's, through a stock channel) is ignored and the text is masked here instead (fail closed)."""
    guard_data = verified_entry(metadata, seal_key)
    if guard_data is None:
        return None
    nlu_text, entities = guard_data.get("nlu_text"), guard_data.get("entities")
    if not isinstance(nlu_text, str) or not isinstance(entities, list):
        return None
    return nlu_text, [dict(e) for e in entities if isinstance(e, Mapping)]


def _moved_entity(
    entity: Mapping[str, Any], moves: Sequence[Tuple[Any, Tuple[int, int]]], original: str, masked: str
) -> Dict[str, Any]:
    """The entity on the masked text: a boundary inside a replaced span snaps to the replacement's edge, and an
    entity whose words were masked takes the masked words as its value (the raw value must not reach the model)."""

    def moved(position: int, is_end: bool) -> int:
        shift = 0
        for span, (out_start, out_end) in moves:
            if position <= span.start:
                break
            if position < span.end:
                return out_end if is_end else out_start
            shift = out_end - span.end
        return position + shift

    old_start, old_end = int(entity["start"]), int(entity["end"])
    start, end = moved(old_start, False), moved(old_end, True)
    result = dict(entity, start=start, end=end)
    if masked[start:end] != original[old_start:old_end]:
        result["value"] = masked[start:end]
    return result
