"""Model and training options from the spec reach the model, the optimizer and the loop."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from auditor.train import architectures, train_model

NO_STOP = {"early_stopping": {"enabled": False}}


@pytest.mark.parametrize("activation", sorted(architectures.ACTIVATIONS))
def test_each_activation_builds_and_learns(make_run, activation):
    spec, ds = make_run(
        model={"hidden": [16], "activation": activation, "dropout": 0.1, "batch_norm": True},
        training={"epochs": 6, **NO_STOP},
    )
    p = train_model(spec, ds)
    kinds = [type(m) for m in p.model.modules()]
    assert architectures.ACTIVATIONS[activation] in kinds
    assert nn.BatchNorm1d in kinds and nn.Dropout in kinds
    assert p.config["activation"] == activation
    assert roc_auc_score(ds.y["test"], p.predict(ds, "test")) > 0.9


def test_weight_decay_reaches_the_optimizer_and_shrinks_the_weights(make_run):
    """AdamW's decoupled decay: a large decay gives clearly smaller weights, same seed."""
    norms = {}
    for decay in (0.0, 0.5):
        spec, ds = make_run(
            model={"architecture": "linear"},
            training={"weight_decay": decay, "epochs": 10, "learning_rate": 0.05, **NO_STOP},
        )
        p = train_model(spec, ds)
        norms[decay] = float(torch.linalg.vector_norm(p.model[0].weight.detach()))
    assert norms[0.5] < 0.7 * norms[0.0], norms


def test_onecycle_peaks_at_max_learning_rate(make_run):
    spec, ds = make_run(
        training={
            "schedule": {"name": "onecycle", "max_learning_rate": 0.04},
            "learning_rate": 0.001,
            "epochs": 8,
            **NO_STOP,
        }
    )
    lrs = [h["lr"] for h in train_model(spec, ds).history]
    assert max(lrs) == pytest.approx(0.04, rel=0.15) and max(lrs) <= 0.04 + 1e-12
    assert lrs[0] < 0.04 / 2 and lrs[-1] < 0.04 / 100


def test_cpu_threads_and_deterministic_are_honoured(make_run):
    spec, ds = make_run(training={"cpu_threads": 2, "deterministic": False, "epochs": 1})
    before = torch.get_num_threads()
    p = train_model(spec, ds)
    assert p.info["cpu_threads"] == 2 and torch.get_num_threads() == before  # restored
    assert p.info["deterministic"] is True  # on the CPU deterministic algorithms always
    assert torch.are_deterministic_algorithms_enabled()
    spec, ds = make_run(training={"epochs": 1})
    assert train_model(spec, ds).info["cpu_threads"] == 1  # a small model: one thread is faster
