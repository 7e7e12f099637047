"""The Python API on the text tasks: a generated-text audit whose answers come as a
DataFrame gives the numbers the CLI gives from the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import auditor
from auditor.pipeline import run as run_files
from auditor.spec import load_spec

pytest.importorskip("sacrebleu")
pytest.importorskip("rouge_score")

SPEC = Path(__file__).resolve().parents[2] / "specs" / "support-assistant.yaml"
AUDIT = "data/support-assistant/answers_2026_q4.csv"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("support")
    shutil.copy(SPEC, folder / SPEC.name)
    load_spec(folder / SPEC.name)  # generates the example data on first use
    from_files = run_files(folder / SPEC.name, out=folder / "cli", quiet=True)
    frame = pd.read_csv(folder / AUDIT)
    (folder / AUDIT).unlink()  # the frame alone: no file to fall back on
    in_memory = auditor.run(folder / SPEC.name, out=folder / "api", data={"q4": frame})
    return from_files.results, in_memory, frame


def test_a_generated_text_audit_of_a_dataframe_gives_the_clis_numbers(both):
    files, api, frame = both
    assert api.verdict == files["verdict"]["status"] == "NOT READY"
    assert api.exit_code == 1
    ours = {c["criterion"]["metric"]: c for c in api.results["criteria"]}
    theirs = {c["criterion"]["metric"]: c for c in files["criteria"]}
    assert ours.keys() == theirs.keys() and ours
    for metric, criterion in theirs.items():
        assert ours[metric]["status"] == criterion["status"], metric
        np.testing.assert_allclose(ours[metric]["value"], criterion["value"], rtol=1e-9)
    (source,) = [s for s in api.results["data"]["sources"] if s.get("format") == "dataframe"]
    assert source["rows"] == len(frame) and "to_csv" in source["hashed"]
    assert not api.findings_frame().empty
