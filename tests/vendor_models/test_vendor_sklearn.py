"""Formats 'skops' and 'pickle': scikit-learn models trained here, predictions compared."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from vendor_helpers import make_spec, one_line_error

from auditor.errors import ModelFileError
from auditor.vendor_models import load_vendor_model, pickle_model, skops_model

TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
NUMPY_DTYPE = "numpy.dtype"  # SimpleImputer keeps its fitted dtype; skops 0.16 does not trust it


def _raw_pipeline(dataset, columns, estimator):
    frame = dataset.frames["train"][columns]
    categorical = [
        c for c in columns if dataset.column_types.get(c, "categorical") == "categorical"
    ]
    numeric = [c for c in columns if c not in categorical]
    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ),
        estimator,
    )
    return pipe.fit(frame, dataset.frames["train"][dataset.target].to_numpy())


def test_skops_logistic_regression_on_preprocessed_matrix(tmp_path, loan):
    model = LogisticRegression(max_iter=500).fit(loan.X["train"], loan.y["train"])
    sio.dump(model, tmp_path / "m.skops")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="skops", path="m.skops", input="preprocessed"), loan
    )
    assert predictor.kind == "vendor:skops" and predictor.has_scores
    for split in loan.frames:
        np.testing.assert_allclose(
            predictor.predict(loan, split),
            model.predict_proba(loan.X[split])[:, 1],
            rtol=0,
            atol=1e-12,
        )


def test_skops_pipeline_on_raw_columns_multiclass_reorders_classes(tmp_path, triage):
    columns = list(triage.feature_columns)
    model = _raw_pipeline(triage, columns, LogisticRegression(max_iter=1000))
    assert list(model.classes_) == ["high", "low", "medium"]  # sorted, unlike the target's order
    sio.dump(model, tmp_path / "m.skops")
    predictor = load_vendor_model(
        make_spec(tmp_path, triage, format="skops", path="m.skops", trusted_types=[NUMPY_DTYPE]),
        triage,
    )
    proba = model.predict_proba(triage.frames["holdout"][columns])
    expected = proba[:, [1, 2, 0]]  # low, medium, high
    np.testing.assert_allclose(predictor.predict(triage, "holdout"), expected, atol=1e-12)


def test_raw_pipeline_reading_a_sensitive_column_is_noted(tmp_path, loan):
    columns = ["credit_score", "income", "sex"]
    model = _raw_pipeline(loan, columns, LogisticRegression(max_iter=500))
    sio.dump(model, tmp_path / "m.skops")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="skops", path="m.skops", trusted_types=[NUMPY_DTYPE]), loan
    )
    notes = " | ".join(predictor.info["notes"])
    assert "reads the sensitive column(s) 'sex'" in notes
    assert "not read by the vendor model" in notes  # it ignores most feature columns
    np.testing.assert_allclose(
        predictor.predict(loan, "test"),
        model.predict_proba(loan.frames["test"][columns])[:, 1],
        atol=1e-12,
    )


def test_untrusted_skops_type_is_refused_then_trusted(tmp_path, loan_numeric):
    ds = loan_numeric
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
        ds.X["train"], ds.y["train"]
    )
    sio.dump(model, tmp_path / "hgb.skops")
    assert sio.get_untrusted_types(file=str(tmp_path / "hgb.skops")) == [TREE_PREDICTOR]
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, ds, format="skops", path="hgb.skops", input="preprocessed"), ds
        )
    text = one_line_error(excinfo)
    assert skops_model.MSG_UNTRUSTED.format(types=TREE_PREDICTOR) in text
    assert excinfo.value.location.path == ("model", "vendor", "trusted_types")

    predictor = load_vendor_model(
        make_spec(
            tmp_path,
            ds,
            format="skops",
            path="hgb.skops",
            input="preprocessed",
            trusted_types=[TREE_PREDICTOR],
        ),
        ds,
    )
    assert predictor.info["trusted_types"] == [TREE_PREDICTOR]
    np.testing.assert_allclose(
        predictor.predict(ds, "validation"),
        model.predict_proba(ds.X["validation"])[:, 1],
        atol=1e-12,
    )


def test_pickle_refused_by_default_and_flagged_when_allowed(tmp_path, claims):
    model = LinearRegression().fit(claims.X["train"], claims.y["train"])
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, claims, format="pickle", path="m.pkl", input="preprocessed"), claims
        )
    assert excinfo.value.message == pickle_model.MSG_REFUSED
    assert excinfo.value.location.path == ("model", "vendor", "allow_pickle")

    predictor = load_vendor_model(
        make_spec(
            tmp_path, claims, format="pickle", path="m.pkl", input="preprocessed", allow_pickle=True
        ),
        claims,
    )
    assert predictor.info["pickle_loaded"] is True
    assert pickle_model.MSG_NOTE_LOADED in predictor.info["notes"]
    np.testing.assert_allclose(
        predictor.predict(claims, "holdout"), model.predict(claims.X["holdout"]), rtol=1e-12
    )


def test_model_without_predict_proba_gives_labels(tmp_path, loan):
    model = LinearSVC().fit(loan.X["train"], loan.y["train"])
    sio.dump(model, tmp_path / "svc.skops")
    predictor = load_vendor_model(
        make_spec(tmp_path, loan, format="skops", path="svc.skops", input="preprocessed"), loan
    )
    assert predictor.has_scores is False
    np.testing.assert_array_equal(
        predictor.predict(loan, "test"), model.predict(loan.X["test"]).astype(float)
    )


def test_width_and_classes_mismatch(tmp_path, loan, triage):
    model = LogisticRegression(max_iter=500).fit(loan.X["train"][:, :3], loan.y["train"])
    sio.dump(model, tmp_path / "narrow.skops")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, loan, format="skops", path="narrow.skops", input="preprocessed"),
            loan,
        )
    assert (
        f"expects 3 input column(s); input 'preprocessed' gives {loan.X['train'].shape[1]}"
        in one_line_error(excinfo)
    )

    # a binary model where the target has three classes
    yb = (triage.y["train"] == 0).astype(int)
    sio.dump(LogisticRegression(max_iter=500).fit(triage.X["train"], yb), tmp_path / "b.skops")
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, triage, format="skops", path="b.skops", input="preprocessed"),
            triage,
        )
    assert (
        "the model's classes [0, 1] do not match the target's classes ['low', 'medium', 'high']"
    ) in one_line_error(excinfo)


def test_pickle_of_something_else_is_refused(tmp_path, loan):
    (tmp_path / "d.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(ModelFileError) as excinfo:
        load_vendor_model(
            make_spec(tmp_path, loan, format="pickle", path="d.pkl", allow_pickle=True), loan
        )
    assert "the file holds a builtins.dict, not a model with a predict method" in one_line_error(
        excinfo
    )


def test_batches_give_the_same_scores(tmp_path, triage):
    model = LogisticRegression(max_iter=500).fit(triage.X["train"], triage.y["train"])
    sio.dump(model, tmp_path / "m.skops")
    spec = make_spec(tmp_path, triage, format="skops", path="m.skops", input="preprocessed")
    whole = load_vendor_model(spec, triage).predict(triage, "train")
    batched = load_vendor_model(spec, triage, batch_rows=13).predict(triage, "train")
    # batches of 13 rows against one batch: the same rows in the same order, but BLAS may
    # sum in another order for another shape (a one-row batch is a matrix-vector product),
    # so equal to the rounding of the arithmetic's dtype, not bitwise; scikit-learn 1.9
    # computes in the input's dtype, the preprocessed matrix's float32
    eps = np.finfo(np.result_type(triage.X["train"].dtype, np.float32)).eps
    np.testing.assert_allclose(whole, batched, rtol=16 * eps, atol=16 * eps)
    # fitted on the encoded target, the model knows its classes as 0, 1, 2: read as indices
    assert list(model.classes_) == [0, 1, 2]
    np.testing.assert_allclose(whole, model.predict_proba(triage.X["train"]), atol=1e-12)
