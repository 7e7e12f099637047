"""Property tests over every whole catalogue (scikit-learn's ``test_common`` habit).

Each catalogued name -- performance metric, fairness metric, check a criterion can bound --
is walked for every task: a criterion on it validates exactly for the tasks it claims (and
is refused, naming it, for the others), it is measured on seeded data of every task it
claims (the criterion finds its finding and is decided, never "nothing was measured"), and
it renders in the report under its catalogue label. A new catalogue entry is covered here
without a line of test being written for it.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest
import yaml

from auditor.checks import CHECKS, criterion_checks, run_checks
from auditor.checks.registry import DIAGNOSTIC_DIRECTIONS
from auditor.errors import SpecError
from auditor.evaluate import compare_with_reference
from auditor.importance import FEATURE_CHECKS
from auditor.metrics import METRICS
from auditor.metrics.fairness import FAIRNESS_METRICS
from auditor.report.context import metric_name
from auditor.report.render import render_html
from auditor.results import finding_to_dict, outcome_to_dict, verdict_to_dict
from auditor.spec import load_schema, parse_spec_text
from auditor.splits import SPLIT_WORDS
from auditor.types import SPLITS, TASKS
from auditor.verdict import decide
from tests.checks.factory import make_binary_case, make_other_case, make_spec, steady_history
from tests.checks.raw_models import measure_drivers
from tests.tuning.tuning_data import fabricated_outcome

COSTS = {"false_positive": 5.0, "false_negative": 1.0}


def _inside(value_range, greater_is_better: bool) -> dict[str, float]:
    """A bound inside the values a figure can take, on the side a criterion would write."""
    low, high = value_range
    if greater_is_better:
        return {"at_least": 0.0 if (low is None or low <= 0.0) else float(low)}
    return {"at_most": float(high) if high is not None else 1e6}


def _metric_for(check, task: str) -> str | None:
    """A metric a check is measured in, for ``task`` (None: the check takes none)."""
    if check.measured_in is None:
        return None
    return next(n for n, m in METRICS.items() if m.applies_to(task) and check.measured_in(m))


def metric_criterion(name: str) -> dict:
    return {"metric": name, **_inside(METRICS[name].value_range, METRICS[name].greater_is_better)}


def fairness_criterion(name: str) -> dict:
    metric = FAIRNESS_METRICS[name]
    bound = {"at_most": 1.0} if metric.bound_direction == "at_most" else {"at_least": 0.0}
    return {"metric": name, "sensitive": "sex", **bound}


def check_criterion(name: str, task: str) -> dict:
    check = CHECKS[name]
    bound = {"at_least": -1e6} if check.value_range == (None, None) else {}
    if not bound:
        low, high = check.value_range
        bound = {"at_least": low} if low is not None else {"at_most": high}
    metric = _metric_for(check, task) if task in check.tasks else None
    split = {"split": check.roles[0]} if check.roles else {}
    feature = {"feature": "x1"} if name in FEATURE_CHECKS else {}  # in every seeded case
    return {"check": name, **({"metric": metric} if metric else {}), **split, **feature, **bound}


def _spec_text(task: str, criterion: dict) -> str:
    values = {
        "version": 1,
        "name": "catalogue",
        "objective": {"task": task, "target": "y"},
        "data": {"train": "data.csv", "sensitive": ["sex"]},
        "acceptance": [criterion],
    }
    if task == "binary":
        values["evaluation"] = {"costs": COSTS}
    if criterion.get("split") == "holdout":
        values["data"]["holdout"] = "client.csv"
    if "evaluation.cross_validation" in getattr(CHECKS.get(criterion.get("check")), "requires", ()):
        values.setdefault("evaluation", {})["cross_validation"] = {"folds": 3}
    if "tuning" in getattr(CHECKS.get(criterion.get("check")), "requires", ()):
        values["tuning"] = {
            "space": [{"option": "training.learning_rate", "low": 1e-3, "high": 0.1}]
        }
    return yaml.safe_dump(values, sort_keys=False)


def _validates(tmp_path: Path, task: str, criterion: dict) -> str | None:
    """None when the spec is valid, else the error lines."""
    try:
        parse_spec_text(_spec_text(task, criterion), path=tmp_path / "spec.yaml", check_data=False)
    except SpecError as exc:
        return str(exc)
    return None


CASES = {
    "binary": lambda: make_binary_case(seed=4, history=steady_history(), holdout=600),
    "multiclass": lambda: make_other_case("multiclass", seed=1),
    "regression": lambda: make_other_case("regression", seed=2),
}


def _with_reference(dataset, evaluation):
    """The case with development data of its own: a copy of its training rows, scored."""

    def plus(mapping, value):
        return {**mapping, "reference": value}

    dataset = dataclasses.replace(
        dataset,
        frames=plus(dataset.frames, dataset.frames["train"]),
        X=plus(dataset.X, dataset.X["train"]),
        y=plus(dataset.y, dataset.y["train"]),
        groups=plus(dataset.groups, dataset.groups["train"]),
        split_roles={"reference": "reference"},
        split_labels={"reference": "development data"},
    )
    evaluation = dataclasses.replace(
        evaluation, splits=plus(evaluation.splits, evaluation.splits["train"])
    )
    return dataset, evaluation


def _folds(task: str) -> dict:
    """Three held-out folds with every metric of the task (values spread a little)."""
    names = [n for n, m in METRICS.items() if task in m.tasks]
    per_fold = [{"fold": i, "rows": 100, **{n: 0.5 + 0.01 * i for n in names}} for i in (1, 2, 3)]
    return {"folds": 3, "strategy": "random", "group_column": None, "rows": 300,
            "per_fold": per_fold}  # fmt: skip


@pytest.fixture(scope="module", params=TASKS)
def audited(request):
    """Every catalogued name the task claims as a criterion, decided on seeded data."""
    task = request.param
    criteria = [metric_criterion(n) for n, m in METRICS.items() if task in m.tasks]
    criteria += [fairness_criterion(n) for n, m in FAIRNESS_METRICS.items() if task in m.tasks]
    criteria += [check_criterion(n, task) for n in criterion_checks() if task in CHECKS[n].tasks]
    dataset, evaluation = _with_reference(*CASES[task]())
    spec = make_spec(
        task,
        sensitive=dataset.sensitive,
        acceptance=criteria,
        evaluation={"costs": COSTS} if task == "binary" else None,
    )
    evaluation.drift = compare_with_reference(spec, dataset, evaluation.notes)
    measure_drivers(spec, dataset, evaluation)  # what the evaluate stage does with the model
    # what a search leaves (tuning_gain): its outcome, and the spec's own configuration's
    # predictions on the test split (here the model's own: a gain of exactly 0)
    evaluation.tuning = fabricated_outcome()
    evaluation.untuned = {"test": evaluation.splits["test"]}
    # what evaluation.cross_validation leaves (fold_stability): every metric on 3 folds
    evaluation.cross_validation = _folds(task)
    findings = run_checks(spec, dataset, evaluation)
    outcomes, verdict = decide(spec, findings)
    results = {
        "spec": spec.values,
        "findings": [finding_to_dict(f) for f in findings],
        "criteria": [outcome_to_dict(o) for o in outcomes],
        "verdict": verdict_to_dict(verdict),
        "data": {"task": task, "target": "y"},
    }
    return task, spec, outcomes, html.unescape(render_html(results, spec_text="", attachments=[]))


# ---------------------------------------------------------------------- validates
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(METRICS))
def test_performance_metric_validates_exactly_for_its_tasks(tmp_path, name, task):
    error = _validates(tmp_path, task, metric_criterion(name))
    if task in METRICS[name].tasks:
        assert error is None, error
    else:
        assert error is not None and f"'{name}'" in error and "acceptance[0].metric" in error


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_fairness_metric_validates_exactly_for_its_tasks(tmp_path, name, task):
    error = _validates(tmp_path, task, fairness_criterion(name))
    if task in FAIRNESS_METRICS[name].tasks:
        assert error is None, error
    else:
        assert error is not None and f"'{name}'" in error and "acceptance[0].metric" in error


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", criterion_checks())
def test_bounded_check_validates_exactly_for_its_tasks(tmp_path, name, task):
    error = _validates(tmp_path, task, check_criterion(name, task))
    if task in CHECKS[name].tasks:
        assert error is None, error
    else:
        assert error is not None and f"'{name}'" in error and "acceptance[0].check" in error


@pytest.mark.parametrize("name", [n for n in criterion_checks() if CHECKS[n].requires])
def test_a_check_without_what_it_requires_is_refused(tmp_path, name):
    task = next(iter(CHECKS[name].tasks))
    values = yaml.safe_load(_spec_text(task, check_criterion(name, task)))
    for setting in CHECKS[name].requires:
        values.pop(setting.split(".")[0], None)
    with pytest.raises(SpecError) as err:
        parse_spec_text(yaml.safe_dump(values), path=tmp_path / "spec.yaml", check_data=False)
    assert all(setting in str(err.value) for setting in CHECKS[name].requires)


@pytest.mark.parametrize("name", [n for n in criterion_checks() if CHECKS[n].measured_in is None])
def test_a_metric_on_a_check_not_measured_in_one_is_refused(tmp_path, name):
    task = next(iter(CHECKS[name].tasks))
    criterion = {**check_criterion(name, task), "metric": next(iter(METRICS))}
    if METRICS[criterion["metric"]].applies_to(task):
        error = _validates(tmp_path, task, criterion)
        assert error is not None and "acceptance[0].metric" in error


# ---------------------------------------------------------------------- computes
def test_every_claimed_name_is_measured_and_decided(audited):
    task, spec, outcomes, _ = audited
    assert len(outcomes) == len(spec.acceptance) > 0
    for outcome, criterion in zip(outcomes, spec.acceptance, strict=True):
        what = criterion.metric if criterion.kind != "check" else criterion.check
        assert outcome.status in ("pass", "fail", "inconclusive"), (task, what, outcome.reason)
        assert outcome.finding_id is not None and outcome.value is not None, (task, what)


def test_every_check_produces_findings_under_its_own_name(audited):
    task, spec, outcomes, _ = audited
    for outcome, criterion in zip(outcomes, spec.acceptance, strict=True):
        prefix = CHECKS[criterion.check_name].category + "."
        assert outcome.finding_id.startswith(prefix), (criterion, outcome.finding_id)


# ---------------------------------------------------------------------- renders
def test_every_criterion_renders_under_its_catalogue_label(audited):
    _, spec, outcomes, page = audited
    for outcome, criterion in zip(outcomes, spec.acceptance, strict=True):
        assert criterion.label() in outcome.description
        assert outcome.description in page, outcome.description


@pytest.mark.parametrize("name", [*METRICS, *FAIRNESS_METRICS])
def test_report_tables_name_every_metric_by_its_catalogue_label(name):
    entry = METRICS.get(name) or FAIRNESS_METRICS[name]
    assert metric_name(name) == getattr(entry, "short_label", entry.label)


# ---------------------------------------------------------------------- vocabularies
def test_diagnostic_bounds_are_exactly_the_schema_diagnostics():
    schema = load_schema()
    diagnostics = schema["properties"]["evaluation"]["properties"]["diagnostics"]["properties"]
    assert list(DIAGNOSTIC_DIRECTIONS) == list(diagnostics)


def test_the_readme_names_exactly_the_catalogued_names():
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("What can be measured")[1].split("\n\n", 2)[1]
    named = set(re.findall(r"`([a-z0-9_]+)`", section)) - {"sensitive"}
    assert named == {*METRICS, *FAIRNESS_METRICS, *criterion_checks()}


def test_split_words_cover_exactly_the_splits():
    assert tuple(SPLIT_WORDS) == SPLITS
