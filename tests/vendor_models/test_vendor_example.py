"""The bundled vendor audit example: valid spec, model created on first use, offline."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from vendor_helpers import ROOT

from auditor.spec import load_spec
from auditor.spec.typed import typed_spec
from auditor.vendor_models.example import (
    LOAN_SCORECARD_FEATURES,
    MSG_UNKNOWN_EXAMPLE,
    ensure_vendor_example,
)

SPEC = ROOT / "specs" / "vendor-audit.yaml"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example spec's values, with its vendor model created in a temporary folder."""
    base = tmp_path_factory.mktemp("vendor_example")
    values = load_spec(SPEC, check_data=False).values
    values["data"]["generate"]["rows"] = 1000  # smaller than the bundled 6000, same code
    ensure_vendor_example(typed_spec(values), base)
    return values, base


def test_example_spec_is_valid_against_the_schema():
    values = load_spec(SPEC, check_data=False).values  # the schema and the cross-field rules
    vendor = values["model"]["vendor"]
    assert vendor["format"] == "skops" and vendor["example"] == "loan-scorecard"
    assert values["data"]["generate"]["example"] == "loan"
    assert any(c.get("split") == "holdout" for c in values["acceptance"])
    fairness = [c for c in values["acceptance"] if c.get("sensitive")]
    assert any(
        c["metric"] == "demographic_parity_difference" and c["split"] == "holdout" for c in fairness
    )


def test_model_file_is_created_once_and_its_trusted_types_are_exact(example):
    import skops.io as sio

    values, base = example
    path = base / values["model"]["vendor"]["path"]
    assert path.is_file()
    # the spec trusts exactly what the file needs, no more
    assert sio.get_untrusted_types(file=str(path)) == values["model"]["vendor"]["trusted_types"]
    before = (path.stat().st_mtime_ns, path.read_bytes())
    ensure_vendor_example(typed_spec(values), base)  # exists: left alone
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_example_model_is_deterministic(example, tmp_path):
    values, base = example
    ensure_vendor_example(typed_spec(values), tmp_path)
    rel = values["model"]["vendor"]["path"]
    import skops.io as sio

    from auditor.data.examples import generate

    a = sio.load(base / rel, trusted=values["model"]["vendor"]["trusted_types"])
    b = sio.load(tmp_path / rel, trusted=values["model"]["vendor"]["trusted_types"])
    frame = generate("loan", 300, 99)[list(LOAN_SCORECARD_FEATURES)]
    np.testing.assert_array_equal(a.predict_proba(frame), b.predict_proba(frame))


def test_example_model_ranks_well_and_carries_the_planted_bias(example):
    """Ground truth of the loan generator: merit drives approval, women are penalised.

    The vendor model never reads sex, yet it learns the bias through its proxies (income,
    occupation): at the 0.5 threshold women are selected clearly less often than men.
    """
    import skops.io as sio
    from sklearn.metrics import roc_auc_score

    from auditor.data.examples import generate

    values, base = example
    model = sio.load(
        base / values["model"]["vendor"]["path"], trusted=values["model"]["vendor"]["trusted_types"]
    )
    assert "sex" not in list(model.feature_names_in_)
    client = generate("loan", 3000, 12345, shift=1.0)
    scores = model.predict_proba(client[list(model.feature_names_in_)])[:, 1]
    assert roc_auc_score(client["approved"], scores) > 0.70
    selected = scores >= 0.5
    gap = selected[client["sex"] == "male"].mean() - selected[client["sex"] == "female"].mean()
    assert gap > 0.10  # the spec's demographic-parity bound (0.10) must fail


def test_only_declared_examples_are_created(tmp_path):
    values = load_spec(SPEC, check_data=False).values
    values["model"]["vendor"]["example"] = None
    # a real audit's missing file is never fabricated
    ensure_vendor_example(typed_spec(values), tmp_path)
    assert not (tmp_path / values["model"]["vendor"]["path"]).exists()
    values["model"]["vendor"]["example"] = "nope"
    with pytest.raises(ValueError, match=MSG_UNKNOWN_EXAMPLE.split("{")[0]):
        ensure_vendor_example(typed_spec(values), tmp_path)


@pytest.mark.slow
def test_example_through_spec_loader_and_data_stage(tmp_path):
    """The real stages: spec loader, data stage (which generates everything), vendor loader."""
    from auditor.data import build_dataset
    from auditor.vendor_models import load_vendor_model

    shutil.copy(SPEC, tmp_path / SPEC.name)
    spec = load_spec(tmp_path / SPEC.name, check_data=False)
    dataset = build_dataset(spec)
    predictor = load_vendor_model(spec, dataset)
    assert predictor.kind == "vendor:skops" and predictor.info["pickle_loaded"] is False
    for split in dataset.splits:
        scores = predictor.predict(dataset, split)
        assert scores.shape == (len(dataset.y[split]),)
        assert np.all((scores >= 0) & (scores <= 1))
