"""A tuned run through the CLI: the search in results.json, the winner in the resolved spec."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from auditor.cli import main  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from tests.tuning.tuning_data import problem, spec_values, write_spec  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _schema_errors(results: dict) -> list[str]:
    import jsonschema

    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(results)]


def _check_run(out: Path, folder: Path) -> dict:
    results = json.loads((out / "results.json").read_text())
    assert _schema_errors(results) == []
    tuning = results["tuning"]
    assert "tune" in results["run"]["timings"]
    resolved = (out / "spec.resolved.yaml").read_text()
    assert "# Tuned: model and training hold the values" in resolved
    # the resolved spec reads back (from the original spec's folder) without a search,
    # holding the chosen values, and is the spec results.json records
    copy = folder / "resolved.yaml"
    copy.write_text(resolved, encoding="utf-8")
    again = load_spec(copy)
    assert again.tuning is None and again.values == results["spec"]
    for option, value in tuning["chosen"]["values"].items():
        node = again.values
        for key in option.split("."):
            node = node[key]
        assert node == value, option
    return results


def test_a_tuned_run_records_the_search_and_audits_the_winner(tmp_path, monkeypatch):
    import auditor.report

    # the report reads only results.json (rendered in the slow test below); skipping it
    # keeps this test to the stages the search changes
    monkeypatch.setattr(auditor.report, "render_report", lambda *args, **kwargs: {})
    values = spec_values(trials=3, metric="roc_auc", pruning="median", warmup_epochs=1)
    values["evaluation"] = {"bootstrap": 50, "learning_curve": {"enabled": False}}
    values["data"]["holdout"] = "holdout.csv"
    values["acceptance"] = [{"metric": "roc_auc", "split": "test", "at_least": 0.6}]
    problem(rows=80, seed=4).to_csv(tmp_path / "holdout.csv", index=False)
    spec = write_spec(tmp_path, values)
    out = tmp_path / "out"
    code = main(["run", str(spec), "--out", str(out), "--quiet"])
    assert code in (0, 3), code
    results = _check_run(out, tmp_path)
    tuning = results["tuning"]
    assert tuning["counts"]["run"] == 3 and tuning["metric"] == "roc_auc"
    assert tuning["direction"] == "maximize" and tuning["scored_on"] == "validation"
    assert results["model"]["info"]["train_on"] == "train"
    assert tuning["declared"] == load_spec(spec).values["tuning"]  # what the spec asked for
    assert tuning["baseline"]["number"] is None and tuning["baseline"]["state"] == "complete"
    # the search's findings: what it did, which options mattered, the gain on unseen rows
    ids = {f["id"] for f in results["findings"]}
    assert {"tuning.search", "tuning.importance"} <= ids
    assert any(i.startswith("tuning.tuning_gain") for i in ids)


@pytest.mark.slow
def test_the_bundled_tuning_spec_runs_well_under_a_minute(tmp_path):
    import time

    work = tmp_path / "specs"
    work.mkdir()
    shutil.copy(REPO / "specs" / "loan-tuning.yaml", work / "loan-tuning.yaml")
    start = time.process_time()
    code = main(["run", str(work / "loan-tuning.yaml"), "--out", str(tmp_path / "out"), "--quiet"])
    cpu = time.process_time() - start
    assert code == 1  # the planted bias survives tuning
    results = _check_run(tmp_path / "out", work)
    assert results["tuning"]["counts"]["run"] == 8
    assert cpu < 60, f"{cpu:.1f} s of CPU"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (REPO / "specs").glob("loan-tuning*.yaml")), ids=str
)
def test_each_bundled_search_method_runs_from_its_spec(name):
    """Every bundled tuning spec's search (grid, random, Bayesian) runs, on 3 trials."""
    from auditor.data import build_dataset
    from auditor.tuning import tune
    from auditor.types import Spec

    spec = load_spec(REPO / "specs" / name)
    values = dict(spec.values)
    values["tuning"] = {**values["tuning"], "trials": 3, "seconds": None}
    values["training"] = {**values["training"], "epochs": 4}
    spec = Spec(path=spec.path, values=values, positions=spec.positions)
    dataset = build_dataset(spec)
    tuned, outcome = tune(spec, dataset)
    assert outcome.method == load_spec(REPO / "specs" / name).tuning.method
    assert outcome.counts["run"] == 3 and tuned.tuning is None
    assert outcome.baseline.state == "complete"
