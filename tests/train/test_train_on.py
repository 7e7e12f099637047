"""``training.train_on`` and the engine's per-epoch hook (what the tuning stage uses)."""

from __future__ import annotations

import numpy as np
import pytest


def test_train_and_validation_trains_on_both_splits_for_the_epochs_given(make_run):
    from auditor.train import train_model

    stopping = {"enabled": False}
    spec, dataset = make_run(training={"epochs": 4, "early_stopping": stopping})
    alone = train_model(spec, dataset)
    both_spec, _ = make_run(
        training={"epochs": 4, "early_stopping": stopping, "train_on": "train_and_validation"}
    )
    both = train_model(both_spec, dataset)
    n_train, n_val = len(dataset.y["train"]), len(dataset.y["validation"])
    assert alone.info["train_on"] == "train" and alone.info["train_rows"] == n_train
    assert both.info["train_on"] == "train_and_validation"
    assert both.info["train_rows"] == n_train + n_val
    assert both.info["epochs_run"] == both.info["kept_epoch"] == 4
    assert both.fingerprint() != alone.fingerprint()


def test_the_hook_sees_every_epoch_and_the_kept_epoch_is_recorded(make_run):
    from auditor.train import train_model
    from auditor.train.monitor import metric_value

    spec, dataset = make_run(training={"epochs": 30, "early_stopping": {"patience": 2}})
    calls = []
    model = train_model(
        spec, dataset, on_epoch=lambda e, loss, s, measured: calls.append((e, loss, s))
    )
    history = model.history
    assert [c[0] for c in calls] == [row["epoch"] for row in history]
    np.testing.assert_allclose([c[1] for c in calls], [row["val_loss"] for row in history])
    info = model.info
    assert info["stopped_early"] and info["kept_epoch"] == info["best_epoch"] < info["epochs_run"]
    # the scores handed over are those of that epoch: the kept epoch's are the model's own
    kept_scores = calls[info["kept_epoch"] - 1][2]
    np.testing.assert_allclose(kept_scores, model.predict(dataset, "validation"), rtol=1e-5)
    y = dataset.y["validation"]
    assert metric_value("roc_auc", "binary", y, kept_scores) == pytest.approx(
        metric_value("roc_auc", "binary", y, model.predict(dataset, "validation")), abs=1e-6
    )


def test_an_exception_from_the_hook_ends_training(make_run):
    from auditor.train import train_model

    spec, dataset = make_run(training={"epochs": 10})

    class Stop(Exception):
        pass

    def stop_at_two(epoch, loss, scores, measured):
        if epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        train_model(spec, dataset, on_epoch=stop_at_two)
