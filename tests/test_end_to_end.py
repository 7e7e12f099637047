"""The bundled examples, run end to end through the CLI as a user would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main

REPO = Path(__file__).resolve().parents[1]


def _run_example(tmp_path_factory, spec_name: str):
    work = tmp_path_factory.mktemp(spec_name)
    shutil.copy(REPO / "specs" / f"{spec_name}.yaml", work / "spec.yaml")
    out = work / "out"
    code = main(["run", str(work / "spec.yaml"), "--out", str(out), "--quiet"])
    return code, out, work


@pytest.fixture(scope="module")
def loan_run(tmp_path_factory):
    return _run_example(tmp_path_factory, "loan-approval")


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_loan_example_is_not_ready_because_of_its_planted_bias(loan_run):
    code, out, _ = loan_run
    results = json.loads((out / "results.json").read_text())
    assert code == 1 == results["verdict"]["exit_code"]
    assert results["verdict"]["status"] == "NOT READY"
    by_metric = {
        (c["criterion"].get("metric"), c["criterion"].get("sensitive")): c
        for c in results["criteria"]
    }
    dpd = by_metric[("demographic_parity_difference", "sex")]
    assert dpd["status"] == "fail"
    assert dpd["value"] > 0.10


def test_loan_example_writes_every_output(loan_run):
    _, out, _ = loan_run
    for name in ("report.pdf", "report.html", "results.json", "spec.resolved.yaml", "timings.json"):
        assert (out / name).stat().st_size > 0, name
    assert list((out / "model").iterdir()), "model artifacts are saved"
    assert not list(out.glob("**/*.tmp")), "no temporary file is left behind"


def test_loan_results_validate_against_the_results_schema(loan_run):
    import jsonschema

    _, out, _ = loan_run
    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads((out / "results.json").read_text()))


def test_loan_pdf_states_the_verdict_and_every_criterion(loan_run):
    _, out, _ = loan_run
    text = " ".join(pdf_text(out / "report.pdf").split())
    results = json.loads((out / "results.json").read_text())
    assert "NOT READY" in text
    for outcome in results["criteria"]:
        assert " ".join(outcome["description"].split()) in text, outcome["description"]


def test_resolved_spec_of_a_run_validates_and_matches(loan_run):
    from auditor.spec import load_spec

    _, out, work = loan_run
    resolved = out / "spec.resolved.yaml"
    # the resolved spec names data relative to the original spec's folder
    copy = work / "resolved-copy.yaml"
    copy.write_text(resolved.read_text())
    spec = load_spec(copy)
    results = json.loads((out / "results.json").read_text())
    assert spec.values == results["spec"]


@pytest.mark.parametrize(
    "spec_name, task", [("triage-multiclass", "multiclass"), ("claims-regression", "regression")]
)
def test_other_examples_run_end_to_end(tmp_path_factory, spec_name, task):
    code, out, _ = _run_example(tmp_path_factory, spec_name)
    results = json.loads((out / "results.json").read_text())
    assert results["data"]["task"] == task
    assert code == results["verdict"]["exit_code"]
    assert code in (0, 1, 3)
    text = pdf_text(out / "report.pdf")
    assert results["verdict"]["status"] in text


def test_an_unwritable_report_output_is_refused_before_training(tmp_path, capsys, monkeypatch):
    import auditor.data
    import auditor.models

    stages_reached: list[str] = []

    def must_not_run(stage):
        def fail(*args, **kwargs):
            stages_reached.append(stage)
            raise AssertionError(f"the {stage} stage ran before the refusal")

        return fail

    # The pipeline looks both up when it runs: the data stage, and the model dispatch
    # (train or vendor), which is the only way into training.
    monkeypatch.setattr(auditor.data, "build_dataset", must_not_run("data"))
    monkeypatch.setattr(auditor.models, "obtain_predictor", must_not_run("train"))

    (tmp_path / "blocker").write_text("a file where the run folder's parent should be")
    spec = (REPO / "specs" / "claims-regression.yaml").read_text()
    spec = spec.replace("report:\n", "report:\n  output: blocker/runs\n", 1)
    spec = spec.replace("data/claims/", str(tmp_path / "data") + "/")
    (tmp_path / "spec.yaml").write_text(spec)
    code = main(["run", str(tmp_path / "spec.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "report.output: must name a folder, but" in err
    # refused before training, not after: neither the data stage nor the model stage was
    # entered, and no run folder, model or results were written
    assert stages_reached == [], "refused before training, not after"
    assert (tmp_path / "blocker").is_file()
    written = {p.name for p in tmp_path.rglob("*")}
    assert not written & {"model", "results.json", "report.pdf", "runs"}, written


def test_pipeline_names_out_when_out_was_given(tmp_path):
    from auditor.errors import UsageError
    from auditor.pipeline import run

    (tmp_path / "blocker").write_text("")
    spec = (REPO / "specs" / "claims-regression.yaml").read_text()
    (tmp_path / "spec.yaml").write_text(spec.replace("data/claims/", str(tmp_path / "d") + "/"))
    with pytest.raises(UsageError, match=r"^.*blocker/x: --out must name a folder"):
        run(tmp_path / "spec.yaml", out=tmp_path / "blocker" / "x")


GATE = """  - metric: roc_auc
    split: test
    change: true
    at_least: -0.01
    rationale: A retrained model may lose at most 0.01 of ROC-AUC against the approved one.
"""


def test_a_retrained_loan_model_is_compared_with_the_approved_run(loan_run, tmp_path):
    """``--against``: the same data, so every change is paired; the gate judges the change."""
    import hashlib

    import jsonschema

    _, approved, work = loan_run
    spec = (work / "spec.yaml").read_text()
    retrained = spec.replace("  epochs: 60\n", "  epochs: 8\n", 1).replace(
        "report:\n", GATE + "report:\n", 1
    )
    assert retrained.count("epochs: 8") == 1 and GATE in retrained
    (work / "retrained.yaml").write_text(retrained)
    out = tmp_path / "retrained"
    code = main(
        [
            "run",
            str(work / "retrained.yaml"),
            "--out",
            str(out),
            "--quiet",
            "--against",
            str(approved),
        ]
    )
    results = json.loads((out / "results.json").read_text())
    before = json.loads((approved / "results.json").read_text())
    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(results)
    assert code == results["verdict"]["exit_code"]

    against = results["against"]
    digest = hashlib.sha256((approved / "results.json").read_bytes()).hexdigest()
    assert against["sha256"] == digest and against["paired"] is True
    now = {f["id"]: f["value"] for f in results["findings"]}
    then = {f["id"]: f["value"] for f in before["findings"]}
    assert {r["finding_id"] for r in against["rows"]} >= {
        "performance.roc_auc.test",
        "performance.roc_auc.holdout",
        "fairness.demographic_parity_difference.test.sex",
    }
    for row in against["rows"]:
        fid = row["finding_id"]
        assert row["current"] == pytest.approx(now[fid]) and row["previous"] == pytest.approx(
            then[fid]
        )
        assert row["change"] == pytest.approx(now[fid] - then[fid], abs=1e-9)
        low, high = row["ci"]
        assert low - 1e-6 <= row["change"] <= high + 1e-6, fid
    assert now["performance.roc_auc.test"] != then["performance.roc_auc.test"], "retrained"

    gate = results["criteria"][-1]
    assert gate["criterion"]["change"] is True
    assert gate["value"] == pytest.approx(
        now["performance.roc_auc.test"] - then["performance.roc_auc.test"], abs=1e-9
    )
    assert gate["status"] == ("pass" if gate["value"] >= -0.01 else "fail")
    text = " ".join(pdf_text(out / "report.pdf").split())
    assert "Against the previous report" in text
    assert digest[:32] in text.replace(" ", "")
    assert "Change in ROC-AUC on the test split against the previous report" in text


def test_a_missing_previous_report_is_refused_before_training(tmp_path, capsys):
    code = main(
        [
            "run",
            str(REPO / "specs" / "claims-regression.yaml"),
            "--out",
            str(tmp_path / "out"),
            "--against",
            str(tmp_path / "nowhere" / "results.json"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("--against: the previous report") and "does not exist" in err
    assert not (tmp_path / "out").exists()


def test_the_loan_report_a_product_manager_signs_is_at_most_twelve_pages(loan_run):
    """The issue's target (the report issue): the bundled loan example in at most 12 pages,
    with every criterion still on page one."""
    from pypdf import PdfReader

    _, out, _ = loan_run
    reader = PdfReader(out / "report.pdf")
    assert len(reader.pages) <= 12
    first = " ".join((reader.pages[0].extract_text() or "").split())
    results = json.loads((out / "results.json").read_text())
    for outcome in results["criteria"]:
        assert " ".join(outcome["description"].split()) in first, outcome["description"]
