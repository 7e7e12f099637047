"""Done when: an in-memory scikit-learn model audited on a DataFrame through the Python API
gets the same numbers (criteria values and intervals, verdict, exit code) as the command
line on the same data written to CSV and the same model saved with skops."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skops.io as sio

import auditor
from auditor.cli import main
from auditor.fingerprint import sha256_file
from tests.api.tiny import tiny_frame, tiny_model, tiny_spec


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same audit twice: in memory through the API, from files through the CLI."""
    root = tmp_path_factory.mktemp("same")
    frame = tiny_frame()
    model = tiny_model(frame)
    in_memory = auditor.run(tiny_spec(frame), out=root / "api", model=model)

    frame.to_csv(root / "train.csv", index=False)
    sio.dump(model, root / "model.skops")
    spec = tiny_spec("train.csv")
    spec["model"] = {"vendor": {"format": "skops", "path": "model.skops"}}
    (root / "spec.yaml").write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML
    code = main(["run", str(root / "spec.yaml"), "--out", str(root / "cli"), "--quiet"])
    from_files = auditor.AuditResult.read(root / "cli" / "results.json")
    return in_memory, from_files, code, root


def test_same_verdict_and_exit_code(both):
    in_memory, from_files, code, _ = both
    assert in_memory.verdict == from_files.verdict == "NOT READY"  # the planted bias fails
    assert in_memory.exit_code == from_files.exit_code == code == 1


def test_same_criteria_values_and_intervals(both):
    in_memory, from_files, _, _ = both
    api, cli = in_memory.criteria_frame(), from_files.criteria_frame()
    assert list(api["status"]) == list(cli["status"]) == ["pass", "fail", "fail"]
    for column in ("value", "ci_low", "ci_high", "bound", "margin"):
        np.testing.assert_allclose(
            api[column].astype(float), cli[column].astype(float), rtol=1e-9, atol=1e-12
        )
    assert list(api["description"]) == list(cli["description"])


def test_same_headline_metrics_per_split(both):
    in_memory, from_files, _, _ = both
    api = in_memory.results["evaluation"]["metrics"]
    cli = from_files.results["evaluation"]["metrics"]
    assert api.keys() == cli.keys() and api
    for split in api:
        for metric, figure in api[split].items():
            np.testing.assert_allclose(figure["value"], cli[split][metric]["value"], rtol=1e-9)


def test_the_frame_has_the_fingerprint_of_its_csv_file(both):
    in_memory, from_files, _, root = both
    (api_source,) = in_memory.results["data"]["sources"]
    (cli_source,) = from_files.results["data"]["sources"]
    assert api_source["sha256"] == cli_source["sha256"] == sha256_file(root / "train.csv")
    assert api_source["format"] == "dataframe" and "to_csv" in api_source["hashed"]
    assert api_source["path"] == "<DataFrame train>"


def test_the_model_fingerprint_says_what_was_hashed(both):
    in_memory, from_files, _, root = both
    api_model, cli_model = in_memory.results["model"], from_files.results["model"]
    assert api_model["kind"] == "vendor:python" and cli_model["kind"] == "vendor:skops"
    assert cli_model["fingerprint"] == sha256_file(root / "model.skops")
    assert api_model["info"]["in_memory"] == "estimator"
    assert "get_params" in api_model["info"]["hashed"]
    assert api_model["info"]["object"] == "sklearn.linear_model._logistic.LogisticRegression"


def test_the_report_says_what_was_hashed_for_what_was_in_memory(both):
    from tests.report.conftest import pdf_text

    in_memory, from_files, _, root = both
    (api_pdf,) = (root / "api").rglob("report.pdf")
    (cli_pdf,) = (root / "cli").rglob("report.pdf")
    text = " ".join(pdf_text(api_pdf)[0].split())
    assert "SHA-256 of the CSV text DataFrame.to_csv(index=False)" in text
    assert "get_params" in text and "LogisticRegression" in text
    assert "SHA-256 of the canonical JSON of the spec mapping" in text
    assert "SHA-256 of" not in " ".join(pdf_text(cli_pdf)[0].split()), "files need no gloss"
    html = next((root / "api").rglob("report.html")).read_text()
    assert "SHA-256 of the CSV text" in html


def test_next_steps_address_the_caller_for_a_model_in_memory_and_the_vendor_for_a_file(both):
    from auditor.words import CALLER, VENDOR

    in_memory, from_files, _, _ = both
    mine = in_memory.results["verdict"]["next_steps"]
    theirs = from_files.results["verdict"]["next_steps"]
    assert len(mine) == len(theirs) >= 2  # the planted bias and the advisory accuracy
    assert not any("vendor" in step.lower() for step in mine)
    assert any(step.startswith("Check why a and b are treated differently") for step in mine)
    assert sum("ask the vendor" in step.lower() for step in theirs) >= 2
    # the same steps, addressed to someone else: the vendor's words in place of the caller's
    swapped = [
        step.replace(CALLER.opening, VENDOR.opening).replace(f" {CALLER.ask} ", f" {VENDOR.ask} ")
        for step in mine
    ]
    assert swapped == theirs
