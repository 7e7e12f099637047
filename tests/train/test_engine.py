"""The training engine on generated problems with known structure."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, r2_score, recall_score, roc_auc_score
from train_problems import binary_fit_inputs, problem

from auditor.errors import SpecError
from auditor.train import loop, train_model
from auditor.train.optim import OPTIMIZERS, SCHEDULES

NO_STOP = {"early_stopping": {"enabled": False}}
LEARNING_RATES = {"sgd": 0.1, "adagrad": 0.05, "rmsprop": 0.003}


def _bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_optimizer_and_schedule_learns(make_run, optimizer, schedule):
    momentum = 0.0 if optimizer == "rmsprop" else 0.9  # rmsprop with momentum is fragile here
    spec, ds = make_run(
        training={
            "optimizer": optimizer,
            "momentum": momentum,
            "schedule": {"name": schedule, "step_size": 3},
            "epochs": 8,
            "learning_rate": LEARNING_RATES.get(optimizer, 0.01),
            **NO_STOP,
        }
    )
    p = train_model(spec, ds)
    first, last = p.history[0], p.history[-1]
    assert last["train_loss"] < first["train_loss"]
    assert last["val_loss"] < 0.45 < _bce(ds.y["validation"], np.full(len(ds.y["validation"]), 0.5))
    assert roc_auc_score(ds.y["test"], p.predict(ds, "test")) > 0.9
    lrs = [h["lr"] for h in p.history]
    if schedule == "constant":
        assert len(set(lrs)) == 1
    elif schedule == "step":
        assert lrs[3] == pytest.approx(lrs[0] * 0.5) and lrs[2] == lrs[0]
    elif schedule == "cosine":
        assert lrs[-1] < lrs[0] / 5
    elif schedule == "onecycle":
        assert max(lrs) > 2 * lrs[0] and lrs[-1] < max(lrs) / 10


def test_plateau_schedule_decays_when_validation_stalls(make_run):
    spec, ds = make_run(
        training={
            "schedule": {"name": "plateau", "patience": 0, "gamma": 0.5},
            "learning_rate": 0.05,
            "epochs": 25,
            **NO_STOP,
        },
        model={"hidden": [128, 128]},
    )
    lrs = [h["lr"] for h in train_model(spec, ds).history]
    assert min(lrs) < lrs[0]


def _overfitting_run(make_run, **stopping):
    frame = problem("binary", n=300, seed=2)
    frame["y"] = np.where(
        np.random.default_rng(1).uniform(size=300) < 0.3, 1 - frame.y, frame.y
    )  # label noise
    return make_run(
        frame=frame,
        training={
            "learning_rate": 0.02,
            "epochs": 80,
            "batch_size": 32,
            "early_stopping": {"patience": 4, **stopping},
        },
        model={"hidden": [256, 256]},
    )


def test_early_stopping_restores_the_best_weights(make_run):
    spec, ds = _overfitting_run(make_run)
    p = train_model(spec, ds)
    assert p.info["stopped_early"] and p.info["stop_reason"] == "early_stopping"
    best = p.info["best_epoch"]
    assert p.info["epochs_run"] == best + 4
    val_losses = [h["val_loss"] for h in p.history]
    assert best == int(np.argmin(val_losses)) + 1
    now = _bce(ds.y["validation"], p.predict(ds, "validation"))
    assert now == pytest.approx(val_losses[best - 1], abs=1e-5)
    assert now < val_losses[-1] - 1e-4  # the last epoch was worse; its weights were discarded


def test_without_restore_the_last_weights_stay(make_run):
    spec, ds = _overfitting_run(make_run, restore_best=False)
    p = train_model(spec, ds)
    now = _bce(ds.y["validation"], p.predict(ds, "validation"))
    assert now == pytest.approx(p.history[-1]["val_loss"], abs=1e-5)


def test_early_stopping_on_a_metric(make_run):
    spec, ds = _overfitting_run(make_run, metric="roc_auc", min_delta=0.001)
    p = train_model(spec, ds)
    aucs = [h["val_metric"] for h in p.history]
    assert p.info["val_metric_name"] == "roc_auc" and p.info["monitor"] == "roc_auc"
    assert p.info["best_epoch"] == int(np.argmax(aucs)) + 1
    assert roc_auc_score(ds.y["validation"], p.predict(ds, "validation")) == pytest.approx(
        max(aucs), abs=1e-6
    )


def test_unknown_monitor_metric_is_a_spec_error(make_run):
    spec, ds = make_run(training={"early_stopping": {"metric": "r2"}})
    with pytest.raises(
        SpecError, match="unknown early-stopping metric 'r2' for a binary task"
    ) as err:
        train_model(spec, ds)
    assert err.value.location.path == ("training", "early_stopping", "metric")


def test_time_budget_stops_training(make_run):
    spec, ds = make_run(training={"epochs": 100000, "time_budget": 0.3, **NO_STOP})
    p = train_model(spec, ds)
    assert p.info["stop_reason"] == "time_budget" and 1 <= p.info["epochs_run"] < 100000
    assert sum(h["seconds"] for h in p.history) < 3.0


@pytest.mark.parametrize("imbalance", ["class_weights", "oversample"])
def test_imbalance_handling_raises_minority_recall(make_run, imbalance):
    frame = problem("binary", n=3000, seed=4, minority=0.08)
    common = {"training": {"epochs": 10, **NO_STOP}, "model": {"architecture": "linear"}}
    spec0, ds0 = make_run(frame=frame, **common)
    spec1, ds1 = make_run(frame=frame, preprocessing={"imbalance": imbalance}, **common)
    assert np.array_equal(ds0.y["test"], ds1.y["test"])
    base = recall_score(ds0.y["test"], train_model(spec0, ds0).predict(ds0, "test") >= 0.5)
    p1 = train_model(spec1, ds1)
    treated = recall_score(ds1.y["test"], p1.predict(ds1, "test") >= 0.5)
    assert p1.info["imbalance"] == imbalance
    assert treated > base + 0.2, (base, treated)


def test_augmentation_touches_training_batches_only(make_run, monkeypatch):
    spec, ds = make_run(augmentation={"gaussian_noise": 0.5}, training={"epochs": 3, **NO_STOP})
    seen_in, seen_out = [], []
    original = loop.augment

    def spy(xb, yb, **kw):
        out = original(xb, yb, **kw)
        seen_in.append(xb.clone())
        seen_out.append(out[0].clone())
        return out

    monkeypatch.setattr(loop, "augment", spy)
    p = train_model(spec, ds)
    steps = int(np.ceil(len(ds.y["train"]) / 64))
    assert len(seen_in) == 3 * steps
    rows = {tuple(r) for r in ds.X["train"].tolist()}
    batch_rows = torch.cat(seen_in).tolist()
    assert all(tuple(r) in rows for r in batch_rows)  # only training rows were augmented
    numeric = np.array([n.startswith("num__") for n in ds.feature_names])
    diff = (torch.cat(seen_out) - torch.cat(seen_in)).abs().numpy()
    assert (diff[:, ~numeric] == 0).all() and (diff[:, numeric] > 0).mean() > 0.99
    assert np.array_equal(
        p.predict(ds, "validation"), p.predict(ds, "validation")
    )  # no noise at inference


def test_mixup_mixes_training_rows(make_run, monkeypatch):
    spec, ds = make_run(augmentation={"mixup": 0.4}, training={"epochs": 2, **NO_STOP})
    lams = []
    original = loop.augment

    def spy(xb, yb, **kw):
        out = original(xb, yb, **kw)
        lams.append(out[3])
        return out

    monkeypatch.setattr(loop, "augment", spy)
    p = train_model(spec, ds)
    assert lams and all(0 < lam < 1 for lam in lams)
    assert roc_auc_score(ds.y["test"], p.predict(ds, "test")) > 0.9


class SpyDict(dict):
    """Records which splits were read."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def items(self):
        self.read.update(self.keys())
        return super().items()

    def values(self):
        self.read.update(self.keys())
        return super().values()


def test_test_and_holdout_never_reach_training(make_run, monkeypatch):
    spec, ds = make_run(
        holdout=problem("binary", n=200, seed=8),
        training={"early_stopping": {"metric": "f1"}, "epochs": 4},
    )
    ds.X, ds.y = SpyDict(ds.X), SpyDict(ds.y)
    ds.frames, ds.groups = SpyDict(ds.frames), SpyDict(ds.groups)
    captured = {}
    original = loop.fit

    def spy(model, cfg, **kw):
        captured.update(kw)
        return original(model, cfg, **kw)

    monkeypatch.setattr(loop, "fit", spy)
    train_model(spec, ds)
    assert ds.X.read == {"train", "validation"} and ds.y.read <= {"train", "validation"}
    assert not ds.frames.read and not ds.groups.read
    assert torch.equal(captured["X_val"], torch.from_numpy(ds.X["validation"]))
    assert torch.equal(captured["X_train"], torch.from_numpy(ds.X["train"]))


def test_train_rows_selects_a_fraction(make_run, monkeypatch):
    spec, ds = make_run(training={"epochs": 2})
    rows = np.arange(0, len(ds.y["train"]), 3)
    captured = {}
    original = loop.fit
    monkeypatch.setattr(
        loop, "fit", lambda m, c, **kw: (captured.update(kw), original(m, c, **kw))[1]
    )
    p = train_model(spec, ds, train_rows=rows)
    assert torch.equal(captured["X_train"], torch.from_numpy(ds.X["train"][rows]))
    assert torch.equal(captured["X_val"], torch.from_numpy(ds.X["validation"]))
    assert p.info["train_rows"] == len(rows)


ARCHS = ["linear", "mlp", "resmlp"]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("arch", ARCHS)
def test_each_architecture_and_task(make_run, arch, task):
    model = {
        "architecture": arch,
        "hidden": [32, 32],
        "dropout": 0.1,
        "batch_norm": arch == "mlp",
        "activation": "gelu" if arch == "resmlp" else "relu",
    }
    spec, ds = make_run(task, model=model, training={"epochs": 25})
    p = train_model(spec, ds)
    scores = p.predict(ds, "test")
    y = ds.y["test"]
    if task == "binary":
        assert scores.shape == (len(y),) and ((scores >= 0) & (scores <= 1)).all()
        assert roc_auc_score(y, scores) > 0.9
    elif task == "multiclass":
        assert scores.shape == (len(y), 3) and np.allclose(scores.sum(axis=1), 1, atol=1e-5)
        assert accuracy_score(y, scores.argmax(axis=1)) > (0.6 if arch == "linear" else 0.75)
    else:
        assert scores.shape == (len(y),)
        assert abs(scores.mean() - y.mean()) < 2  # original units, not standardised
        assert r2_score(y, scores) > 0.8
    assert p.info["architecture"] == arch and p.info["parameters"] > 0
    assert p.info["device"] == "cpu" and p.info["precision"] == "fp32"


def test_same_spec_same_predictions_bitwise(make_run):
    spec, ds = make_run(
        training={"epochs": 5, "gradient_clip": 1.0},
        model={"dropout": 0.2},
        augmentation={"gaussian_noise": 0.1, "mixup": 0.2},
        preprocessing={"imbalance": "oversample"},
    )
    a, b = train_model(spec, ds), train_model(spec, ds)
    assert np.array_equal(a.predict(ds, "test"), b.predict(ds, "test"))
    assert a.info["fingerprint"] == b.info["fingerprint"]
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    reseeded = {**spec.values, "training": {**spec.values["training"], "seed": 1}}
    c = train_model(dataclasses.replace(spec, values=reseeded), ds)
    assert not np.array_equal(a.predict(ds, "test"), c.predict(ds, "test"))


def test_gradient_clipping_is_applied(make_run, monkeypatch):
    spec, ds = make_run(training={"gradient_clip": 0.25, "epochs": 1})
    norms = []
    original = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(
        torch.nn.utils,
        "clip_grad_norm_",
        lambda params, max_norm, **k: norms.append(max_norm) or original(params, max_norm, **k),
    )
    train_model(spec, ds)
    assert norms and set(norms) == {0.25}


def test_history_and_progress_bar(make_run, monkeypatch):
    from auditor.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    stream = Tty()
    spec, ds = make_run(training={"epochs": 3, **NO_STOP})
    p = train_model(spec, ds, progress=Progress(stream=stream))
    assert [h["epoch"] for h in p.history] == [1, 2, 3]
    assert set(p.history[0]) == {"epoch", "train_loss", "val_loss", "val_metric", "lr", "seconds"}
    assert "train" in stream.getvalue() and "val_roc_auc=" in stream.getvalue()
    quiet = io.StringIO()
    train_model(spec, ds, progress=Progress(quiet=True, stream=quiet))
    assert quiet.getvalue() == ""
    monkeypatch.setenv("CI", "true")  # a terminal, but in CI: no bar either
    in_ci = Tty()
    train_model(spec, ds, progress=Progress(stream=in_ci))
    assert in_ci.getvalue() == ""


@pytest.mark.parametrize("dtype, scaler", [(torch.bfloat16, False), (torch.float16, True)])
def test_mixed_precision_path(make_run, dtype, scaler):
    """The autocast / gradient-scaling path the GPU uses, exercised through CPU autocast."""
    from auditor.train.device import Precision

    spec, ds = make_run(training={"epochs": 6, **NO_STOP})
    model, cfg, tensors = binary_fit_inputs(spec, ds)
    result = loop.fit(model, cfg, **tensors, precision=Precision("x", dtype, needs_scaler=scaler))
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert result.history[-1]["val_metric"] > 0.9


def test_single_class_validation_metric_is_none_not_nan(make_run):
    frame = problem("binary", n=400)
    spec, ds = make_run(frame=frame, training={"epochs": 2, **NO_STOP})
    ds.y["validation"] = np.zeros_like(ds.y["validation"])  # ROC-AUC undefined
    p = train_model(spec, ds)
    assert all(h["val_metric"] is None for h in p.history)
    import json

    json.dumps(p.history, allow_nan=False)


def test_loan_example_thin_run(tmp_path):
    """The bundled loan data with the schema's default training settings (the thin run)."""
    from auditor.data import build_dataset
    from auditor.spec.defaults import apply_defaults
    from auditor.types import Spec

    values = {
        "version": 1,
        "name": "loan",
        "objective": {"task": "binary", "target": "approved"},
        "data": {
            "train": "loan.csv",
            "generate": {"example": "loan"},
            "sensitive": ["sex", "age_band"],
            "id_column": "applicant_id",
            "exclude": ["application_date"],
        },
    }
    spec = Spec(path=tmp_path / "spec.yaml", values=apply_defaults(values))
    ds = build_dataset(spec)
    assert "sex" not in ds.feature_columns and len(ds.y["train"]) == 3600
    p = train_model(spec, ds)
    assert p.info["device"] == "cpu" and 1 <= p.info["epochs_run"] <= 50
    assert roc_auc_score(ds.y["test"], p.predict(ds, "test")) > 0.7


REPRO_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from train_problems import problem, quick_training
from auditor.data import build_dataset
from auditor.spec.defaults import apply_defaults
from auditor.train import train_model
from auditor.types import Spec
base = Path({base!r})
values = {{"version": 1, "name": "repro", "objective": {{"task": "binary", "target": "y"}},
          "data": {{"train": "train.csv", "augmentation": {{"mixup": 0.2}}}},
          "model": {{"architecture": "resmlp", "dropout": 0.1}},
          "training": quick_training(epochs=4)}}
spec = Spec(path=base / "spec.yaml", values=apply_defaults(values))
ds = build_dataset(spec)
p = train_model(spec, ds)
print(p.info["fingerprint"], p.predict(ds, "test").tobytes().hex()[:64], ds.sources[0]["sha256"])
"""


def test_two_processes_give_the_same_model(tmp_path):
    """Same spec, data and seed in two fresh processes: the same weights, bit for bit."""
    import subprocess
    import sys
    from pathlib import Path

    problem("binary").to_csv(tmp_path / "train.csv", index=False)
    script = REPRO_SCRIPT.format(tests=str(Path(__file__).parent), base=str(tmp_path))
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [r.communicate(timeout=120) for r in runs]
    assert all(r.returncode == 0 for r in runs), outs
    assert outs[0][0] == outs[1][0] and len(outs[0][0].split()) == 3
