"""Score the PII engine on the blind corpus (benchmarks/blind_corpus.py), through its public API only.

Recall counts a label as found when one detected span of the same type covers >= 90 % of its characters; "masked"
counts it when the union of all detected spans (any type) covers >= 90 %, which is what matters for privacy.
Precision counts detected spans (long_number excluded) that overlap no label of their type. No value is printed:
labelled values are shown as type tags, the value under discussion as its shape (digits -> 9, letters -> a/A).
Usage: `.venv/bin/python -m benchmarks.blind_eval [--seed N] [--n N] [--show N]`.
"""
from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from benchmarks.blind_corpus import generate
from plugin.pii import EngineConfig, build_engine

COVER = 0.9
CATCH_ALL = "long_number"


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def covered_chars(start: int, end: int, spans) -> int:
    """Characters of [start, end) inside the union of spans."""
    return sum(1 for i in range(start, end) if any(s.start <= i < s.end for s in spans))


def shape(value: str) -> str:
    return "".join("9" if c.isdigit() else ("A" if c.isupper() else "a") if c.isalpha() else c for c in value)


def render(text: str, labels, focus: tuple[int, int] | None) -> str:
    """The text with labels as #type# and the focus range (grown over labels it touches) as its shape in brackets."""
    regions = []
    if focus:
        f0, f1 = focus
        for s, e, _ in labels:
            if overlap(s, e, f0, f1):
                f0, f1 = min(f0, s), max(f1, e)
        regions.append((f0, f1, "[[" + shape(text[f0:f1]) + "]]"))
    for s, e, t in labels:
        if not any(overlap(s, e, r0, r1) for r0, r1, _ in regions):
            regions.append((s, e, f"#{t}#"))
    out, pos = [], 0
    for s, e, rep in sorted(regions):
        out += [text[pos:s], rep]
        pos = e
    out.append(text[pos:])
    return "".join(out).replace("\n", " / ")


def evaluate(samples, engine):
    support, found, masked = Counter(), Counter(), Counter()
    tp, fp = Counter(), Counter()
    lang_support, lang_found, lang_masked = Counter(), Counter(), Counter()
    misses, false_pos = [], []
    neg_total = neg_any = neg_strict = 0
    neg_fp_by_category: Counter = Counter()
    for sample in samples:
        text, labels = sample["text"], sample["labels"]
        spans = engine.detect(text)
        for s, e, t in labels:
            need = COVER * (e - s)
            support[t] += 1
            lang_support[sample["lang"]] += 1
            same = any(sp.type == t and overlap(sp.start, sp.end, s, e) >= need for sp in spans)
            anyc = covered_chars(s, e, spans) >= need
            found[t] += same
            masked[t] += anyc
            lang_found[sample["lang"]] += same
            lang_masked[sample["lang"]] += anyc
            if not same:
                seen = sorted({sp.type for sp in spans if overlap(sp.start, sp.end, s, e)}) or ["nothing"]
                misses.append((t, anyc, ",".join(seen), render(text, [lb for lb in labels if lb != (s, e, t)],
                                                                 (s, e)), sample["kind"]))
        for sp in spans:
            if sp.type == CATCH_ALL:
                continue
            if any(t == sp.type and overlap(sp.start, sp.end, s, e) for s, e, t in labels):
                tp[sp.type] += 1
                continue
            fp[sp.type] += 1
            under = sorted({t for s, e, t in labels if overlap(sp.start, sp.end, s, e)}) or ["unlabelled text"]
            false_pos.append((sp.type, ",".join(under), render(text, labels, (sp.start, sp.end)), sample["kind"]))
        if sample["kind"].startswith("negative"):
            neg_total += 1
            neg_any += bool(spans)
            strict = [sp for sp in spans if sp.type != CATCH_ALL]
            neg_strict += bool(strict)
            for sp in strict:
                neg_fp_by_category[(sample["kind"], sp.type)] += 1
    return dict(support=support, found=found, masked=masked, tp=tp, fp=fp, misses=misses, false_pos=false_pos,
                neg_total=neg_total, neg_any=neg_any, neg_strict=neg_strict, lang=(lang_support, lang_found, lang_masked),
                neg_fp_by_category=neg_fp_by_category)


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.1f}" if b else "     -"


def report(r: dict, n_samples: int, show: int) -> None:
    support, found, masked, tp, fp = r["support"], r["found"], r["masked"], r["tp"], r["fp"]
    types = sorted(set(support) | set(tp) | set(fp))
    print(f"{'type':16} {'support':>7} {'recall%':>7} {'masked%':>7} {'spans':>6} {'FP':>4} {'prec%':>6}")
    for t in types:
        spans = tp[t] + fp[t]
        print(f"{t:16} {support[t]:7d} {pct(found[t], support[t]):>7} {pct(masked[t], support[t]):>7} "
              f"{spans:6d} {fp[t]:4d} {pct(tp[t], spans):>6}")
    s_all, f_all, m_all = sum(support.values()), sum(found.values()), sum(masked.values())
    tp_all, fp_all = sum(tp.values()), sum(fp.values())
    print(f"{'ALL':16} {s_all:7d} {pct(f_all, s_all):>7} {pct(m_all, s_all):>7} {tp_all + fp_all:6d} {fp_all:4d} "
          f"{pct(tp_all, tp_all + fp_all):>6}")
    ls, lf, lm = r["lang"]
    print("by language: " + "  ".join(f"{lg} recall {pct(lf[lg], ls[lg]).strip()}% masked {pct(lm[lg], ls[lg]).strip()}%"
                                       for lg in sorted(ls)))
    nt = r["neg_total"]
    print(f"hard negatives: {nt} of {n_samples} messages; with any span {r['neg_any']} ({pct(r['neg_any'], nt).strip()} %), "
          f"with a span other than {CATCH_ALL} {r['neg_strict']} ({pct(r['neg_strict'], nt).strip()} %)")
    if r["neg_fp_by_category"]:
        print("  negative-message spans (not long_number) by kind/type: " + ", ".join(
            f"{k}->{t}: {c}" for (k, t), c in r["neg_fp_by_category"].most_common(12)))
    print(f"\nmisses ({len(r['misses'])}; showing {min(show, len(r['misses']))}): type | masked by any | detected there | text")
    for t, anyc, seen, txt, kind in r["misses"][:show]:
        print(f"  {t:14} | {'yes' if anyc else 'NO ':3} | {seen:24} | {txt}   <{kind}>")
    print(f"\nfalse positives ({len(r['false_pos'])}; showing {min(show, len(r['false_pos']))}): "
          "detected type | label under it | text")
    for t, under, txt, kind in r["false_pos"][:show]:
        print(f"  {t:14} | {under:16} | {txt}   <{kind}>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=600, help="messages in the corpus")
    parser.add_argument("--show", type=int, default=15, help="misses and false positives to print")
    args = parser.parse_args()
    samples = generate(args.seed, args.n)
    engine = build_engine(EngineConfig())
    print(f"blind corpus seed {args.seed}: {len(samples)} messages, "
          f"{sum(len(s['labels']) for s in samples)} labelled values")
    report(evaluate(samples, engine), len(samples), args.show)


if __name__ == "__main__":
    main()
