"""The bundled vendor specs, one per delivery format, run whole on smaller copies.

Each copy is written next to its own temporary data folder (relative paths in a spec are
relative to the spec file), so the data and the example vendor file are generated there.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pytest
import yaml
from vendor_helpers import ROOT

from auditor.errors import AuditorError, ExitCode
from auditor.spec import load_spec
from auditor.vendor_models.example_models import (
    LOAN_NUMERIC_FEATURES,
    loan_onnx,
    loan_scores_csv,
    loan_torchscript,
)
from auditor.vendor_models.files import MSG_MISSING

#: spec file -> the format it audits
SPECS = {
    "vendor-audit.yaml": "skops",
    "vendor-predictions.yaml": "predictions",
    "vendor-onnx.yaml": "onnx",
    "vendor-torchscript.yaml": "torchscript",
}
VERDICT_CODES = (0, 1, 3)
ROWS = 1500


def _small_copy(name: str, folder, **vendor) -> tuple:
    """A smaller copy of a bundled spec in ``folder``: (its path, its values)."""
    values = yaml.safe_load((ROOT / "specs" / name).read_text(encoding="utf-8"))
    values["data"]["generate"]["rows"] = ROWS
    evaluation = values.setdefault("evaluation", {})
    evaluation["bootstrap"] = 200
    evaluation["learning_curve"] = {"enabled": False}
    evaluation["drift"] = {"domain_classifier": False}  # the slowest check; tested elsewhere
    evaluation["intersections"] = False  # fewer findings: a shorter report to render
    values["model"]["vendor"].update(vendor)
    path = folder / name
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path, values


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", params=list(SPECS))
def audited(request, tmp_path_factory):
    """One whole run of a bundled vendor spec's small copy, and what it created."""
    from threadpoolctl import threadpool_limits

    from auditor import pipeline

    folder = tmp_path_factory.mktemp(request.param.removesuffix(".yaml"))
    path, values = _small_copy(request.param, folder)
    model_file = folder / values["model"]["vendor"]["path"]
    assert not model_file.exists()
    with threadpool_limits(limits=1, user_api="openmp"):
        outcome = pipeline.run(path, out=folder / "out", quiet=True)
    return request.param, path, model_file, outcome


def test_bundled_spec_runs_to_a_verdict_on_its_format(audited):
    name, _, model_file, outcome = audited
    results = outcome.results
    assert outcome.exit_code in VERDICT_CODES
    assert results["verdict"]["exit_code"] == outcome.exit_code
    assert results["model"]["kind"] == f"vendor:{SPECS[name]}"
    assert results["model"]["fingerprint"] == _digest(model_file)  # the created file was audited
    undecided = [c["description"] for c in results["criteria"] if c["status"] == "error"]
    assert not undecided
    assert (outcome.out_dir / "report.pdf").stat().st_size > 0


def test_bundled_spec_measures_the_planted_bias(audited):
    """None of the vendor models reads sex; all favour men through the proxies they read."""
    criteria = audited[3].results["criteria"]
    (dpd,) = [
        c
        for c in criteria
        if c["criterion"].get("metric") == "demographic_parity_difference"
        and c["criterion"].get("sensitive") == "sex"
    ]
    assert dpd["value"] > 0.03


def test_example_files_are_created_once_and_reused(audited):
    from auditor.data.examples import ensure_example_data

    _, path, model_file, _ = audited
    before = (model_file.stat().st_mtime_ns, _digest(model_file))
    spec = load_spec(path, check_data=False)
    assert ensure_example_data(spec.typed, spec.base_dir) == []  # the data files exist too
    assert (model_file.stat().st_mtime_ns, _digest(model_file)) == before
    assert not list(model_file.parent.glob("*.tmp")), "written atomically"


@pytest.mark.parametrize("name", [n for n, f in SPECS.items() if f != "skops"])
def test_a_missing_vendor_file_is_refused_not_fabricated(name, tmp_path):
    from auditor import pipeline

    path, values = _small_copy(name, tmp_path, example=None)
    with pytest.raises(AuditorError, match=MSG_MISSING) as refused:  # the loader's own check
        pipeline.run(path, out=tmp_path / "out", quiet=True)
    assert refused.value.exit_code == ExitCode.INVALID_INPUT
    assert not (tmp_path / values["model"]["vendor"]["path"]).exists()


@pytest.fixture(scope="module")
def client_files(tmp_path_factory):
    """A small client train file and holdout file of the loan generator."""
    from auditor.data.examples import generate, write_table

    folder = tmp_path_factory.mktemp("client")
    files = [folder / "history.csv", folder / "recent.csv"]
    write_table(generate("loan", 400, 5), files[0])
    write_table(generate("loan", 100, 6, shift=1.0), files[1])
    return files


def _client_rows(n: int = 300):
    from auditor.data.examples import generate

    return generate("loan", n, 77, shift=1.0)


def test_scores_file_is_deterministic_and_covers_every_row(client_files):
    import pandas as pd

    from auditor.vendor_models.example import _loan_scorecard

    model = _loan_scorecard(600, 3)
    first = loan_scores_csv(model, client_files, id_column="applicant_id")
    assert first == loan_scores_csv(_loan_scorecard(600, 3), client_files, id_column="applicant_id")
    scores = pd.read_csv(io.BytesIO(first))
    ids = pd.concat([pd.read_csv(f)["applicant_id"] for f in client_files])
    assert list(scores.columns) == ["applicant_id", "score"]
    assert scores["applicant_id"].tolist() == ids.tolist() and scores["applicant_id"].is_unique
    assert scores["score"].between(0, 1).all()


def test_onnx_example_is_deterministic_and_reads_raw_columns():
    import onnxruntime as ort

    model = loan_onnx(800, 4)
    assert model == loan_onnx(800, 4)
    assert model != loan_onnx(800, 5)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    frame = _client_rows()
    feeds = {}
    for node in session.get_inputs():
        col = frame[node.name]
        if node.type == "tensor(string)":
            feeds[node.name] = col.astype(str).to_numpy(dtype=object)[:, None]
        else:
            feeds[node.name] = col.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
    assert "sex" not in feeds and {"income", "occupation"} <= set(feeds)
    (scores,) = session.run(None, feeds)
    assert scores.shape == (len(frame), 1)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def _torchscript_scores(data: bytes, frame) -> np.ndarray:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript
        module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    x = torch.from_numpy(frame[list(LOAN_NUMERIC_FEATURES)].to_numpy(np.float32, na_value=np.nan))
    with torch.inference_mode():
        return module(x).numpy()


def test_torchscript_example_is_deterministic():
    frame = _client_rows()
    model = loan_torchscript(800, 4)
    assert model == loan_torchscript(800, 4)  # same bytes, not only the same predictions
    first = _torchscript_scores(model, frame)
    assert first.shape == (len(frame),) and np.isfinite(first).all()  # missing values handled
    assert not np.array_equal(first, _torchscript_scores(loan_torchscript(800, 5), frame))
