"""Disparities against a reference group, and headlines over judgeable groups only.

Every case is generated with its answer planted: each group's rows are drawn with a known
base rate, true positive rate and false positive rate, so the disparity a criterion bounds
is known before the audit, and the figures the check reports are recomputed here by hand
from the confusion counts of the same rows (Aequitas's definitions: a group's rate over the
reference group's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.checks import CheckContext
from auditor.checks.fairness import fairness
from auditor.types import Dataset, Evaluation, SplitEval
from auditor.verdict import decide
from tests.checks.factory import make_spec


def _case(groups: dict[str, tuple[int, float, float, float]], seed: int = 0):
    """Rows per group from (rows, base rate, TPR, FPR); the feature is ``race``."""
    rng = np.random.default_rng(seed)
    race, y, p = [], [], []
    for label, (n, base, tpr, fpr) in groups.items():
        truth = (rng.random(n) < base).astype(int)
        flagged = (rng.random(n) < np.where(truth == 1, tpr, fpr)).astype(int)
        race += [label] * n
        y.append(truth)
        p.append(flagged)
    y, p = np.concatenate(y), np.concatenate(p)
    frame = pd.DataFrame({"race": race})
    ds = Dataset(
        task="binary",
        target="y",
        frames={},
        X={},
        y={"train": y, "test": y},
        groups={"test": frame},
        feature_columns=[],
        column_types={},
        feature_names=[],
        classes=[0, 1],
        sensitive=["race"],
    )
    ev = Evaluation(
        task="binary",
        classes=[0, 1],
        splits={"test": SplitEval(y_true=y, scores=p.astype(float), y_pred=p, groups=frame)},
    )
    return ds, ev, y, p, np.asarray(race)


def _by_hand(rate: str, y, p, inside) -> float:
    """A group's rate from its confusion counts (Aequitas's definitions)."""
    yt, yp = y[inside], p[inside]
    tp, fp = np.sum((yt == 1) & (yp == 1)), np.sum((yt == 0) & (yp == 1))
    fn, tn = np.sum((yt == 1) & (yp == 0)), np.sum((yt == 0) & (yp == 0))
    return {
        "fpr": fp / (fp + tn),
        "fnr": fn / (fn + tp),
        "tpr": tp / (tp + fn),
        "selection_rate": (tp + fp) / len(yt),
    }[rate]


def _audit(ds, ev, criteria, *, reference=None, bootstrap=300):
    data = {"reference_groups": reference} if reference else None
    spec = make_spec(
        sensitive=("race",), acceptance=criteria, evaluation={"bootstrap": bootstrap}, data=data
    )
    findings = fairness(CheckContext(spec, ds, ev))
    outcomes, verdict = decide(spec, findings)
    return {f.id: f for f in findings}, outcomes, verdict


# (id, groups: rows, base rate, TPR, FPR; criterion; reference named; status; headline group)
PLANTED = [
    (
        "fpr-gap-against-named-reference",
        {
            "white": (3000, 0.4, 0.7, 0.10),
            "black": (2000, 0.4, 0.7, 0.25),
            "asian": (1500, 0.4, 0.7, 0.11),
        },
        {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_least": 0.8, "at_most": 1.25},
        {"race": "white"},
        "fail",
        "black",
    ),
    (
        "fpr-gap-below-the-band",
        {
            "white": (3000, 0.4, 0.7, 0.20),
            "black": (2000, 0.4, 0.7, 0.08),
            "asian": (1500, 0.4, 0.7, 0.21),
        },
        {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_least": 0.8, "at_most": 1.25},
        {"race": "white"},
        "fail",
        "black",
    ),
    (
        "no-fpr-gap",
        {
            "white": (3000, 0.4, 0.7, 0.20),
            "black": (2000, 0.4, 0.7, 0.20),
            "asian": (1500, 0.4, 0.7, 0.21),
        },
        {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_least": 0.8, "at_most": 1.25},
        {"race": "white"},
        "pass",
        None,
    ),
    (
        "fnr-gap-largest-group-by-rule",
        {
            "white": (3000, 0.5, 0.80, 0.1),
            "black": (2000, 0.5, 0.65, 0.1),
            "asian": (1500, 0.5, 0.79, 0.1),
        },
        {"metric": "fnr_difference_to_reference", "sensitive": "race", "at_most": 0.05},
        None,
        "fail",
        "black",
    ),
]


@pytest.mark.parametrize(
    "groups, criterion, reference, status, headline",
    [c[1:] for c in PLANTED],
    ids=[c[0] for c in PLANTED],
)
def test_planted_disparity_against_the_reference(groups, criterion, reference, status, headline):
    ds, ev, y, p, race = _case(groups, seed=3)
    found, outcomes, _ = _audit(ds, ev, [criterion], reference=reference)
    metric = criterion["metric"]
    f = found[f"fairness.{metric}.test.race"]
    (outcome,) = outcomes
    assert outcome.status == status, outcome.reason
    assert outcome.finding_id == f.id
    rate, how = metric.split("_", 1)[0], metric.split("_", 1)[1]
    ref = "white"
    rule = "named in data.reference_groups" if reference else "the largest group"
    assert f"Reference: {ref}, {rule}." in f.summary
    assert f.details["reference_group"] == ref and f.details["reference_rule"] == rule
    # every group's point value, by hand from its confusion counts
    base = _by_hand(rate, y, p, race == ref)
    per = {r["group"]: r for r in f.details["per_group"]}
    for label in groups:
        if label == ref:
            assert per[label]["reference"] and per[label]["value"] is None
            continue
        mine = _by_hand(rate, y, p, race == label)
        expected = mine / base if how == "ratio_to_reference" else mine - base
        assert per[label]["value"] == pytest.approx(expected, abs=1e-12), label
        assert per[label]["low"] <= per[label]["value"] <= per[label]["high"]
    # the headline is the group nearest to (or furthest past) the bounds, within its interval
    assert f.ci[0] <= f.value <= f.ci[1]
    if headline is not None:
        assert f.value == pytest.approx(per[headline]["value"], abs=1e-12)
        assert headline in f.summary
    # one finding per metric, split and partition; none for disparities no criterion names
    assert not [i for i in found if "_to_reference" in i and i != f.id]
    # the compact disparity table rides on the first finding of the partition
    first = next(iter(found.values()))
    rows = {r["group"]: r for r in first.details["disparities"]}
    assert rows[ref]["FPR ratio"] == 1.0 and set(rows) == set(groups)


def test_a_named_reference_changes_the_comparison():
    # the named reference is neither the largest group nor the first label
    groups = {
        "asian": (1000, 0.4, 0.7, 0.12),
        "white": (3000, 0.4, 0.7, 0.10),
        "black": (2000, 0.4, 0.7, 0.25),
    }
    ds, ev, y, p, race = _case(groups, seed=1)
    criterion = {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_least": 0.8}
    found, outcomes, _ = _audit(ds, ev, [criterion], reference={"race": "black"})
    f = found["fairness.fpr_ratio_to_reference.test.race"]
    assert f.details["reference_group"] == "black"
    expected = _by_hand("fpr", y, p, race == "white") / _by_hand("fpr", y, p, race == "black")
    assert f.value == pytest.approx(expected, abs=1e-12) and expected < 0.5
    assert "white" in f.summary and outcomes[0].status == "fail"


# ---------------------------------------------------------------------- small groups
EXTREME = {"a": (3000, 0.5, 0.80, 0.10), "b": (2000, 0.5, 0.60, 0.12), "c": (500, 0.5, 0.75, 0.11)}
SAME = {"a": (3000, 0.5, 0.80, 0.10), "b": (2000, 0.5, 0.80, 0.10), "c": (500, 0.5, 0.80, 0.10)}
TINY = {"tiny": (11, 0.5, 0.0, 1.0)}  # 11 rows, every decision wrong: extreme rates


@pytest.mark.parametrize(
    "judgeable, status",
    [(EXTREME, "fail"), (SAME, "inconclusive")],
    ids=["judgeable-groups-fail", "judgeable-groups-pass"],
)
def test_a_tiny_extreme_group_never_sets_the_headline(judgeable, status):
    ds, ev, y, p, race = _case({**judgeable, **TINY}, seed=7)
    criterion = {"metric": "equalized_odds_difference", "sensitive": "race", "at_most": 0.10}
    found, outcomes, verdict = _audit(ds, ev, [criterion])
    f = found["fairness.equalized_odds_difference.test.race"]
    # the headline by hand over the judgeable groups only (3,000, 2,000 and 500 rows)
    gaps = []
    for rate in ("tpr", "fpr"):
        values = [_by_hand(rate, y, p, race == g) for g in judgeable]
        gaps.append(max(values) - min(values))
    assert f.value == pytest.approx(max(gaps), abs=1e-12)
    assert f.ci[0] <= f.value <= f.ci[1] and f.ci[1] < 0.5  # the tiny group's gap is ~1
    assert f.details["value_with_small_groups"] > 0.8
    assert "Group tiny (11 rows, 19 more needed) is below the minimum of 30 rows" in f.summary
    (outcome,) = outcomes
    assert outcome.status == status, outcome.reason
    assert outcome.value == f.value
    steps = " ".join(verdict.next_steps)
    if status == "fail":
        assert "more rows" not in steps and "more rows" not in f.recommendation
        assert "already fails on the groups large enough to judge" in outcome.reason
    else:
        assert "could change the outcome" in outcome.reason
        assert "Collect at least 19 more rows of tiny" in f.recommendation


def test_a_small_group_that_cannot_change_the_outcome_leaves_it_passing():
    ds, ev, *_ = _case({**SAME, "tiny": (25, 0.5, 0.80, 0.10)}, seed=2)
    criterion = {"metric": "equalized_odds_difference", "sensitive": "race", "at_most": 0.9}
    found, outcomes, _ = _audit(ds, ev, [criterion])
    f = found["fairness.equalized_odds_difference.test.race"]
    assert "Group tiny (25 rows, 5 more needed)" in f.summary
    assert outcomes[0].status == "pass" and f.status == "pass" and f.recommendation == ""


def test_a_small_group_is_left_out_of_a_reference_criterion():
    ds, ev, *_ = _case({**EXTREME, **TINY}, seed=4)
    criterion = {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_most": 1.5}
    found, outcomes, _ = _audit(ds, ev, [criterion])
    f = found["fairness.fpr_ratio_to_reference.test.race"]
    tiny = next(r for r in f.details["per_group"] if r["group"] == "tiny")
    assert tiny["inconclusive"] and tiny["value"] > 5  # FPR 1 against about 0.1
    assert f.value < 1.5
    assert outcomes[0].status == "inconclusive"  # the tiny group could break the bound


# ---------------------------------------------------------------------- coverage
def _coverage(draws: int) -> int:
    """How many of ``draws`` seeded audits' 95% intervals cover the true FPR ratio."""
    truth = 0.30 / 0.20
    covered = 0
    criterion = {"metric": "fpr_ratio_to_reference", "sensitive": "race", "at_least": 0.8}
    for seed in range(draws):
        ds, ev, *_ = _case({"a": (500, 0.4, 0.7, 0.20), "b": (400, 0.4, 0.7, 0.30)}, seed=seed)
        spec = make_spec(
            sensitive=("race",),
            acceptance=[criterion],
            evaluation={"bootstrap": 300, "seed": seed},
            data={"reference_groups": {"race": "a"}},
        )
        f = next(
            f for f in fairness(CheckContext(spec, ds, ev)) if f.metric == "fpr_ratio_to_reference"
        )
        covered += f.ci[0] <= truth <= f.ci[1]
    return covered


def test_reference_intervals_cover_the_true_disparity_fast():
    assert _coverage(30) >= 26


@pytest.mark.slow
def test_reference_intervals_cover_the_true_disparity():
    assert _coverage(100) >= 90


def test_the_report_shows_one_disparity_table_per_partition():
    from auditor.report.context import group_tables
    from auditor.results import finding_to_dict

    ds, ev, *_ = _case({"white": (300, 0.4, 0.7, 0.1), "black": (200, 0.4, 0.7, 0.2)})
    found, _, _ = _audit(ds, ev, [], reference={"race": "black"}, bootstrap=20)
    tables = group_tables([finding_to_dict(f) for f in found.values()])
    (disparity,) = [t for t in tables if "over the reference group" in t["title"]]
    assert "(black, named in data.reference_groups)" in disparity["title"]
    assert disparity["columns"][:4] == ["group", "split", "rows", "selection rate ratio"]
    fpr = disparity["columns"].index("FPR ratio")
    cells = {r["cells"][0]: r["cells"][fpr] for r in disparity["rows"]}
    assert cells["black"] == "1.000" and float(cells["white"]) < 0.8
