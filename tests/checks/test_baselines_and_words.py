"""Baselines in every metric (paired intervals), next steps a user can take, and plurals.

Planted ground truth: a model that ranks well (ROC-AUC) but decides worse than always
predicting the majority class; a vendor's spec; duplicated rows that are copies (same id)
or different cases (identical features, different ids), with conflicting labels.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from auditor.checks import run_checks
from auditor.checks.data import duplicate_counts, duplicate_words
from auditor.checks.groups import collect_rows_step, small_groups_text
from auditor.report.context import page_one_warnings
from auditor.spec.defaults import apply_defaults
from auditor.types import Spec
from auditor.verdict import decide
from auditor.words import count_words
from tests.checks.factory import make_binary_case, make_spec

WRONG = 0.6  # share of rows on which the planted model decides wrongly
WORSE = {
    "check": "baseline_improvement",
    "metric": "accuracy",
    "split": "test",
    "baseline": "majority",
    "at_least": 0.0,
}
AUC = {"check": "baseline_improvement", "metric": "roc_auc", "split": "test", "at_least": 0.0}


def _worse_than_majority(seed: int = 3):
    """The factory's honest scores (they rank well), but decisions wrong on a random WRONG
    share of rows: accuracy 0.4, below always predicting the majority class (about 0.5)."""
    dataset, evaluation = make_binary_case(seed=seed)
    rng = np.random.default_rng(seed)
    splits = {}
    for split, e in evaluation.splits.items():
        y = np.asarray(e.y_true).astype(int)
        pred = np.where(rng.random(len(y)) < WRONG, 1 - y, y).astype(np.int64)
        splits[split] = dataclasses.replace(e, y_pred=pred)
    return dataset, dataclasses.replace(evaluation, splits=splits)


@pytest.mark.parametrize(
    ("rows", "compared"),
    [(1_000, 1_000), (50_000, 50_000), (100_000, 50_000), (1_000_000, 100_000)],
)
def test_the_baselines_are_compared_on_every_row_then_on_a_tenth(rows, compared):
    from auditor.checks.fit import compared_row_count

    assert compared_row_count(rows) == compared


def test_baselines_stay_paired_when_the_headline_resamples_are_drawn_per_run(monkeypatch):
    """Above ATOM_ROWS the model's headline estimates come from run totals, which no
    baseline shares: the comparison then resamples the model row by row with the
    baselines' weights, so the gain's replicates are the paired differences."""
    from auditor.checks.registry import CHECKS, CheckContext
    from auditor.metrics import Rows, bootstrap_rows, cell_bootstrap, weighted

    monkeypatch.setattr(cell_bootstrap, "ATOM_ROWS", 100)
    monkeypatch.setattr(weighted, "RANK_GROUPS", 8)  # few runs of alike rows in a small split
    spec = make_spec(acceptance=[WORSE])
    dataset, evaluation = make_binary_case(seed=3)  # decisions by threshold: few runs
    ctx = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    ctx = ctx.for_check(CHECKS["baseline_improvement"])
    assert ctx.estimates_by_atoms("test")  # else this test would not test the case
    findings = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    acc = findings["fit.baseline_improvement.accuracy.test"]

    def reps(e):
        rows = Rows("binary", e.y_true, e.scores, e.y_pred, n_classes=2)
        return bootstrap_rows(
            rows, ["accuracy"], resamples=ctx.resamples, confidence=ctx.confidence,
            seed=ctx.seed("test", 0),
        )["accuracy"].replicates  # fmt: skip

    e, base = evaluation.splits["test"], evaluation.baseline_predictions["majority"]["test"]
    gain = reps(e) - reps(base)
    low, high = np.quantile(gain, [(1 - ctx.confidence) / 2, (1 + ctx.confidence) / 2])
    assert acc.ci == pytest.approx((low, high), abs=1e-9)  # per run, it would differ


def test_a_large_split_is_compared_on_a_seeded_sample_still_paired(monkeypatch):
    """Above COMPARE_ROWS the model and the baselines share a sample and its resamples."""
    from auditor.checks import fit

    spec = make_spec(acceptance=[WORSE])
    dataset, evaluation = _worse_than_majority()
    n = len(evaluation.splits["test"].y_true)
    monkeypatch.setattr(fit, "COMPARE_ROWS", n // 2)
    findings = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    acc = findings["fit.baseline_improvement.accuracy.test"]
    assert acc.details["rows_compared"] == n // 2
    assert f"seeded sample of {n // 2:,} of the {n:,} rows" in acc.summary
    assert acc.status == "warn"  # the planted shortfall survives the sample
    planted = (1 - WRONG) - acc.details["majority"]
    assert acc.ci[0] <= planted <= acc.ci[1] < 0
    # both sides are measured on the same sampled rows
    from auditor.checks.registry import CHECKS, CheckContext

    ctx = CheckContext(spec=spec, dataset=dataset, evaluation=evaluation)
    rows = fit._compared_rows(ctx.for_check(CHECKS["baseline_improvement"]), "test")
    e, base = evaluation.splits["test"], evaluation.baseline_predictions["majority"]["test"]
    assert acc.details["model"] == pytest.approx(np.mean(e.y_pred[rows] == e.y_true[rows]))
    majority = np.mean(base.y_pred[rows] == base.y_true[rows])
    assert acc.details["majority"] == pytest.approx(majority)


def test_a_model_worse_than_the_majority_class_is_flagged_with_a_paired_interval():
    spec = make_spec(acceptance=[WORSE, AUC])
    dataset, evaluation = _worse_than_majority()
    findings = run_checks(spec, dataset, evaluation)
    by_id = {f.id: f for f in findings}
    acc = by_id["fit.baseline_improvement.accuracy.test"]
    assert acc.status == "warn" and acc.details["baseline"] == "majority"
    planted = (1 - WRONG) - acc.details["majority"]  # expected accuracy difference
    low, high = acc.ci
    assert low <= planted <= high and high < 0, (acc.ci, planted)
    assert acc.value == pytest.approx(acc.details["model"] - acc.details["majority"])
    sentence = acc.details["page_one"]
    assert sentence.startswith("The model is right less often than always predicting '")
    assert "difference -0." in sentence and "95% CI" in sentence
    # every baseline is scored with the model's resamples (balanced accuracy, F1 too)
    for metric in ("balanced_accuracy", "f1"):
        names = {
            r["baseline"]
            for r in by_id[f"fit.baseline_improvement.{metric}.test"].details["baselines"]
        }
        assert names == {"majority", "stratified", "linear"}
    # the ranking still beats a constant
    assert by_id["fit.baseline_improvement.roc_auc.test"].status == "pass"
    outcomes, verdict = decide(spec, findings)
    assert [o.status for o in outcomes] == ["fail", "pass"]
    assert outcomes[0].finding_id == "fit.baseline_improvement.accuracy.test"
    assert "Improvement over the majority baseline in Accuracy" in outcomes[0].description
    # on page one
    results_like = [{"status": f.status, "details": f.details} for f in findings]
    assert sentence in page_one_warnings(results_like)


def test_a_criterion_can_name_another_baseline():
    crit = {**WORSE, "baseline": "stratified"}
    spec = make_spec(acceptance=[crit])
    findings = run_checks(spec, *_worse_than_majority())
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].finding_id == "fit.baseline_improvement.accuracy.test.stratified"
    assert outcomes[0].status in ("pass", "fail")


def test_a_vendor_model_gets_no_training_advice():
    spec = make_spec(
        acceptance=[{"metric": "accuracy", "split": "test", "at_least": 0.99}],
        evaluation={"diagnostics": {"min_class_share": 0.49}},
    )
    vendor_values = dict(spec.values)
    vendor_values["model"] = {
        **spec.values["model"],
        "vendor": {"format": "predictions", "path": "scores.csv"},
    }
    vendor = Spec(path=spec.path, values=apply_defaults(vendor_values))
    assert vendor.model.vendor is not None
    held_values = dict(vendor_values)  # the caller's own model, given in memory (model=)
    held_values["model"] = {"vendor": {"format": "python", "path": "<in-memory model>"}}
    held = Spec(path=spec.path, values=apply_defaults(held_values))
    dataset, evaluation = _worse_than_majority()
    for s, own in ((vendor, False), (held, False), (spec, True)):
        _, verdict = decide(s, run_checks(s, dataset, evaluation))
        text = " ".join(verdict.next_steps).lower()
        training = any(
            w in text
            for w in (
                "train longer",
                "larger network",
                "class_weights",
                "tuning",
                "regularise",
                "learning rate",
                "training labels",
            )
        )
        assert training == own, verdict.next_steps
        if s is vendor:
            assert "ask the vendor" in text
        if s is held:  # the steps address the caller: no vendor in them
            assert "vendor" not in text and "check how the model can meet" in text, text
        assert all("(from: " in step for step in verdict.next_steps)
        assert len(set(verdict.next_steps)) == len(verdict.next_steps)


def test_every_vendor_format_but_a_model_in_memory_addresses_the_vendor():
    from auditor.in_memory import MEMORY_FORMAT
    from auditor.vendor_models.registry import format_names
    from auditor.words import CALLER, VENDOR, addressee

    assert MEMORY_FORMAT in format_names()
    for name in format_names():
        assert addressee(name) == (CALLER if name == MEMORY_FORMAT else VENDOR), name
    assert addressee(None) == CALLER  # trained here
    assert addressee(None, responses=True) == VENDOR  # a generated-text audit's responses
    assert (VENDOR.opening, CALLER.opening) == ("Ask the vendor", "Check")
    assert not any("vendor" in words.lower() for words in dataclasses.astuple(CALLER))


def test_copies_and_look_alike_cases_are_told_apart_and_conflicts_counted():
    frame = pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 4, 5, 6],
            "x": [0.5, 0.5, 0.5, 0.5, 2.0, 2.0, 3.0],
            "y": [1, 1, 1, 0, 1, 0, 1],
        }
    )
    counted = duplicate_counts(frame, ["x"], "y", "id")
    # row 2 copies row 1 (same id); row 3 has row 1's features and outcome under another id
    assert counted["duplicates"] == 2 and counted["copies"] == 1
    assert counted["identical_cases"] == 1
    # x=0.5 has outcomes 1 and 0 (4 rows), x=2.0 has 1 and 0 (2 rows)
    assert counted["conflicting"] == 6 and counted["conflicting_groups"] == 2
    text = duplicate_words(counted, len(frame), "the test split")
    assert text.startswith("1 row of the test split (14.3%) is a copy of another row")
    assert "1 other row has the features and outcome of another row under a different id" in text
    assert "6 rows in 2 sets of identical features have different outcomes" in text
    no_ids = duplicate_counts(frame.drop(columns="id"), ["x"], "y", None)
    assert no_ids["copies"] is None
    assert "cannot be told apart" in duplicate_words(no_ids, len(frame), "the test split")


# (sentence builder, count) -> the words a count of 0, 1 and 2 must read
PLURALS = [
    (lambda n: count_words(n, "row"), ("0 rows", "1 row", "2 rows")),
    (
        lambda n: count_words(n, "blocking criterion"),
        ("0 blocking criteria", "1 blocking criterion", "2 blocking criteria"),
    ),
    (lambda n: count_words(n, "row", zero="no"), ("no rows", "1 row", "2 rows")),
    (
        lambda n: small_groups_text(["Asian & Female"], [n], [30 - n], 30),
        ("Asian & Female (0 rows,", "Asian & Female (1 row,", "Asian & Female (2 rows,"),
    ),
    (
        lambda n: collect_rows_step(["south"], [n], 30, "clinic"),
        ("at least 0 more rows of south", "at least 1 more row of south", "2 more rows of south"),
    ),
    (
        lambda n: small_groups_text(["a", "b"], [n, n], [5, 5], 30),
        ("2 groups have fewer than 30 rows", "a (1 row, 5 more needed)", "b (2 rows,"),
    ),
    (
        lambda n: duplicate_words(
            {
                "duplicates": n,
                "copies": n,
                "identical_cases": n,
                "conflicting": n,
                "conflicting_groups": n,
            },
            10,
            "the test split",
        ),
        (
            "0 rows of the test split",
            "1 row of the test split (10.0%) is a copy",
            "2 rows of the test split (20.0%) are copies",
        ),
    ),
    (
        lambda n: duplicate_words(
            {
                "duplicates": n,
                "copies": None,
                "identical_cases": None,
                "conflicting": n,
                "conflicting_groups": 1,
            },
            10,
            "the test split",
        ),
        (
            "0 rows of the test split",
            "1 row of the test split (10.0%) repeats",
            "2 rows of the test split (20.0%) repeat",
        ),
    ),
]


@pytest.mark.parametrize("build, expected", PLURALS)
def test_counts_read_right(build, expected):
    for n, words in zip((0, 1, 2), expected, strict=True):
        text = build(n)
        assert words in text, (n, text)
        assert "1 rows" not in text and " 1 groups" not in text and "1 criteria" not in text


def test_verdict_reasons_count_right():
    for n, word in ((1, "1 blocking criterion is not met"), (2, "2 blocking criteria are not met")):
        spec = make_spec(
            acceptance=[{"metric": "accuracy", "split": "test", "at_least": 0.999}] * n
        )
        _, verdict = decide(spec, run_checks(spec, *make_binary_case(seed=3)))
        assert verdict.reason.startswith(word), verdict.reason


def test_duplicate_counts_equal_pandas_exact_duplicates():
    """The mixed row hashes count what pandas' exact comparison of the columns counts."""
    rng = np.random.default_rng(5)
    n = 20_000
    frame = pd.DataFrame({f"x{j}": rng.integers(0, 3, n) for j in range(4)})
    frame["y"] = rng.integers(0, 2, n)
    frame["id"] = rng.integers(0, n // 2, n)
    feats = [f"x{j}" for j in range(4)]
    counted = duplicate_counts(frame, feats, "y", "id")
    assert counted["duplicates"] == int(frame.duplicated([*feats, "y"]).sum())
    assert counted["copies"] == int(frame.duplicated(["id", *feats, "y"]).sum())
    mixed = frame.groupby(feats)["y"].nunique()
    assert counted["conflicting_groups"] == int((mixed > 1).sum())
