"""A first audit through the Python API, on data auditor did not generate.

scikit-learn's bundled Wisconsin breast cancer table (569 tumours, 30 measurements; no
download) is split by hand: a logistic regression is fitted on 60% of the rows and then
audited, in memory, on the 40% it never saw, as a vendor's model would be (audit-only:
nothing is trained by auditor, no further split). A sensitive column is derived for the
example: the tumour's texture band, standing in for a patient attribute such as a site
or a scanner. Then a regression model on sklearn's diabetes table, given as a plain
predict function.

Run it from the repository root: ``python examples/api_breast_cancer.py [OUT_DIR]``.
It prints each verdict, the criteria as a table and where the reports are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import auditor


def breast_cancer_problem():
    """The table, a derived sensitive column, and a classifier fitted on 60% of the rows:
    (model, feature columns, rows it was fitted on, rows it was not)."""
    frame = load_breast_cancer(as_frame=True).frame  # 30 features and "target"
    # target: 0 malignant, 1 benign; the positive class is the one a screen must find
    frame["diagnosis"] = np.where(frame["target"] == 0, "malignant", "benign")
    frame = frame.drop(columns="target")
    bands = pd.qcut(frame["mean texture"], 2, labels=["smooth", "coarse"])
    frame["texture_band"] = bands.astype(str)
    features = [c for c in frame.columns if c not in ("diagnosis", "texture_band")]

    fit_rows, audit_rows = train_test_split(
        frame, test_size=0.4, random_state=0, stratify=frame["diagnosis"]
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(fit_rows[features], fit_rows["diagnosis"])
    return model, features, fit_rows, audit_rows


def breast_cancer(out: Path) -> auditor.AuditResult:
    """Audit a fitted classifier on the rows it was not fitted on."""
    model, _, fit_rows, audit_rows = breast_cancer_problem()
    spec = {
        "version": 1,
        "name": "breast-cancer-screen",
        "objective": {
            "task": "binary",
            "target": "diagnosis",
            "positive": "malignant",
            "purpose": "Flag tumours for a second reading by a pathologist.",
        },
        "data": {
            "audit": [{"path": audit_rows, "name": "unseen", "label": "held-out"}],
            "reference": {"path": fit_rows, "label": "rows the model was fitted on"},
            "sensitive": ["texture_band"],
        },
        "evaluation": {"bootstrap": 200},
        "acceptance": [
            {"metric": "recall", "at_least": 0.9, "rationale": "Miss few malignant tumours."},
            {"metric": "roc_auc", "at_least": 0.95, "require": "confidence"},
            {
                "metric": "equal_opportunity_difference",
                "sensitive": "texture_band",
                "at_most": 0.1,
                "severity": "advisory",
            },
        ],
        "report": {"title": "Breast cancer screen", "owner": "Pathology AI team"},
    }
    return auditor.run(spec, out=out / "breast-cancer", model=model)


def diabetes_problem():
    """The diabetes table and a ridge regression fitted on 60% of its rows, given as a
    predict function: (predict, rows it was not fitted on)."""
    frame = load_diabetes(as_frame=True, scaled=False).frame  # 10 features and "target"
    frame["sex"] = np.where(frame["sex"] == 1, "one", "two")  # coded 1 / 2 in the data
    features = [c for c in frame.columns if c not in ("target", "sex")]
    fit_rows, audit_rows = train_test_split(frame, test_size=0.4, random_state=0)
    ridge = Ridge(alpha=1.0).fit(fit_rows[features], fit_rows["target"])

    def predict(rows: pd.DataFrame) -> np.ndarray:
        return ridge.predict(rows[features])

    return predict, audit_rows


def diabetes(out: Path) -> auditor.AuditResult:
    """Audit a regression model given as a predict function, the rows given by data=."""
    predict, audit_rows = diabetes_problem()
    spec = {
        "version": 1,
        "name": "diabetes-progression",
        "objective": {
            "task": "regression",
            "target": "target",
            "purpose": "Estimate disease progression one year after baseline.",
        },
        "data": {"audit": [{"name": "unseen"}], "sensitive": ["sex"]},
        "evaluation": {"bootstrap": 200},
        "acceptance": [
            {"metric": "r2", "at_least": 0.3},
            {"metric": "mae_difference", "sensitive": "sex", "at_most": 10.0},
        ],
    }
    return auditor.run(spec, out=out / "diabetes", data={"unseen": audit_rows}, model=predict)


def main(out: Path) -> None:
    """Run both audits and print what a notebook would show."""
    for audit in (breast_cancer, diabetes):
        result = audit(out)
        print(f"{audit.__name__}: {result.verdict} (exit code {result.exit_code})")
        print(result.reason)
        table = result.criteria_frame()[["metric", "status", "value", "ci_low", "ci_high"]]
        print(table.round(3).to_string())
        print("report:", result.files["pdf"])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports/api-examples"))
