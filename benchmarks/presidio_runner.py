"""Presidio side of the speed benchmark; runs inside ``benchmarks/.venv-presidio``, never in the project venv.

Analyzer with a blank spaCy English pipeline (no model download, no NER) and only the pattern recognizers,
plus the anonymizer with its default replace operator. A second configuration adds Presidio's phone recognizer
(``phonenumbers``, no model; not a ``PatternRecognizer`` subclass) for the regions our engine checks, so that both
sides cover phones as well. Prints one JSON object on stdout.

    .venv-presidio/bin/python benchmarks/presidio_runner.py --messages FILE --rounds 3
    .venv-presidio/bin/python benchmarks/presidio_runner.py --cold-start
    .venv-presidio/bin/python benchmarks/presidio_runner.py --messages FILE --serve

``--serve`` is for the paired throughput comparison: after a warm-up pass it prints ``{"ready": true}``, then for each
line ``pass`` on stdin runs one untimed-per-call pass of analyze + anonymize over every message and prints
``{"seconds": ...}``; any other line, or the end of stdin, stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Presidio's e-mail recognizer uses tldextract, which would fetch the public suffix list over the network;
# an empty URL list makes it use the snapshot it ships.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""


def build_presidio(phone_regions: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """``(analyzer, anonymizer)`` with a blank spaCy model and pattern recognizers only, plus the phone recognizer
    for ``phone_regions`` when given."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer
    from presidio_anonymizer import AnonymizerEngine

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """SpacyNlpEngine whose pipeline is ``spacy.blank("en")``: tokens only, nothing to download."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    nlp_engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank_en"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    registry.recognizers = [r for r in registry.recognizers if isinstance(r, PatternRecognizer)]
    if phone_regions:
        registry.add_recognizer(PhoneRecognizer(supported_regions=list(phone_regions)))
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    return analyzer, AnonymizerEngine()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=Path, help="JSON list of message strings")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-start", action="store_true", help="time import + build + first message, then exit")
    parser.add_argument("--phone-regions", default="", help="comma-separated regions for the configuration with phones")
    parser.add_argument("--serve", action="store_true", help="time one pass per 'pass' line on stdin (see above)")
    args = parser.parse_args()

    start = time.perf_counter()
    analyzer, anonymizer = build_presidio()
    built = time.perf_counter()

    def mask(text: str) -> str:
        return anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text=text, language="en")).text

    mask("warm up with a first message")
    if args.cold_start:
        print(json.dumps({"import_build_s": built - start, "first_message_s": time.perf_counter() - built}))
        return 0

    from benchmarks.timing import time_calls

    messages = json.loads(args.messages.read_text(encoding="utf-8"))
    if args.serve:
        return serve_passes(mask, messages)
    result = {
        "recognizers": sorted(type(r).__name__ for r in analyzer.registry.recognizers),
        "mask": time_calls(mask, messages, args.rounds),
        "analyze": time_calls(lambda text: analyzer.analyze(text=text, language="en"), messages, args.rounds),
    }
    regions = tuple(region for region in args.phone_regions.split(",") if region)
    if regions:
        phone_analyzer, _ = build_presidio(regions)

        def mask_with_phones(text: str) -> str:
            found = phone_analyzer.analyze(text=text, language="en")
            return anonymizer.anonymize(text=text, analyzer_results=found).text

        result["phone_regions"] = list(regions)
        result["mask_with_phones"] = time_calls(mask_with_phones, messages, args.rounds)
    print(json.dumps(result))
    return 0


def serve_passes(mask: Any, messages: list[str]) -> int:
    """One timed pass over ``messages`` per ``pass`` line on stdin, answered with its duration (see the docstring)."""
    from benchmarks.timing import timed_pass

    timed_pass(mask, messages)  # warm-up
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "pass":
            break
        print(json.dumps({"seconds": timed_pass(mask, messages)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
