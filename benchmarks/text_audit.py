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
- the same lexical and reference metrics on the rows made all distinct (a ticket number
  appended to every response and reference): the generator's answers are templated, and
  the metrics compute each distinct row once, so this is the figure for a vendor whose
  every answer differs (also against the 5 s target);
- embedding metrics in rows per second on CPU: every catalogue metric that reads the
  bundled all-MiniLM-L6-v2 (similarity, relevance, coherence, semantic similarity,
  embedding support) on rows whose responses are all distinct, the model's loading apart;
- judge throughput in rows per second against the test suite's local chat-completions
  server (tests/text/chat_server.py, 10 ms a reply) at 1 and 4 concurrent requests
  (:mod:`benchmarks.text_judge`: groundedness, 3 repeats a row).

Run: ``.venv/bin/python benchmarks/text_audit.py [--rows N] [--corpus-mb M]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"lexical_reference": 5.0, "memorization": 30.0}
#: Rows the embedding and judge throughputs are measured on (rows/s extrapolate).
EMBEDDING_ROWS = 1000
JUDGE_ROWS = 200
JUDGE_LATENCY_S = 0.01
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


def distinct(frame):
    """The rows with a ticket number appended to every response and reference."""
    out = frame.copy()
    tickets = [f" Ticket {i}." for i in range(len(out))]
    out["response"] = [r + t for r, t in zip(out["response"], tickets, strict=True)]
    out["reference"] = [r + t for r, t in zip(out["reference"], tickets, strict=True)]
    return out


def embedding_rows_per_second(frame) -> dict[str, float]:
    """Every embedding metric of the catalogue on CPU, rows per second (loading apart)."""
    from auditor.text.catalogue import TEXT_METRICS
    from auditor.text.local_models import TextModels

    class Settings:  # the spec's text_models: {} (the bundled model)
        embedding = "all-MiniLM-L6-v2"
        language_model = None
        batch_size = 64
        device = "cpu"

    rows = distinct(frame.iloc[:EMBEDDING_ROWS])
    data = {c: rows[c].tolist() for c in ("question", "context", "response", "reference")}
    models = TextModels(Settings(), Path("."))
    start = time.perf_counter()
    embedder = models.embedder()
    loaded = time.perf_counter() - start
    embedder._memo.clear()
    data["models"] = models
    names = [m for m in TEXT_METRICS.values() if m.needs == ("embedder",)]
    start = time.perf_counter()
    for m in names:
        m.row_values(data)
    seconds = time.perf_counter() - start
    return {
        "load_s": loaded,
        "rows_per_s": len(rows) / seconds,
        "metrics": [m.name for m in names],
        "texts": len(embedder._memo),
    }


def judge_throughput(frame, concurrency: int) -> float:
    """LLM-judge rows per second against the local server at ``concurrency`` requests."""
    from benchmarks.text_judge import judge_rows_per_second

    got = judge_rows_per_second(
        JUDGE_ROWS, latency_s=JUDGE_LATENCY_S, concurrency=(concurrency,), quiet=True
    )
    return got[concurrency]


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
    total, _ = metrics_stage(distinct(frame), LEXICAL_REFERENCE)
    print(
        _line(
            "the same on all-distinct rows (ticket appended)",
            total,
            TARGETS["lexical_reference"],
        )
    )
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
    emb = embedding_rows_per_second(frame)
    print(
        f"{'embedding metrics on CPU (all-MiniLM-L6-v2)':<48} {emb['rows_per_s']:7.1f} rows/s "
        f"({EMBEDDING_ROWS:,} distinct rows, {emb['texts']:,} texts embedded, "
        f"{len(emb['metrics'])} metrics: {', '.join(emb['metrics'])}; load {emb['load_s']:.1f} s)"
    )
    for c in (1, 4):
        rate = judge_throughput(frame, c)
        print(
            f"{f'judge throughput, {c} concurrent request(s)':<48} {rate:7.1f} rows/s "
            f"({JUDGE_ROWS} rows x 3 repeats, local server {JUDGE_LATENCY_S * 1000:.0f} ms a reply)"
        )


if __name__ == "__main__":
    main()
