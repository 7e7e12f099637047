"""Realistic results dicts (docs/architecture.md layout) for the report tests and benchmark.

``make_results(task)`` returns a complete results.json document as the run stage would
write it: a resolved spec with purpose, owner and approvers; sources with SHA-256;
a training history whose validation loss rises after the best epoch; performance
findings per split with bootstrap intervals and ROC / PR / calibration / confusion
charts (residuals for regression); fairness findings with group tables that include a
group too small to judge and an intersection; fit findings with a loss curve and a
learning curve; data findings; criteria outcomes with a failed blocking fairness
criterion, an inconclusive one and a waived one; declared costs (binary); and a verdict.

Everything is generated from a seeded RNG, so two calls return equal documents.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any, Literal

import numpy as np

TaskName = Literal["binary", "multiclass", "regression"]

_FAKE_MODEL_SHA = hashlib.sha256(b"fixture model weights").hexdigest()
_FAKE_SPEC_SHA = hashlib.sha256(b"fixture spec").hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


# --------------------------------------------------------------------------- spec
def _spec(task: TaskName) -> dict[str, Any]:
    """A resolved spec (every default filled) following schemas/spec.schema.json."""
    names = {"binary": "loan-approval", "multiclass": "triage", "regression": "claims-cost"}
    targets = {"binary": "approved", "multiclass": "priority", "regression": "claim_cost"}
    purposes = {
        "binary": "Rank consumer loan applications so that the riskiest ones go to manual "
        "review first. It does not decide on its own: a credit officer reviews "
        "every application the model flags.",
        "multiclass": "Suggest a triage priority (low, medium, high) for incoming support "
        "tickets; an agent confirms every suggestion.",
        "regression": "Estimate the cost of an insurance claim at first notice so that "
        "reserves can be set; adjusters can override the estimate.",
    }
    if task == "binary":
        acceptance = [
            {
                "metric": "f1",
                "split": "test",
                "at_least": 0.75,
                "severity": "blocking",
                "require": "point",
                "rationale": "Below 0.75 the review queue is mostly noise.",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "roc_auc",
                "split": "holdout",
                "at_least": 0.80,
                "severity": "blocking",
                "require": "confidence",
                "rationale": "Ranking quality on the client's own data.",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "demographic_parity_difference",
                "split": "test",
                "sensitive": "sex",
                "at_most": 0.10,
                "severity": "blocking",
                "require": "point",
                "rationale": "Internal fair-lending policy FL-7.",
                "waiver": None,
            },
            {
                "check": "generalization_gap",
                "metric": "f1",
                "split": "test",
                "at_most": 0.05,
                "severity": "blocking",
                "require": "point",
                "rationale": "",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "ece",
                "split": "test",
                "at_most": 0.05,
                "severity": "advisory",
                "require": "point",
                "rationale": "Scores are shown to reviewers as probabilities.",
                "sensitive": None,
                "waiver": {
                    "reason": "Scores are shown as ranks, not probabilities, in release 1.",
                    "approver": "Dana Whitfield (Head of Product)",
                    "expires": "2027-03-31",
                },
            },
            {
                "metric": "recall",
                "split": "holdout",
                "at_least": 0.72,
                "severity": "advisory",
                "require": "point",
                "rationale": "Missed risky loans are expensive.",
                "sensitive": None,
                "waiver": {
                    "reason": "Pilot with manual double-check of all rejections.",
                    "approver": "Sam Ortega (Credit risk)",
                    "expires": "2026-01-31",
                },
            },
            {
                "check": "suspicious_score",
                "metric": "accuracy",
                "split": "test",
                "at_most": 0.995,
                "severity": "advisory",
                "require": "point",
                "rationale": "",
                "sensitive": None,
                "waiver": None,
            },
        ]
        costs = {"false_positive": 40.0, "false_negative": 350.0, "unit": "EUR"}
        sensitive = ["sex", "age_band"]
        metrics: list[str] = []
        threshold = {"strategy": "min_cost", "value": 0.5}
    elif task == "multiclass":
        acceptance = [
            {
                "metric": "f1_macro",
                "split": "test",
                "at_least": 0.70,
                "severity": "blocking",
                "require": "point",
                "rationale": "",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "accuracy",
                "split": "holdout",
                "at_least": 0.75,
                "severity": "blocking",
                "require": "confidence",
                "rationale": "",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "worst_group_accuracy",
                "split": "test",
                "sensitive": "region",
                "at_least": 0.70,
                "severity": "blocking",
                "require": "point",
                "rationale": "Every region must be served equally well.",
                "waiver": None,
            },
            {
                "metric": "ece",
                "split": "test",
                "at_most": 0.05,
                "severity": "advisory",
                "require": "point",
                "rationale": "",
                "sensitive": None,
                "waiver": {
                    "reason": "Probabilities are not shown to agents.",
                    "approver": "Lee Park (Support operations)",
                    "expires": "2027-06-30",
                },
            },
        ]
        costs = None
        sensitive = ["region", "channel"]
        metrics = []
        threshold = {"strategy": "fixed", "value": 0.5}
    else:
        acceptance = [
            {
                "metric": "mae",
                "split": "test",
                "at_most": 900.0,
                "severity": "blocking",
                "require": "point",
                "rationale": "Reserves tolerate errors below 900.",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "r2",
                "split": "holdout",
                "at_least": 0.62,
                "severity": "blocking",
                "require": "confidence",
                "rationale": "",
                "sensitive": None,
                "waiver": None,
            },
            {
                "metric": "mae_difference",
                "split": "test",
                "sensitive": "region",
                "at_most": 250.0,
                "severity": "blocking",
                "require": "point",
                "rationale": "No region's estimates may be much worse than another's.",
                "waiver": None,
                "check": None,
            },
            {
                "metric": "rmse",
                "split": "test",
                "at_most": 1200.0,
                "severity": "advisory",
                "require": "point",
                "rationale": "",
                "sensitive": None,
                "waiver": {
                    "reason": "Large claims are always reviewed by a senior adjuster.",
                    "approver": "Ana Costa (Claims)",
                    "expires": "2027-01-15",
                },
            },
        ]
        # a None-valued key is not valid spec; drop it (kept above for readability)
        acceptance[2].pop("check")
        costs = None
        sensitive = ["region", "vehicle_age"]
        metrics = []
        threshold = {"strategy": "fixed", "value": 0.5}
    return {
        "version": 1,
        "name": names[task],
        "objective": {
            "task": task,
            "target": targets[task],
            "positive": 1 if task == "binary" else None,
            "purpose": purposes[task],
        },
        "data": {
            "train": f"data/{names[task]}.csv",
            "holdout": f"data/{names[task]}_client.csv",
            "format": "auto",
            "generate": None,
            "id_column": "id",
            "include": [],
            "exclude": [],
            "types": {},
            "sensitive": sensitive,
            "sensitive_as_features": False,
            "split": {
                "strategy": "random" if task == "regression" else "stratified",
                "validation": 0.2,
                "test": 0.2,
                "group_column": None,
                "time_column": None,
                "seed": 7,
            },
            "preprocessing": {
                "missing": "median",
                "fill_value": 0,
                "missing_indicator": False,
                "outliers": "clip_iqr",
                "outlier_factor": None,
                "scaling": "standard",
                "categorical": "onehot",
                "max_categories": 20,
                "min_frequency": 0.01,
                "imbalance": "none",
            },
            "augmentation": {"gaussian_noise": 0, "mixup": 0},
        },
        "model": {
            "architecture": "mlp",
            "hidden": [64, 32],
            "activation": "relu",
            "dropout": 0.1,
            "batch_norm": False,
            "vendor": None,
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.001,
            "momentum": 0.9,
            "batch_size": 256,
            "epochs": 50,
            "weight_decay": 0.0001,
            "schedule": {
                "name": "constant",
                "step_size": 10,
                "gamma": 0.5,
                "patience": 3,
                "max_learning_rate": None,
            },
            "gradient_clip": None,
            "early_stopping": {
                "enabled": True,
                "metric": "loss",
                "patience": 5,
                "min_delta": 0.0,
                "restore_best": True,
            },
            "time_budget": None,
            "device": "auto",
            "precision": "auto",
            "seed": 7,
            "deterministic": True,
            "export_onnx": False,
        },
        "evaluation": {
            "metrics": metrics,
            "confidence": 0.95,
            "bootstrap": 1000,
            "seed": 0,
            "min_group_size": 30,
            "intersections": True,
            "threshold": threshold,
            "costs": costs,
            "learning_curve": {"enabled": True, "fractions": [0.1, 0.25, 0.5, 0.75, 1.0]},
            "diagnostics": {
                "suspicious_score": 0.99,
                "single_feature_auc": 0.95,
                "generalization_gap": 0.05,
                "max_missing_rate": 0.2,
                "max_duplicate_rate": 0.01,
                "min_class_share": 0.05,
                "baseline_margin": 0.02,
            },
        },
        "acceptance": acceptance,
        "report": {
            "title": {
                "binary": "Loan approval model",
                "multiclass": "Ticket triage model",
                "regression": "Claim cost estimator",
            }[task],
            "audience": "Product management",
            "owner": {
                "binary": "Credit risk analytics team",
                "multiclass": "Support automation team",
                "regression": "Claims analytics team",
            }[task],
            "approvers": ["Dana Whitfield (Head of Product)", "Sam Ortega (Model risk officer)"],
            "output": None,
            "page_size": "A4",
        },
    }


# --------------------------------------------------------------------------- pieces
def _finding(
    fid: str, check: str, category: str, status: str, title: str, summary: str, **kw: Any
) -> dict[str, Any]:
    """A types.Finding as a dict (ci as [low, high] or None)."""
    out = {
        "id": fid,
        "check": check,
        "category": category,
        "status": status,
        "title": title,
        "summary": summary,
        "value": None,
        "ci": None,
        "threshold": None,
        "direction": None,
        "recommendation": "",
        "metric": None,
        "split": None,
        "sensitive": None,
        "n": None,
        "details": {},
        "chart": None,
        "advisory": True,
    }
    out.update(kw)
    return out


def _tuning_findings() -> list[dict]:
    """The search's summary finding with its optimization history (a tuned run)."""
    return [
        _finding(
            "tuning.search",
            "tuning_search",
            "tuning",
            "pass",
            "Hyperparameter search",
            "A random search ran 6 trials (2 pruned, 1 failed) in 40 s on the validation rows "
            "and chose trial 4 (architecture mlp, learning_rate 0.004): roc_auc 0.842 against "
            "0.821 for the spec's own configuration.",
            value=0.842,
            details={
                "best_trials": [
                    {"trial": 4, "roc_auc": 0.842, "architecture": "mlp"},
                    {"trial": "spec's own", "roc_auc": 0.821, "architecture": "linear"},
                ]
            },
            chart={
                "kind": "optimization_history",
                "title": "Trial 4 scored best (roc_auc 0.842)",
                "metric": "roc_auc",
                "trials": [0, 1, 2, 3, 4, 5],
                "values": [0.81, None, 0.83, None, 0.842, None],
                "states": ["complete", "pruned", "complete", "failed", "complete", "pruned"],
                "best_so_far": [0.81, 0.81, 0.83, 0.83, 0.842, 0.842],
                "baseline": 0.821,
            },
        )
    ]


def _drift_findings() -> list[dict]:
    """The client holdout against the training data: one drifting feature, one that is not."""
    age_bins = [f"[{a}, {a + 5})" for a in range(20, 80, 5)]
    return [
        _finding(
            "drift.feature_drift.holdout.age",
            "feature_drift",
            "drift",
            "warn",
            "Drift of age on holdout",
            "'age' in the client holdout differs from the training data: median 49 against "
            "median 45 (Kolmogorov-Smirnov distance 0.110, 95% CI 0.07 to 0.15; adjusted "
            "p < 0.001).",
            value=0.11,
            ci=[0.07, 0.15],
            threshold=0.1,
            direction="at_most",
            split="holdout",
            n=1200,
            recommendation="Ask whether 'age' is recorded the same way in both.",
            details={"feature": "age", "kind": "numeric", "statistic": "ks", "q_value": 1e-6},
            chart={
                "kind": "shares",
                "title": "'age': median 49 on holdout against median 45",
                "labels": age_bins + ["missing"],
                "series": [
                    {
                        "name": "train",
                        "values": [
                            0.06,
                            0.09,
                            0.1,
                            0.11,
                            0.11,
                            0.1,
                            0.1,
                            0.09,
                            0.08,
                            0.07,
                            0.05,
                            0.04,
                            0.0,
                        ],
                    },
                    {
                        "name": "holdout",
                        "values": [
                            0.04,
                            0.06,
                            0.08,
                            0.09,
                            0.1,
                            0.1,
                            0.11,
                            0.1,
                            0.1,
                            0.09,
                            0.07,
                            0.06,
                            0.0,
                        ],
                    },
                ],
                "ordered": True,
            },
        ),
        _finding(
            "drift.group_shift.holdout.region",
            "group_shift",
            "drift",
            "pass",
            "Shares of region on holdout",
            "region south is 27% of the client holdout against 25% of the training data "
            "(2 points apart).",
            value=0.02,
            ci=[0.0, 0.05],
            threshold=0.05,
            direction="at_most",
            split="holdout",
            sensitive="region",
            n=1200,
            chart={
                "kind": "shares",
                "title": "Shares of region: the client holdout against the development data",
                "labels": ["north", "south", "east", "west"],
                "series": [
                    {"name": "train", "values": [0.25, 0.25, 0.25, 0.25]},
                    {"name": "holdout", "values": [0.24, 0.27, 0.25, 0.24]},
                ],
                "ordered": False,
            },
        ),
    ]


def _history(rng: np.random.Generator, epochs: int = 18, best: int = 12) -> list[dict]:
    hist = []
    for e in range(1, epochs + 1):
        train = 0.68 * np.exp(-e / 6) + 0.28 + rng.normal(0, 0.003)
        val = 0.66 * np.exp(-e / 6) + 0.33 + max(0, e - best) * 0.006 + rng.normal(0, 0.002)
        hist.append(
            {
                "epoch": e,
                "train_loss": _r(train),
                "val_loss": _r(val),
                "val_metric": _r(0.62 + 0.15 * (1 - np.exp(-e / 5)) - max(0, e - best) * 0.002),
                "lr": 0.001,
                "seconds": _r(0.4 + 0.01 * e, 3),
            }
        )
    return hist


def _roc_pr(rng: np.random.Generator, n: int = 1200, sep: float = 1.2):
    """ROC, PR and calibration data from a synthetic scored sample (downsampled)."""
    y = rng.random(n) < 0.3
    z = rng.normal(0, 1, n) + sep * y
    s = 1 / (1 + np.exp(-(z - 0.9)))
    order = np.argsort(-s)
    ys = y[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(~ys)
    tpr = tp / ys.sum()
    fpr = fp / (~ys).sum()
    prec = tp / np.arange(1, n + 1)
    idx = np.unique(np.linspace(0, n - 1, 60).astype(int))
    auc = float(np.trapezoid(np.r_[0, tpr], np.r_[0, fpr]))
    ap = float(np.sum(np.diff(np.r_[0, tpr]) * prec))
    bins = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(s, bins) - 1, 0, 9)
    pred, obs, cnt = [], [], []
    for b in range(10):
        m = which == b
        if m.sum():
            pred.append(_r(s[m].mean()))
            obs.append(_r(y[m].mean()))
            cnt.append(int(m.sum()))
    roc = {
        "fpr": [0.0] + [_r(v) for v in fpr[idx]],
        "tpr": [0.0] + [_r(v) for v in tpr[idx]],
        "auc": _r(auc),
    }
    pr = {
        "recall": [_r(v) for v in tpr[idx]],
        "precision": [_r(v) for v in prec[idx]],
        "auc": _r(ap),
        "base_rate": _r(y.mean()),
    }
    cal = {"predicted": pred, "observed": obs, "counts": cnt}
    return roc, pr, cal


def _metric_row(value: float, half: float, n: int) -> dict[str, Any]:
    return {"value": _r(value), "low": _r(value - half), "high": _r(value + half), "n": n}


def _groups_table(rows: list[tuple[str, int, float, float, float]], min_size: int = 30):
    """rows: (group, n, base_rate, selection_rate, accuracy)."""
    out = []
    for group, n, base, sel, acc in rows:
        out.append(
            {
                "group": group,
                "n": n,
                "base_rate": _r(base),
                "selection_rate": _r(sel),
                "accuracy": _r(acc),
                "tpr": _r(min(1.0, sel / max(base, 1e-9) * 0.8)),
                "fpr": _r(sel * 0.3),
                "fnr": _r(1 - min(1.0, sel / max(base, 1e-9) * 0.8)),
                "precision": _r(0.7 + 0.1 * acc - 0.07),
                "inconclusive": n < min_size,
                "needed": max(0, min_size - n),
            }
        )
    return out


# --------------------------------------------------------------------------- tasks
def _sizes() -> dict[str, int]:
    return {"train": 3600, "validation": 1200, "test": 1200, "holdout": 1200}


def _data_findings(task: TaskName, spec: dict, sizes: dict[str, int]) -> list[dict]:
    sens = spec["data"]["sensitive"]
    f = [
        _finding(
            "data.rows",
            "rows",
            "data",
            "pass",
            "Rows and columns",
            f"The data has {sum(v for k, v in sizes.items() if k != 'holdout'):,} training "
            f"rows and {sizes['holdout']:,} client holdout rows in 11 columns.",
            value=float(sum(sizes.values())),
            details={"sizes": sizes, "columns": 11},
        ),
        _finding(
            "data.missing_rate",
            "missing_rate",
            "data",
            "warn",
            "Missing values",
            "One column, income, is missing in 23% of rows, more than "
            "the 20% limit; missing values were filled with the median.",
            value=0.23,
            threshold=0.2,
            direction="at_most",
            metric="missing_rate",
            recommendation="Ask the data owner why income is missing so often.",
            details={
                "columns": {
                    "income": 0.23,
                    "employment_years": 0.04,
                    "region": 0.0,
                    "debt_ratio": 0.01,
                }
            },
            chart={
                "kind": "bars",
                "title": "Income is missing in 23% of rows",
                "labels": ["income", "employment_years", "debt_ratio", "region"],
                "values": [0.23, 0.04, 0.01, 0.0],
                "xlabel": "share of rows missing",
                "bound": 0.2,
            },
        ),
        _finding(
            "data.outliers",
            "outliers",
            "data",
            "pass",
            "Outliers",
            "1.8% of numeric values lay beyond the IQR fence and were clipped.",
            value=0.018,
            details={"columns": {"income": 61, "debt_ratio": 12, "loan_amount": 40}},
            chart={
                "kind": "histogram",
                "title": "Loan amounts are right-skewed; 40 values above the fence were clipped",
                "edges": [float(x) for x in np.linspace(0, 50000, 21)],
                "counts": [
                    40,
                    180,
                    420,
                    610,
                    700,
                    650,
                    520,
                    400,
                    300,
                    220,
                    160,
                    110,
                    80,
                    60,
                    40,
                    30,
                    20,
                    14,
                    9,
                    5,
                ],
                "xlabel": "loan amount",
            },
        ),
        _finding(
            "data.duplicate_rate",
            "duplicate_rate",
            "data",
            "pass",
            "Duplicate rows",
            "0.1% of rows are exact duplicates, below the 1% limit.",
            value=0.001,
            threshold=0.01,
            direction="at_most",
        ),
        _finding(
            "data.train_test_overlap",
            "train_test_overlap",
            "data",
            "pass",
            "Train/test overlap",
            "No test or holdout row also appears in training.",
            value=0.0,
            threshold=0.0,
            direction="at_most",
        ),
    ]
    if task != "regression":
        labels = ["0", "1"] if task == "binary" else ["low", "medium", "high"]
        shares = [0.7, 0.3] if task == "binary" else [0.5, 0.35, 0.15]
        f.append(
            _finding(
                "data.class_balance",
                "class_balance",
                "data",
                "pass",
                "Class balance",
                f"The smallest class ('{labels[-1]}') is {shares[-1]:.0%} of rows, "
                "above the 5% minimum.",
                value=shares[-1],
                threshold=0.05,
                direction="at_least",
                details={"classes": dict(zip(labels, shares, strict=True))},
                chart={
                    "kind": "bars",
                    "title": f"The rarest class is {shares[-1]:.0%} of rows",
                    "labels": labels,
                    "values": shares,
                    "xlabel": "share of rows",
                    "bound": 0.05,
                },
            )
        )
    groups = {
        "sex": [("female", 0.46), ("male", 0.53), ("unknown", 0.01)],
        "age_band": [("18-25", 0.18), ("26-45", 0.47), ("46-65", 0.33), ("65+", 0.02)],
        "region": [("north", 0.4), ("south", 0.35), ("east", 0.2), ("islands", 0.05)],
        "channel": [("email", 0.6), ("phone", 0.3), ("chat", 0.1)],
        "vehicle_age": [("0-3", 0.4), ("4-9", 0.45), ("10+", 0.15)],
    }
    for s in sens:
        rows = groups[s]
        test_n = sizes["test"]
        small = [g for g, share in rows if share * test_n < 30]
        f.append(
            _finding(
                f"data.group_representation.{s}",
                "group_size",
                "data",
                "warn" if small else "pass",
                f"Representation of {s}",
                (
                    f"Group {', '.join(small)} of {s} has fewer than 30 test rows; results for it "
                    "are inconclusive."
                    if small
                    else f"Every {s} group has at least 30 test rows."
                ),
                sensitive=s,
                value=float(min(share for _, share in rows)),
                details={
                    "groups": [
                        {"group": g, "share": share, "n": int(share * test_n)} for g, share in rows
                    ]
                },
                chart={
                    "kind": "bars",
                    "title": (
                        f"{small[0]} is {dict(rows)[small[0]]:.0%} of rows, too few to judge"
                        if small
                        else f"Every {s} group is well represented"
                    ),
                    "labels": [g for g, _ in rows],
                    "values": [v for _, v in rows],
                    "xlabel": "share of test rows",
                    "bound": None,
                },
            )
        )
    return f


def _fit_findings(
    task: TaskName, hist: list[dict], best: int, metric: str, base: float
) -> list[dict]:
    fr = [0.1, 0.25, 0.5, 0.75, 1.0]
    rows = [int(3600 * x) for x in fr]
    train = [_r(base + 0.12 - 0.09 * x) for x in fr]
    val = [_r(base - 0.16 + 0.15 * (1 - np.exp(-3 * x)) / (1 - np.exp(-3))) for x in fr]
    return [
        _finding(
            "fit.loss_curve",
            "overfitting",
            "fit",
            "warn",
            "Training and validation loss",
            f"Validation loss stopped improving after epoch {best} and then rose; "
            f"training stopped early and the weights of epoch {best} were kept.",
            value=float(best),
            recommendation="Stronger regularisation (dropout, weight decay) may help.",
            chart={
                "kind": "loss_curve",
                "title": f"Validation loss rises after epoch {best}",
                "epochs": [h["epoch"] for h in hist],
                "train": [h["train_loss"] for h in hist],
                "validation": [h["val_loss"] for h in hist],
                "best_epoch": best,
                "rising_from": best + 1,
            },
        ),
        _finding(
            "fit.generalization_gap",
            "generalization_gap",
            "fit",
            "pass",
            "Generalization gap",
            f"{metric} is 0.031 higher on training than on validation data, within the "
            "0.05 limit: the model generalises.",
            value=0.031,
            ci=[0.012, 0.049],
            threshold=0.05,
            direction="at_most",
            metric=metric,
            advisory=False,
            chart={
                "kind": "metric_intervals",
                "title": f"{metric} is similar on train, validation and test",
                "metric": metric,
                "bound": None,
                "rows": [
                    {
                        "label": "train",
                        "value": _r(base + 0.03),
                        "low": _r(base + 0.02),
                        "high": _r(base + 0.04),
                    },
                    {
                        "label": "validation",
                        "value": _r(base),
                        "low": _r(base - 0.02),
                        "high": _r(base + 0.02),
                    },
                    {
                        "label": "test",
                        "value": _r(base - 0.005),
                        "low": _r(base - 0.025),
                        "high": _r(base + 0.015),
                    },
                ],
            },
        ),
        _finding(
            "fit.learning_curve",
            "learning_curve",
            "fit",
            "pass",
            "Learning curve",
            "Validation score still rises slightly with more rows: more data would help a little.",
            metric=metric,
            value=_r(val[-1] - val[-2]),
            details={
                "points": [
                    {"fraction": a, "rows": b, "train": c, "validation": d}
                    for a, b, c, d in zip(fr, rows, train, val, strict=True)
                ]
            },
            chart={
                "kind": "learning_curve",
                "title": "More data would help a little: validation still rises",
                "fractions": fr,
                "rows": rows,
                "train": train,
                "validation": val,
                "metric": metric,
            },
        ),
        _finding(
            "fit.baseline_improvement",
            "baseline_improvement",
            "fit",
            "pass",
            "Comparison with baselines",
            f"The model beats the majority baseline by {base - 0.45:.2f} and a linear "
            f"model by 0.04 in {metric}.",
            value=_r(base - 0.45),
            threshold=0.02,
            direction="at_least",
            metric=metric,
            details={"baselines": {"majority": 0.45, "linear": _r(base - 0.04), "model": _r(base)}},
            chart={
                "kind": "bars",
                "title": "The model beats both baselines",
                "labels": ["majority class", "linear model", "this model"],
                "values": [0.45, _r(base - 0.04), _r(base)],
                "xlabel": metric,
                "bound": None,
            },
        ),
        _finding(
            "fit.suspicious_score",
            "suspicious_score",
            "fit",
            "pass",
            "Too good to be true?",
            f"No split scores suspiciously high ({metric} below "
            "0.99), so there is no sign of leakage.",
            value=_r(base + 0.03),
            threshold=0.99,
            direction="at_most",
            metric=metric,
        ),
        _finding(
            "fit.single_feature_leakage",
            "single_feature_leakage",
            "fit",
            "pass",
            "Single-feature leakage",
            "No single feature predicts the target on its own (best: debt_ratio, 0.68).",
            value=0.68,
            threshold=0.95,
            direction="at_most",
            details={"features": {"debt_ratio": 0.68, "income": 0.64, "age": 0.55}},
        ),
    ]


def make_results(
    task: TaskName = "binary",
    *,
    verdict: str = "NOT READY",
    n_charts: int | None = None,
    source_hashes: dict[str, str] | None = None,
    model_fingerprint: str | None = None,
    model_files: dict[str, str] | None = None,
    pickle_loaded: bool = False,
) -> dict[str, Any]:
    """A complete, realistic results.json document.

    Parameters
    ----------
    task
        binary, multiclass or regression.
    verdict
        READY, CONDITIONAL or NOT READY; the criteria outcomes are adjusted to match.
    n_charts
        Exact number of findings with a chart: extra chart findings (warnings, each with a
        distinct chart) are added, cycling through the chart kinds, or charts are removed
        from the last findings. None keeps the natural set.
    source_hashes
        SHA-256 per source role ("train", "holdout"), e.g. of a CSV a test wrote.
    model_fingerprint, model_files
        Model fingerprint and {file name: sha256} of the model files.
    pickle_loaded
        Whether the (vendor) model was loaded from a pickle file.
    """
    rng = np.random.default_rng({"binary": 1, "multiclass": 2, "regression": 3}[task])
    spec = _spec(task)
    sizes = _sizes()
    best = 12
    hist = _history(rng, best=best)
    primary = {"binary": "f1", "multiclass": "f1_macro", "regression": "r2"}[task]
    source_hashes = source_hashes or {}
    sources = [
        {
            "role": "train",
            "path": spec["data"]["train"],
            "format": "csv",
            "rows": sizes["train"] + sizes["validation"] + sizes["test"],
            "columns": 11,
            "sha256": source_hashes.get("train", _sha(f"{task} train")),
        },
        {
            "role": "holdout",
            "path": spec["data"]["holdout"],
            "format": "csv",
            "rows": sizes["holdout"],
            "columns": 11,
            "sha256": source_hashes.get("holdout", _sha(f"{task} holdout")),
        },
    ]
    classes: list[Any] = {
        "binary": [0, 1],
        "multiclass": ["low", "medium", "high"],
        "regression": [],
    }[task]

    # ---------------------------------------------------------------- metrics per split
    if task == "binary":
        names = {
            "accuracy": 0.81,
            "balanced_accuracy": 0.78,
            "precision": 0.72,
            "recall": 0.74,
            "f1": 0.77,
            "roc_auc": 0.84,
            "pr_auc": 0.71,
            "log_loss": 0.43,
            "brier": 0.14,
            "ece": 0.062,
        }
    elif task == "multiclass":
        names = {
            "accuracy": 0.79,
            "balanced_accuracy": 0.74,
            "f1_macro": 0.73,
            "f1_weighted": 0.78,
            "log_loss": 0.58,
            "ece": 0.071,
        }
    else:
        names = {"mae": 812.0, "rmse": 1240.0, "r2": 0.66, "mape": 0.21}
    split_shift = {"train": 0.03, "validation": 0.0, "test": -0.005, "holdout": -0.03}
    metrics: dict[str, dict[str, dict]] = {}
    for split, shift in split_shift.items():
        metrics[split] = {}
        for m, v in names.items():
            lower_better = m in ("log_loss", "brier", "ece", "mae", "rmse", "mape")
            scale = v if m in ("mae", "rmse") else 1.0
            val = (
                v * (1 - shift)
                if lower_better and scale != 1.0
                else (v - shift if lower_better else v + shift)
            )
            half = (0.05 * scale) if scale != 1.0 else 0.028 if split != "train" else 0.012
            metrics[split][m] = _metric_row(val, half, sizes[split])

    findings: list[dict] = []
    findings += _data_findings(task, spec, sizes)
    findings += _fit_findings(task, hist, best, primary, metrics["validation"][primary]["value"])
    findings += _drift_findings()
    findings += _tuning_findings()

    # ---------------------------------------------------------------- performance
    for split in ("test", "holdout"):
        mrow = metrics[split]
        findings.append(
            _finding(
                f"performance.metrics.{split}",
                "metrics",
                "performance",
                "pass",
                f"Metrics on {split}",
                f"On the {split} split {primary} is "
                f"{mrow[primary]['value']:.2f} ({mrow[primary]['low']:.2f} to "
                f"{mrow[primary]['high']:.2f}).",
                value=mrow[primary]["value"],
                ci=[mrow[primary]["low"], mrow[primary]["high"]],
                metric=primary,
                split=split,
                n=sizes[split],
                chart={
                    "kind": "metric_intervals",
                    "title": f"{primary} on {split} is {mrow[primary]['value']:.2f}",
                    "metric": "score",
                    "bound": None,
                    "rows": [
                        {"label": m, "value": r["value"], "low": r["low"], "high": r["high"]}
                        for m, r in mrow.items()
                        if m not in ("mae", "rmse", "log_loss")
                    ],
                },
            )
        )
        if task in ("binary", "multiclass"):
            roc, pr, cal = _roc_pr(rng, sep=1.3 if split == "test" else 1.1)
            if task == "binary":
                cm = [
                    [int(sizes[split] * 0.6), int(sizes[split] * 0.1)],
                    [int(sizes[split] * 0.08), int(sizes[split] * 0.22)],
                ]
                labels = ["0 (declined)", "1 (approved)"]
            else:
                n = sizes[split]
                cm = [
                    [int(n * 0.42), int(n * 0.06), int(n * 0.02)],
                    [int(n * 0.07), int(n * 0.24), int(n * 0.04)],
                    [int(n * 0.01), int(n * 0.03), int(n * 0.11)],
                ]
                labels = classes
            findings.append(
                _finding(
                    f"performance.confusion_matrix.{split}",
                    "confusion_matrix",
                    "performance",
                    "pass",
                    f"Confusion matrix ({split})",
                    "Most errors are confusions between neighbouring classes.",
                    split=split,
                    chart={
                        "kind": "confusion_matrix",
                        "title": f"Most {split} rows are classified correctly",
                        "labels": [str(x) for x in labels],
                        "matrix": cm,
                    },
                )
            )
            findings.append(
                _finding(
                    f"performance.roc.{split}",
                    "roc_curve",
                    "performance",
                    "pass",
                    f"ROC curve ({split})",
                    f"The model ranks a random positive above a random "
                    f"negative {roc['auc']:.0%} of the time.",
                    value=roc["auc"],
                    split=split,
                    metric="roc_auc",
                    chart={
                        "kind": "roc",
                        "title": f"ROC-AUC on {split} is {roc['auc']:.2f}",
                        **roc,
                    },
                )
            )
            findings.append(
                _finding(
                    f"performance.pr.{split}",
                    "pr_curve",
                    "performance",
                    "pass",
                    f"Precision-recall curve ({split})",
                    "Precision stays above the base rate at every recall.",
                    value=pr["auc"],
                    split=split,
                    metric="pr_auc",
                    chart={"kind": "pr", "title": f"PR-AUC on {split} is {pr['auc']:.2f}", **pr},
                )
            )
            ece = metrics[split]["ece"]
            findings.append(
                _finding(
                    f"performance.calibration.{split}",
                    "calibration",
                    "performance",
                    "warn" if ece["value"] > 0.05 else "pass",
                    f"Calibration ({split})",
                    f"Predicted probabilities are off by {ece['value']:.3f} on average "
                    "(expected calibration error).",
                    value=ece["value"],
                    ci=[ece["low"], ece["high"]],
                    threshold=0.05,
                    direction="at_most",
                    metric="ece",
                    split=split,
                    chart={
                        "kind": "calibration",
                        "title": "Scores slightly overstate the chance of approval",
                        **cal,
                    },
                )
            )
        else:
            pred = rng.gamma(2.0, 1500.0, 400)
            resid = rng.normal(0, 300 + 0.2 * pred)
            findings.append(
                _finding(
                    f"performance.residuals.{split}",
                    "residuals",
                    "performance",
                    "pass",
                    f"Residuals ({split})",
                    "Errors grow with the size of the claim.",
                    split=split,
                    chart={
                        "kind": "residuals",
                        "title": "Errors grow with the claim size",
                        "predicted": [_r(v, 1) for v in pred],
                        "residual": [_r(v, 1) for v in resid],
                    },
                )
            )
            counts, edges = np.histogram(resid, bins=20)
            findings.append(
                _finding(
                    f"performance.residual_histogram.{split}",
                    "residuals",
                    "performance",
                    "pass",
                    f"Residual distribution ({split})",
                    "Errors are centred on zero.",
                    split=split,
                    chart={
                        "kind": "histogram",
                        "title": "Errors are centred on zero",
                        "edges": [_r(e, 1) for e in edges],
                        "counts": [int(c) for c in counts],
                        "xlabel": "actual - predicted",
                    },
                )
            )

    costs_decl = spec["evaluation"]["costs"]
    eval_costs = None
    if costs_decl:
        per_split = {}
        for split, (fp, fn) in {"test": (62, 48), "holdout": (71, 60)}.items():
            cost = fp * costs_decl["false_positive"] + fn * costs_decl["false_negative"]
            per_split[split] = {
                "false_positives_per_1000": fp,
                "false_negatives_per_1000": fn,
                "wrong_per_1000": fp + fn,
                "cost_per_1000": cost,
                "cost_per_1000_low": _r(cost * 0.85, 1),
                "cost_per_1000_high": _r(cost * 1.15, 1),
            }
            findings.append(
                _finding(
                    f"performance.expected_cost.{split}",
                    "expected_cost",
                    "performance",
                    "pass",
                    f"Cost of wrong decisions on {split}",
                    f"Out of 1,000 decisions on {split}, {fp + fn} are wrong ({fp} false "
                    f"approvals, {fn} missed risky loans), costing about {cost:,.0f} "
                    f"{costs_decl['unit']}.",
                    value=float(cost),
                    ci=[
                        per_split[split]["cost_per_1000_low"],
                        per_split[split]["cost_per_1000_high"],
                    ],
                    split=split,
                    n=sizes[split],
                    details={
                        "unit": costs_decl["unit"],
                        "false_positive_cost": costs_decl["false_positive"],
                        "false_negative_cost": costs_decl["false_negative"],
                        "threshold": 0.41,
                        "false_positives_per_1000": float(fp),
                        "false_positives_ci": [fp * 0.8, fp * 1.2],
                        "false_negatives_per_1000": float(fn),
                        "false_negatives_ci": [fn * 0.8, fn * 1.2],
                        "wrong_per_1000": float(fp + fn),
                    },
                    chart={
                        "kind": "bars",
                        "title": f"Wrong decisions per 1,000 on {split}",
                        "labels": ["false positives", "false negatives"],
                        "values": [float(fp), float(fn)],
                        "xlabel": "per 1,000 decisions",
                        "bound": None,
                    },
                )
            )
        eval_costs = dict(costs_decl)

    # ---------------------------------------------------------------- fairness
    if task == "binary":
        fair_feats = {
            "sex": [
                ("female", 552, 0.27, 0.21, 0.82),
                ("male", 636, 0.33, 0.35, 0.80),
                ("unknown", 12, 0.25, 0.25, 0.75),
            ],
            "age_band": [
                ("18-25", 216, 0.22, 0.19, 0.83),
                ("26-45", 564, 0.31, 0.30, 0.80),
                ("46-65", 396, 0.34, 0.33, 0.79),
                ("65+", 24, 0.29, 0.21, 0.71),
            ],
        }
        fair_metric, fair_value, fair_bound = "demographic_parity_difference", 0.14, 0.10
    elif task == "multiclass":
        fair_feats = {
            "region": [
                ("north", 480, 0.5, 0.5, 0.81),
                ("south", 420, 0.5, 0.5, 0.79),
                ("east", 240, 0.5, 0.5, 0.74),
                ("islands", 60, 0.5, 0.5, 0.66),
            ],
            "channel": [
                ("email", 720, 0.5, 0.5, 0.80),
                ("phone", 360, 0.5, 0.5, 0.78),
                ("chat", 120, 0.5, 0.5, 0.76),
            ],
        }
        fair_metric, fair_value, fair_bound = "worst_group_accuracy", 0.66, 0.70
    else:
        fair_feats = {
            "region": [
                ("north", 480, 0.5, 0.5, 0.7),
                ("south", 420, 0.5, 0.5, 0.7),
                ("east", 240, 0.5, 0.5, 0.7),
                ("islands", 24, 0.5, 0.5, 0.7),
            ],
            "vehicle_age": [
                ("0-3", 480, 0.5, 0.5, 0.7),
                ("4-9", 540, 0.5, 0.5, 0.7),
                ("10+", 180, 0.5, 0.5, 0.7),
            ],
        }
        fair_metric, fair_value, fair_bound = "mae_difference", 310.0, 250.0
    first = True
    for feat, rows in fair_feats.items():
        table = _groups_table(rows)
        small = [r["group"] for r in table if r["inconclusive"]]
        if task == "binary":
            value = fair_value if first else 0.06
            chart_metric = "selection_rate"
            bars = [
                {
                    "group": r["group"],
                    "value": r["selection_rate"],
                    "low": _r(max(0, r["selection_rate"] - 1.5 / np.sqrt(r["n"]) * 0.45)),
                    "high": _r(min(1, r["selection_rate"] + 1.5 / np.sqrt(r["n"]) * 0.45)),
                    "n": r["n"],
                    "inconclusive": r["inconclusive"],
                }
                for r in table
            ]
            reference, bound = 0.30, None
        elif task == "multiclass":
            value = fair_value if first else 0.76
            chart_metric = "accuracy"
            bars = [
                {
                    "group": r["group"],
                    "value": r["accuracy"],
                    "low": _r(r["accuracy"] - 0.9 / np.sqrt(r["n"])),
                    "high": _r(min(1, r["accuracy"] + 0.9 / np.sqrt(r["n"]))),
                    "n": r["n"],
                    "inconclusive": r["inconclusive"],
                }
                for r in table
            ]
            reference, bound = None, fair_bound
        else:
            value = fair_value if first else 120.0
            chart_metric = "mae"
            maes = {
                "north": 760.0,
                "south": 790.0,
                "east": 1070.0,
                "islands": 930.0,
                "0-3": 700.0,
                "4-9": 810.0,
                "10+": 820.0,
            }
            bars = [
                {
                    "group": r["group"],
                    "value": maes[r["group"]],
                    "low": maes[r["group"]] - 4000 / np.sqrt(r["n"]),
                    "high": maes[r["group"]] + 4000 / np.sqrt(r["n"]),
                    "n": r["n"],
                    "inconclusive": r["inconclusive"],
                }
                for r in table
            ]
            reference, bound = 812.0, None
        status = (
            ("fail" if value > fair_bound else "pass")
            if task != "multiclass"
            else ("fail" if value < fair_bound else "pass")
        )
        findings.append(
            _finding(
                f"fairness.{fair_metric}.{feat}",
                fair_metric,
                "fairness",
                status,
                f"{fair_metric.replace('_', ' ')} across {feat}",
                (
                    f"The model approves {bars[1]['value']:.0%} of {bars[1]['group']} applicants "
                    f"but {bars[0]['value']:.0%} of {bars[0]['group']} applicants: a gap of "
                    f"{value:.2f}."
                    if task == "binary"
                    else f"The {fair_metric.replace('_', ' ')} across {feat} is {value:.2f}."
                )
                + (f" Group {', '.join(small)} is too small to judge." if small else ""),
                value=value,
                ci=[_r(value * 0.6), _r(value * 1.4)],
                threshold=fair_bound,
                direction="at_least" if task == "multiclass" else "at_most",
                metric=fair_metric,
                split="test",
                sensitive=feat,
                n=sizes["test"],
                advisory=not first,
                recommendation=(
                    "Review the features that proxy for sex (income, part-time "
                    "employment) and consider a per-group threshold."
                    if first and task == "binary"
                    else ""
                ),
                details={"groups": table, "min_group_size": 30},
                chart={
                    "kind": "group_bars",
                    "title": (
                        f"{bars[1]['group']} applicants are approved more often than "
                        f"{bars[0]['group']}"
                        if task == "binary"
                        else f"{chart_metric} differs across {feat}"
                    ),
                    "metric": chart_metric,
                    "rows": bars,
                    "bound": bound,
                    "reference": reference,
                },
            )
        )
        first = False
    # intersection
    f1, f2 = list(fair_feats)
    inter_rows = []
    for g1, n1, b1, s1, a1 in fair_feats[f1]:
        for g2, n2, b2, s2, a2 in fair_feats[f2]:
            n = int(n1 * n2 / sizes["test"])
            inter_rows.append((f"{g1} & {g2}", n, (b1 + b2) / 2, (s1 + s2) / 2, (a1 + a2) / 2))
    inter = _groups_table(inter_rows)
    small = sum(r["inconclusive"] for r in inter)
    findings.append(
        _finding(
            f"fairness.{fair_metric}.{f1}&{f2}",
            fair_metric,
            "fairness",
            "inconclusive",
            f"{fair_metric.replace('_', ' ')} across {f1} & {f2}",
            f"{small} of {len(inter)} intersections of {f1} and {f2} have fewer than 30 rows, so "
            "the comparison across intersections is inconclusive.",
            value=None,
            metric=fair_metric,
            split="test",
            sensitive=f"{f1}&{f2}",
            n=sizes["test"],
            recommendation="Collect more data for the small intersections before judging them.",
            details={"groups": inter, "min_group_size": 30},
        )
    )
    if task == "binary":  # calibration within groups: one curve per group (group_calibration)
        curves = [
            (g, n, [0.12, 0.31, 0.5, 0.69, 0.88], [0.1 + d, 0.3 + d, 0.52 + d, 0.7, 0.86], ece)
            for (g, n, *_), d, ece in zip(
                fair_feats["sex"], (0.0, 0.04), (0.012, 0.031), strict=False
            )
        ]
        findings.append(
            _finding(
                "fairness.group_calibration.test.sex",
                "group_calibration",
                "fairness",
                "pass",
                "Calibration by sex on test",
                "Scores for male applicants are off from the observed repayment rate by "
                "0.031 on average (expected calibration error), the worst of the 2 groups "
                "of sex large enough to judge on the test split.",
                value=0.031,
                ci=[0.0, 0.058],
                threshold=0.1,
                direction="at_most",
                split="test",
                sensitive="sex",
                n=sizes["test"],
                details={"binning": "up to 10 equal-count bins of each group's scores"},
                chart={
                    "kind": "group_calibration",
                    "title": "Calibration by sex on test: worst group male off by 0.031",
                    "groups": [
                        {
                            "group": g,
                            "n": n,
                            "predicted": pred,
                            "observed": obs,
                            "counts": [n // 5] * 5,
                            "ece": ece,
                            "inconclusive": False,
                        }
                        for g, n, pred, obs, ece in curves
                    ],
                },
            )
        )

    # ---------------------------------------------------------------- criteria
    criteria = _criteria(task, spec, metrics, fair_value, verdict)
    blocking_bad = [
        c
        for c in criteria
        if c["severity"] == "blocking"
        and c["status"] in ("fail", "inconclusive", "error")
        and not c["waived"]
    ]
    advisory_bad = [
        c
        for c in criteria
        if c["severity"] == "advisory" and c["status"] != "pass" and not c["waived"]
    ]
    if verdict == "NOT READY":
        reason = (
            f"{len(blocking_bad)} blocking criteria are not met: "
            + "; ".join(c["description"] for c in blocking_bad[:2])
            + "."
        )
    elif verdict == "CONDITIONAL":
        reason = (
            "Every blocking criterion is met, but "
            f"{len(advisory_bad)} advisory criterion fails and diagnostics warn."
        )
    else:
        reason = "Every blocking criterion is met and no advisory criterion fails."
    blockers = [f"{c['description']}: {c['reason']}" for c in blocking_bad]
    next_steps = (
        [
            "Reduce the approval-rate gap between women and men below 0.10: review proxy "
            "features (income, part-time employment) and retrain."
            if task == "binary"
            else "Improve the worst-served group: collect more examples from it and retrain.",
            "Collect at least 100 more client holdout rows so that the interval of the holdout "
            "score no longer straddles the bound.",
            "Renew or remove the expired waiver on recall before the next review."
            if task == "binary"
            else "Re-run the audit after retraining.",
        ]
        if verdict != "READY"
        else ["Sign the report and archive it with the model."]
    )
    exit_code = {"READY": 0, "NOT READY": 1, "CONDITIONAL": 3}[verdict]

    # ---------------------------------------------------------------- model, env
    fingerprint = model_fingerprint or _FAKE_MODEL_SHA
    info: dict[str, Any] = {
        "architecture": "mlp",
        "parameters": 3393,
        "fingerprint": fingerprint,
        "device": "cpu",
        "input_features": 18,
    }

    learning_curve = next(f for f in findings if f["id"] == "fit.learning_curve")
    results = {
        "schema_version": 1,
        "auditor_version": "0.1.0",
        "run": {
            "started": "2026-11-21T09:12:03Z",
            "finished": "2026-11-21T09:13:41Z",
            "wall_seconds": 98.2,
            "timings": {
                "load": 0.05,
                "data": 1.2,
                "train": 61.0,
                "evaluate": 22.4,
                "checks": 9.8,
                "verdict": 0.01,
                "report": 3.7,
            },
        },
        "spec": spec,
        "spec_file": {"path": f"specs/{spec['name']}.yaml", "sha256": _FAKE_SPEC_SHA},
        "data": {
            "target": spec["objective"]["target"],
            "task": task,
            "classes": classes,
            "sensitive": spec["data"]["sensitive"],
            "id_column": spec["data"]["id_column"],
            "sources": sources,
            "split": {"strategy": spec["data"]["split"]["strategy"], "seed": 7, "sizes": sizes},
            "columns": {
                "income": "numeric",
                "debt_ratio": "numeric",
                "loan_amount": "numeric",
                "employment_years": "numeric",
                "age": "numeric",
                "region": "categorical",
                "purpose": "categorical",
                "term": "categorical",
            },
            "feature_names": [f"x{i}" for i in range(18)],
            "preprocessing": {
                "missing": "median",
                "rows_dropped": 0,
                "outliers_clipped": 113,
                "scaling": "standard",
            },
        },
        "model": {
            "kind": "trained",
            "fingerprint": fingerprint,
            "info": info,
            "files": dict(model_files or {}),
            "history": hist,
            "best_epoch": best,
            "stopped_early": True,
            "pickle_loaded": pickle_loaded,
        },
        "environment": {
            "python": "3.11.9",
            "platform": "Linux-6.8-x86_64",
            "machine": "x86_64",
            "auditor": "0.1.0",
            "packages": {
                "torch": "2.13.0",
                "numpy": "2.4.0",
                "pandas": "3.1.0",
                "scikit-learn": "1.9.0",
                "fairlearn": "0.15.0",
                "weasyprint": "70.0",
                "matplotlib": "3.11.2",
            },
            "device": "cpu",
            "device_name": "x86_64 CPU (2 cores)",
            "precision": "fp32",
            "seed": spec["training"]["seed"],
            "split_seed": spec["data"]["split"]["seed"],
            "bootstrap_seed": spec["evaluation"]["seed"],
        },
        "evaluation": {
            "primary_metric": primary,
            "threshold": 0.41 if task == "binary" else None,
            "threshold_info": (
                {"strategy": "min_cost", "chosen_on": "validation", "value": 0.41}
                if task == "binary"
                else {}
            ),
            "confidence": 0.95,
            "bootstrap": 1000,
            "metrics": metrics,
            "baselines": {
                "majority": {"test": {primary: 0.45}},
                "linear": {"test": {primary: _r(metrics["test"][primary]["value"] - 0.04)}},
            },
            "learning_curve": learning_curve["details"]["points"],
            "costs": eval_costs,
            # as evaluate.evaluate records them: the fixture's model gives scores, and no
            # diagnostic was skipped
            "has_scores": True,
            "notes": {},
        },
        "findings": findings,
        "criteria": criteria,
        "verdict": {
            "status": verdict,
            "reason": reason,
            "blockers": blockers,
            "next_steps": next_steps,
            "exit_code": exit_code,
        },
    }
    if n_charts is not None:
        _set_chart_count(results, n_charts)
    return results


def _describe(c: dict) -> str:
    nice = {
        "f1": "F1",
        "roc_auc": "ROC-AUC",
        "ece": "Calibration error (ECE)",
        "recall": "Recall",
        "f1_macro": "Macro F1",
        "accuracy": "Accuracy",
        "mae": "Mean absolute error",
        "r2": "R²",
        "rmse": "RMSE",
        "demographic_parity_difference": "The approval-rate gap (demographic parity difference)",
        "worst_group_accuracy": "The accuracy of the worst-served group",
    }
    where = {
        "test": "the test split",
        "holdout": "the client holdout",
        "validation": "the validation split",
        "train": "the training split",
    }[c["split"]]
    if c.get("check") == "generalization_gap":
        what = f"The gap in {nice.get(c['metric'], c['metric'])} between training and validation"
    elif c.get("check") == "suspicious_score":
        what = f"{nice.get(c['metric'], c['metric'])} (too-good-to-be-true check)"
    else:
        what = nice.get(c["metric"], c["metric"])
    if c.get("sensitive") and c.get("metric") not in (
        "demographic_parity_difference",
        "worst_group_accuracy",
    ):
        what += f" difference between {c['sensitive']} groups"
    elif c.get("sensitive"):
        what += f" across {c['sensitive']}"
    word = "at least" if "at_least" in c else "at most"
    bound = c.get("at_least", c.get("at_most"))
    conf = " (with 95% confidence)" if c.get("require") == "confidence" else ""
    return f"{what} on {where} is {word} {bound:g}{conf}"


def _criteria(
    task: TaskName, spec: dict, metrics: dict, fair_value: float, verdict: str
) -> list[dict]:
    out = []
    for i, c in enumerate(spec["acceptance"]):
        bound = c.get("at_least", c.get("at_most"))
        lower = "at_least" in c
        if c.get("check") == "generalization_gap":
            value, ci = 0.031, [0.012, 0.049]
        elif c.get("check") == "suspicious_score":
            value, ci = metrics["train"]["accuracy"]["value"], None
        elif c.get("sensitive") and task == "regression":
            value, ci = 310.0, [150.0, 470.0]
        elif c.get("sensitive"):
            value, ci = fair_value, [_r(fair_value * 0.6), _r(fair_value * 1.4)]
        else:
            row = metrics[c["split"]][c["metric"]]
            value, ci = row["value"], [row["low"], row["high"]]
        ok = value >= bound if lower else value <= bound
        margin = _r(value - bound if lower else bound - value)
        status = "pass" if ok else "fail"
        reason = "" if ok else f"measured {value:g}, bound {bound:g}"
        if c.get("require") == "confidence" and ci and (ci[0] < bound < ci[1]):
            status = "inconclusive"
            reason = (
                f"the interval {ci[0]:g} to {ci[1]:g} straddles the bound {bound:g}; "
                "more holdout rows are needed to decide"
            )
        waiver = c.get("waiver")
        waived = bool(waiver and status != "pass" and waiver["expires"] >= "2026-11-21")
        if waiver and status != "pass" and not waived:
            reason += f"; the waiver expired on {waiver['expires']}"
        out.append(
            {
                "index": i,
                "criterion": c,
                "description": _describe(c),
                "status": status,
                "severity": c["severity"],
                "value": value,
                "ci": ci,
                "bound": bound,
                "margin": margin,
                "reason": reason,
                # as the verdict links them: a fairness criterion is about its finding
                "finding_id": (
                    f"fairness.{c['metric']}.{c['sensitive']}" if c.get("sensitive") else None
                ),
                "waiver": waiver,
                "waived": waived,
            }
        )
    if verdict != "NOT READY":
        # make every blocking criterion pass (READY/CONDITIONAL fixtures)
        for o in out:
            if o["severity"] == "blocking" and o["status"] != "pass":
                o["status"], o["reason"] = "pass", ""
                o["value"] = o["bound"] + (0.01 if "at_least" in o["criterion"] else -0.01)
                o["margin"] = 0.01
                if "at_least" in o["criterion"]:
                    o["ci"] = [o["value"] - 0.004, o["value"] + 0.02]
                else:
                    o["ci"] = [o["value"] - 0.02, o["value"] + 0.004]
    if verdict == "READY":
        for o in out:
            if o["status"] != "pass" and not o["waived"]:
                o["status"], o["reason"], o["margin"] = "pass", "", 0.005
                o["value"] = o["bound"] + (0.005 if "at_least" in o["criterion"] else -0.005)
                o["ci"] = None
    return out


_EXTRA_KINDS = (
    "roc",
    "pr",
    "calibration",
    "group_bars",
    "metric_intervals",
    "bars",
    "histogram",
    "confusion_matrix",
    "loss_curve",
    "learning_curve",
    "residuals",
)


def _set_chart_count(results: dict, n: int) -> None:
    with_chart = [f for f in results["findings"] if f.get("chart")]
    if len(with_chart) > n:
        for f in with_chart[n:]:
            f["chart"] = None
        return
    protos = {f["chart"]["kind"]: f for f in with_chart}
    rng = np.random.default_rng(99)
    i = 0
    while len(with_chart) < n:
        kind = _EXTRA_KINDS[i % len(_EXTRA_KINDS)]
        i += 1
        if kind in protos:
            extra = copy.deepcopy(protos[kind])
        elif kind == "residuals":
            pred = rng.gamma(2.0, 1500.0, 400)
            extra = _finding(
                "performance.residuals.x",
                "residuals",
                "performance",
                "pass",
                "Residuals",
                "Errors grow with the size of the prediction.",
                chart={
                    "kind": "residuals",
                    "title": "Errors grow with size",
                    "predicted": [_r(v, 1) for v in pred],
                    "residual": [_r(v, 1) for v in rng.normal(0, 300, 400)],
                },
            )
        elif kind in ("roc", "pr", "calibration"):
            roc, pr, cal = _roc_pr(rng)
            data = {"roc": roc, "pr": pr, "calibration": cal}[kind]
            extra = _finding(
                f"performance.{kind}.x",
                kind,
                "performance",
                "pass",
                kind,
                f"Extra {kind} chart.",
                chart={"kind": kind, "title": f"Extra {kind}", **data},
            )
        else:
            continue
        extra["id"] = f"{extra['id']}.extra{i}"
        extra["title"] = f"{extra['title']} (extra {i})"
        # a distinct warning, so the report shows it in full with its own chart
        extra["status"] = "warn"
        extra["chart"]["variant"] = i
        results["findings"].append(extra)
        with_chart.append(extra)
