"""examples/api_breast_cancer.py, a first audit through the Python API on scikit-learn's
bundled tables (data auditor did not generate), runs as a user runs it and measures what
scikit-learn measures on the same rows.

Ground truth is computed here, independently of auditor: the audited rows' ROC-AUC and
recall of the fitted classifier, and the R² of the predict function on its held-out rows.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import r2_score, recall_score, roc_auc_score

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api_breast_cancer.py"


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(EXAMPLE))  # its functions, as a notebook would define them


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("examples")


def test_the_breast_cancer_audit_measures_what_sklearn_measures(example, out):
    result = example["breast_cancer"](out)
    model, features, fit_rows, audit_rows = example["breast_cancer_problem"]()
    malignant = list(model.classes_).index("malignant")
    scores = model.predict_proba(audit_rows[features])[:, malignant]
    truth = (audit_rows["diagnosis"] == "malignant").to_numpy()
    table = result.criteria_frame().set_index("metric")
    np.testing.assert_allclose(table.loc["roc_auc", "value"], roc_auc_score(truth, scores))
    recall = recall_score(truth, scores >= 0.5)
    np.testing.assert_allclose(table.loc["recall", "value"], recall)
    assert table.loc["roc_auc", "status"] == "pass"  # about 0.99 on the 228 unseen rows
    sizes = result.results["data"]["split"]["sizes"]
    assert sizes["unseen"] == len(audit_rows) == 228
    sources = {s["role"]: s for s in result.results["data"]["sources"]}
    assert sources["reference"]["rows"] == len(fit_rows) and sources["reference"]["hashed"]
    assert result.exit_code in (0, 1, 3) and (out / "breast-cancer" / "report.pdf").is_file()


def test_the_predict_function_audit_measures_what_sklearn_measures(example, out):
    result = example["diabetes"](out)
    predict, audit_rows = example["diabetes_problem"]()
    r2 = r2_score(audit_rows["target"], predict(audit_rows))
    table = result.criteria_frame().set_index("metric")
    np.testing.assert_allclose(table.loc["r2", "value"], r2)
    assert result.results["model"]["info"]["in_memory"] == "function"


def test_the_script_runs_as_a_script(example, out, capsys):
    example["main"](out / "main")
    printed = capsys.readouterr().out
    assert "breast_cancer: " in printed and "diabetes: " in printed
    assert printed.count("report: ") == 2
