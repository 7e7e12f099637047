"""Small seeded data files and a minimal spec, shared by the spec and CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 200

# A minimal valid spec; the broken-spec table edits single lines, so line numbers are
# stable: line 5 is the target, line 7 the train file, line 10 the only criterion.
BASE = """\
version: 1
name: t
objective:
  task: binary
  target: approved
data:
  train: data.csv
  sensitive: [sex]
acceptance:
  - {metric: f1, at_least: 0.5}
"""


def loan_frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """Seeded applicants: approved is 0/1 (about 40% approved), sex has two groups."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 12_000, rows).round(0)
    return pd.DataFrame(
        {
            "applicant_id": [f"A{i:05d}" for i in range(rows)],
            "age": rng.integers(18, 80, rows),
            "sex": rng.choice(["female", "male"], rows),
            "income": income,
            "region": rng.choice(["north", "south", "east"], rows),
            "approved": (income + rng.normal(0, 8_000, rows) > 52_000).astype(int),
        }
    )


def write_data_files(folder: Path) -> Path:
    """Every data file the tests refer to, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = loan_frame()
    frame.to_csv(folder / "data.csv", index=False)
    frame.to_parquet(folder / "data.parquet", index=False)
    frame.to_json(folder / "data.jsonl", orient="records", lines=True)
    frame.iloc[:40].to_csv(folder / "holdout.csv", index=False)
    frame.drop(columns=["income"]).iloc[:40].to_csv(folder / "holdout_lacking.csv", index=False)
    (folder / "data.xlsx").write_bytes((folder / "data.csv").read_bytes())
    (folder / "empty.csv").write_bytes(b"")
    frame.iloc[:0].to_csv(folder / "header.csv", index=False)
    rng = np.random.default_rng(1)
    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    (folder / "garbage.csv").write_bytes(b"\x00\x01" + garbage)
    # Not UTF-8 but free of NUL bytes: pandas must fail on the decoding.
    (folder / "latin.csv").write_bytes(b"a,b\n\xff\xfe\xfa,1\n")
    (folder / "bad.parquet").write_bytes(b"PAR1" + garbage + b"PAR1")
    one = frame.copy()
    one["approved"] = 1
    one.to_csv(folder / "one_class.csv", index=False)
    three = frame.copy()
    three["approved"] = np.arange(len(three)) % 3
    three.to_csv(folder / "three.csv", index=False)
    text = frame.copy()
    text["approved"] = np.where(frame["approved"] == 1, "yes", "no")
    text.to_csv(folder / "yes_no.csv", index=False)
    # A vendor's predictions, joined to the data by applicant_id.
    scores = pd.DataFrame(
        {
            "applicant_id": frame["applicant_id"],
            "score": rng.random(len(frame)).round(4),
            "label": rng.integers(0, 2, len(frame)),
        }
    )
    scores.to_csv(folder / "preds.csv", index=False)
    scores.rename(columns={"applicant_id": "row"}).to_csv(folder / "preds_no_id.csv", index=False)
    (folder / "model.skops").write_bytes(b"not a zip archive\n")
    return folder


def edit(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)
