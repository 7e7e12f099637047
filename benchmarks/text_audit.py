"""The generated-text audit at 10,000 rows (issue 12's benchmark), against its targets.

Stages, each timed and printed beside its target (2 cores):

- lexical and reference metrics with intervals (exact match, token F1, BLEU, chrF,
  ROUGE-L, the lexical groundedness heuristics): per-row figures, the aggregate with its
  bootstrap interval and the pass rate at the per-row threshold, on the seeded 'support'
  generator's 10,000 rows: under 5 s (the libraries' imports are timed apart);
- the safety metrics and the whole registered ``text`` check (every catalogued metric,
  its segments and their gaps): for information;
- memorization: a seeded corpus of about 100 MB written to a temporary folder with a few
  hundred responses planted in it verbatim, indexed (streaming chunks), then the 10,000
  responses scanned and verified: under 30 s, with the peak memory of the stage
  (tracemalloc: numpy and Python allocations) and the planted responses found;
- hooks for the lead: :func:`embedding_rows_per_second` and :func:`judge_throughput`
  return None here and print "not measured" until they are filled in.

Run: ``.venv/bin/python benchmarks/text_audit.py [--rows N] [--corpus-mb M]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

TARGETS = {"lexical_reference": 5.0, "memorization": 30.0}
LEXICAL_REFERENCE = (
    "exact_match",
    "token_f1",
    "bleu",
    "chrf",
    "rouge_l",
    "groundedness",
    "lexical_support",
)
SAFETY = ("refusal_rate", "personal_data_rate", "profanity_rate")
RESAMPLES = 1000
PLANTED = 300


def _rows(n: int):
    from auditor.text.example import support

    return support(np.random.default_rng(12), n)


def _imports() -> float:
    start = time.perf_counter()
    import rouge_score.rouge_scorer  # noqa: F401 - imports nltk
    import sacrebleu  # noqa: F401

    from auditor.text import reference

    reference._rouge_scorer()
    reference._sacrebleu_metric("bleu", False)
    return time.perf_counter() - start


def metrics_stage(frame, names) -> tuple[float, dict[str, float]]:
    """Per-row figures, aggregate with interval and pass rate for each named metric."""
    from auditor.text.aggregate import aggregate, pass_rate
    from auditor.text.catalogue import TEXT_METRICS

    data = {c: frame[c].tolist() for c in ("question", "context", "response", "reference")}
    each = {}
    start = time.perf_counter()
    for i, name in enumerate(names):
        if name not in TEXT_METRICS:
            continue
        t = time.perf_counter()
        m = TEXT_METRICS[name]
        raw = m.rows(data)
        per_row = m.sentence(raw) if m.sentence is not None else raw
        aggregate(raw, resamples=RESAMPLES, seed=i, confidence=0.95, corpus=m.corpus)
        if m.row_threshold is not None:
            pass_rate(per_row, m.row_threshold, resamples=RESAMPLES, seed=i, confidence=0.95)
        each[name] = time.perf_counter() - t
    return time.perf_counter() - start, each


def text_check_stage(frame, folder: Path) -> float:
    """The registered ``text`` check on one audit file with the channel segments."""
    import yaml

    from auditor.checks.registry import CHECKS, CheckContext
    from auditor.spec import load_spec
    from auditor.text.audit import read_text_data, text_evaluation

    frame.drop(columns=["planted_hallucination"]).to_csv(folder / "answers.csv", index=False)
    spec = {
        "version": 1,
        "name": "text-benchmark",
        "objective": {"task": "generation", "purpose": "Benchmark the text check."},
        "data": {
            "audit": [{"path": "answers.csv", "name": "q4"}],
            "text": {
                "question": "question",
                "context": "context",
                "response": "response",
                "reference": "reference",
            },
            "id_column": "ticket_id",
            "sensitive": ["channel"],
        },
        "evaluation": {"bootstrap": RESAMPLES},
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    loaded = load_spec(folder / "spec.yaml")
    dataset = read_text_data(loaded)
    ctx = CheckContext(spec=loaded, dataset=dataset, evaluation=text_evaluation(loaded))
    start = time.perf_counter()
    CHECKS["text"].fn(ctx.for_check(CHECKS["text"]))
    return time.perf_counter() - start


def memorization_stage(frame, corpus_mb: float, folder: Path) -> dict:
    """Write the corpus (untimed), then index it and scan every response (timed)."""
    from auditor.text import memorization as mz

    responses = frame["response"].tolist()
    rng = np.random.default_rng(0)
    planted_rows = rng.choice(len(responses), size=PLANTED, replace=False)
    planted = [responses[i] for i in planted_rows]
    path = folder / "corpus.txt"
    t = time.perf_counter()
    mz.write_synthetic_corpus(path, target_bytes=int(corpus_mb * 1e6), seed=3, planted=planted)
    written = time.perf_counter() - t
    tracemalloc.start()
    t = time.perf_counter()
    index = mz.build_index(path, ngram=8)
    built = time.perf_counter() - t
    t = time.perf_counter()
    found = mz.scan(index, responses)
    scanned = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    copies = set(planted)
    truth = np.array([r in copies and len(mz.words(r)) >= 20 for r in responses])
    hits = found.longest >= 20
    return {
        "corpus_bytes": path.stat().st_size,
        "written_s": written,
        "index_s": built,
        "scan_s": scanned,
        "total_s": built + scanned,
        "peak_mb": peak / 1e6,
        "index_mb": index.memory_bytes / 1e6,
        "ngrams": len(index.hashes),
        "planted_found": int((hits & truth).sum()),
        "planted": int(truth.sum()),
        "unplanted_flagged": int((hits & ~truth).sum()),
    }


# ------------------------------------------------------------------ hooks for the lead
def embedding_rows_per_second(frame) -> float | None:
    """HOOK (lead): sentence-embedding metrics in rows per second on CPU. Not measured here."""
    return None


def judge_throughput(frame, concurrency: int) -> float | None:
    """HOOK (lead): LLM-judge rows per second against a local server at ``concurrency``
    concurrent requests (1 and 4). Not measured here."""
    return None


def _line(label: str, seconds: float, target: float | None = None) -> str:
    mark = (
        ""
        if target is None
        else f"  (target < {target:g} s: {'met' if seconds < target else 'MISSED'})"
    )
    return f"{label:<48} {seconds:7.2f} s{mark}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--corpus-mb", type=float, default=100.0)
    args = parser.parse_args()
    frame = _rows(args.rows)
    print(f"{args.rows:,} generated rows ('support'), {RESAMPLES} bootstrap resamples")
    print(_line("imports (sacrebleu, rouge-score/nltk)", _imports()))
    total, each = metrics_stage(frame, LEXICAL_REFERENCE)
    print(
        _line("lexical and reference metrics with intervals", total, TARGETS["lexical_reference"])
    )
    for name, seconds in each.items():
        print(_line(f"  {name}", seconds))
    total, each = metrics_stage(frame, SAFETY)
    print(_line("safety metrics with intervals (information)", total))
    for name, seconds in each.items():
        print(_line(f"  {name}", seconds))
    with tempfile.TemporaryDirectory() as folder:
        seconds = text_check_stage(frame, Path(folder))
    print(_line("registered 'text' check, 3 segments (information)", seconds))
    with tempfile.TemporaryDirectory() as folder:
        mem = memorization_stage(frame, args.corpus_mb, Path(folder))
    print(
        _line(
            f"memorization: index {mem['corpus_bytes'] / 1e6:.0f} MB + scan {args.rows:,}",
            mem["total_s"],
            TARGETS["memorization"],
        )
    )
    print(_line("  index (streaming chunks)", mem["index_s"]))
    print(_line("  scan and verify", mem["scan_s"]))
    print(
        f"  {mem['ngrams']:,} distinct 8-grams, index {mem['index_mb']:.0f} MB, peak traced "
        f"memory {mem['peak_mb']:.0f} MB; responses equal to a planted one found "
        f"{mem['planted_found']} of {mem['planted']}; other responses sharing 20+ words with "
        f"a planted one (templated answers) {mem['unplanted_flagged']}"
    )
    for label, value in (
        ("embedding metrics, rows/s on CPU", embedding_rows_per_second(frame)),
        ("judge throughput, 1 concurrent request", judge_throughput(frame, 1)),
        ("judge throughput, 4 concurrent requests", judge_throughput(frame, 4)),
    ):
        print(f"{label:<48} {'not measured (hook)' if value is None else f'{value:.1f} rows/s'}")


if __name__ == "__main__":
    main()
