"""The whole pipeline on a census-shaped table: wall time per stage and peak memory.

A generated table shaped like a census extract (50,000 rows; 6 numeric and 8 categorical
columns; two sensitive features) goes through ``auditor run``, learning curve included.
Targets on 2 CPU cores: checks stage < 4 s, whole run < 20 s, peak memory < 1 GB.

    .venv/bin/python benchmarks/end_to_end.py [--rows 50000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

TARGET_CHECKS_S = 4.0
TARGET_TOTAL_S = 20.0
TARGET_PEAK_MB = 1024.0

SPEC = """\
version: 1
name: census-benchmark
objective: {{task: binary, target: high_income, positive: 1, purpose: Benchmark.}}
data:
  train: census.csv
  sensitive: [sex, race]
  split: {{strategy: stratified, validation: 0.2, test: 0.2, seed: 1}}
training: {{epochs: 20, batch_size: 512, seed: 1, early_stopping: {{patience: 4}}}}
evaluation: {{bootstrap: 1000}}
acceptance:
  - {{metric: roc_auc, split: test, at_least: 0.8}}
  - {{metric: demographic_parity_difference, sensitive: sex, split: test, at_most: 0.1}}
  - {{metric: equalized_odds_difference, sensitive: race, split: test, at_most: 0.1}}
report: {{output: {out}}}
"""


def census(rows: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], rows, p=[0.48, 0.52])
    race = rng.choice(
        ["white", "black", "asian", "other", "native"], rows, p=[0.7, 0.12, 0.1, 0.06, 0.02]
    )
    age = rng.integers(17, 90, rows)
    education_num = rng.integers(1, 17, rows)
    hours = np.clip(rng.normal(40, 12, rows), 1, 99).round()
    capital_gain = np.where(rng.uniform(size=rows) < 0.08, rng.exponential(8000, rows), 0).round()
    capital_loss = np.where(rng.uniform(size=rows) < 0.05, rng.exponential(1500, rows), 0).round()
    fnlwgt = rng.integers(12000, 1_500_000, rows)
    cats = {
        "workclass": ["private", "self-emp", "gov", "without-pay"],
        "education": ["hs", "some-college", "bachelors", "masters", "doctorate", "other"],
        "marital": ["married", "never-married", "divorced", "widowed"],
        "occupation": ["tech", "craft", "sales", "exec", "service", "admin", "farming"],
        "relationship": ["husband", "wife", "own-child", "unmarried", "other"],
        "country": ["us", "mexico", "philippines", "germany", "india", "other"],
    }
    frame = {name: rng.choice(values, rows) for name, values in cats.items()}
    logit = (
        -7
        + 0.04 * age
        + 0.35 * education_num
        + 0.03 * hours
        + 0.0002 * capital_gain
        + 0.8 * (frame["marital"] == "married")
        + 0.6 * (sex == "male")
    )
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "age": age,
            "education_num": education_num,
            "hours_per_week": hours,
            "capital_gain": capital_gain,
            "capital_loss": capital_loss,
            "fnlwgt": fnlwgt,
            **frame,
            "sex": sex,
            "race": race,
            "high_income": y,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from auditor.pipeline import run

    import_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        census(args.rows).to_csv(tmp / "census.csv", index=False)
        (tmp / "spec.yaml").write_text(SPEC.format(out=tmp / "out"))
        start = time.perf_counter()
        outcome = run(tmp / "spec.yaml", quiet=True)
        total = time.perf_counter() - start
        pdf_kb = outcome.files["pdf"].stat().st_size / 1024
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"end-to-end benchmark: {args.rows:,} rows, 6 numeric + 8 categorical columns, 2 sensitive"
    )
    print(f"  {'import':<10} {import_s:7.2f} s")
    for stage, seconds in outcome.timings.items():
        print(f"  {stage:<10} {seconds:7.2f} s")
    print(
        f"  {'total':<10} {total:7.2f} s   (verdict {outcome.results['verdict']['status']}, "
        f"PDF {pdf_kb:.0f} KB)"
    )
    print(f"  peak memory (max RSS) {peak_mb:.0f} MB")
    checks = outcome.timings.get("checks", float("nan"))
    rows = [
        ("checks stage", checks, TARGET_CHECKS_S, "s"),
        ("whole run", total, TARGET_TOTAL_S, "s"),
        ("peak memory", peak_mb, TARGET_PEAK_MB, "MB"),
    ]
    ok = True
    for name, value, target, unit in rows:
        met = value < target
        ok &= met
        verdict = "met" if met else "NOT MET"
        print(f"  {name:<13} {value:8.2f} {unit:<2} target < {target:g} {unit:<2} {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
