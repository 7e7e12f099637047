"""An audit-only run of a vendor's predictions file over a large client file.

1,000,000 client rows x 50 columns (two sensitive features), a development reference of
the same size, a predictions file joined by id; the spec audits the file as it is and
compares it with the reference (drift per feature, the domain classifier). Prints each
stage's time, the drift and domain classifier's time, and the peak memory, then the same
at 100,000 rows, against the targets (2 cores):

- drift and domain classifier together under 10 s;
- the whole run under 45 s; peak memory under 3 GB;
- 100,000 rows in at most a tenth of the time plus 3 s (cost linear in rows).

Each run is a fresh interpreter with auditor's bytecode cached, as in an installed package
(a shell with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile its hundred-odd
modules again in every run, a quarter of a second).

Run: ``.venv/bin/python benchmarks/client_audit.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COLUMNS, CATEGORICAL = 50, 5
TARGETS = {"drift": 10.0, "run": 45.0, "memory_gb": 3.0}


def _table(rng, n: int, *, shift: bool):
    import pandas as pd

    data = {"case_id": np.arange(n, dtype=np.int64) + (10**9 if shift else 0)}
    numeric = COLUMNS - CATEGORICAL - 2
    for j in range(numeric):
        mean = 0.3 if shift and j < 2 else 0.0
        data[f"x{j}"] = rng.normal(mean, 1.0, n).astype(np.float32)
    for j in range(CATEGORICAL):
        data[f"c{j}"] = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    data["sex"] = rng.choice(["female", "male"], n)
    data["region"] = rng.choice(["north", "south", "east", "west"], n)
    logit = 0.8 * data["x0"] - 0.5 * data["x1"] + 0.3 * data["x2"]
    data["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pd.DataFrame(data)


def _write(folder: Path, rows: int) -> Path:
    """The client file, the reference, the predictions file and the spec, in ``folder``."""
    import pandas as pd
    import yaml

    rng = np.random.default_rng(0)
    client = _table(rng, rows, shift=True)
    reference = _table(rng, rows, shift=False)
    client.to_parquet(folder / "client.parquet")
    reference.to_parquet(folder / "reference.parquet")
    logit = 0.8 * client["x0"] - 0.5 * client["x1"] + rng.normal(0, 1, rows)
    scores = pd.DataFrame({"case_id": client["case_id"], "score": 1 / (1 + np.exp(-logit))})
    scores.to_parquet(folder / "scores.parquet")
    spec = {
        "version": 1,
        "name": "client-audit-benchmark",
        "objective": {"task": "binary", "target": "y"},
        "data": {
            "audit": [{"path": "client.parquet", "label": "client"}],
            "reference": {"path": "reference.parquet"},
            "id_column": "case_id",
            "sensitive": ["sex", "region"],
        },
        "model": {"vendor": {"format": "predictions", "path": "scores.parquet"}},
        "acceptance": [
            {"metric": "roc_auc", "at_least": 0.6},
            {"metric": "demographic_parity_difference", "sensitive": "sex", "at_most": 0.1},
            {"check": "domain_classifier", "at_most": 0.6, "severity": "advisory"},
        ],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


CHILD = """
import json, resource, sys, time
from auditor.pipeline import run
from auditor.spec import load_spec
from auditor.data import build_dataset
from auditor.evaluate import compare_with_reference
spec_path, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
outcome = run(spec_path, out=out, quiet=True)
whole = time.perf_counter() - start
spec = load_spec(spec_path, check_data=False)
dataset = build_dataset(spec)
t = time.perf_counter()
compare_with_reference(spec, dataset, {})
drift = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print(json.dumps({"whole": whole, "drift": drift, "peak_gb": peak, "timings": outcome.timings}))
"""


ROOT = Path(__file__).resolve().parents[1]
#: The runs' environment: bytecode written and read, as an installed package has it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(rows: int) -> dict:
    """Time an audit-only run over ``rows`` client rows in a fresh interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = _write(folder, rows)
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(spec), str(folder / "out")],
            capture_output=True,
            text=True,
            check=True,
            env=ENV,
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    subprocess.run(  # auditor's bytecode, as an installed package has it
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "auditor")], check=True, env=ENV
    )
    results = {}
    for rows in (args.rows, args.rows // 10):
        started = time.perf_counter()
        results[rows] = got = measure(rows)
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in got["timings"].items())
        print(f"{rows:>9,} rows: whole run {got['whole']:.1f} s ({stages})")
        took = time.perf_counter() - started
        print(
            f"{'':>15} drift and domain classifier {got['drift']:.1f} s, "
            f"peak memory {got['peak_gb']:.2f} GB (measured in {took:.0f} s)"
        )
    big, small = results[args.rows], results[args.rows // 10]
    checks = [
        ("drift + domain classifier", big["drift"], TARGETS["drift"], "s"),
        ("whole run", big["whole"], TARGETS["run"], "s"),
        ("peak memory", big["peak_gb"], TARGETS["memory_gb"], "GB"),
        ("a tenth of the rows", small["whole"], big["whole"] / 10 + 3.0, "s"),
    ]
    for name, value, target, unit in checks:
        mark = "ok" if value <= target else "MISSED"
        print(f"{name:<28} {value:8.2f} {unit}  target <= {target:.2f} {unit}  {mark}")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
