"""The schema's enums equal the engine's registries (one source of truth, no drift)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from auditor.spec.typed import section
from auditor.train import architectures, device, optim

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "spec.schema.json").read_text()
)
PROPS = SCHEMA["properties"]


@pytest.mark.parametrize(
    "registry, lookup, message",
    [
        (
            architectures,
            lambda: architectures.build_model(
                {"architecture": "cnn", "in_features": 2, "out_features": 1}
            ),
            "unknown architecture 'cnn'; available: linear, mlp, pretrained_lm, resmlp, "
            "text_classifier, transformer_lm",
        ),
        (
            optim,
            lambda: optim.build_optimizer(
                [torch.zeros(1, requires_grad=True)],
                section(("training",), optimizer="lbfgs", learning_rate=0.1),
            ),
            "unknown optimizer 'lbfgs'; available: adagrad, adam, adamw, rmsprop, sgd",
        ),
    ],
)
def test_unknown_names_list_what_is_available(registry, lookup, message):
    with pytest.raises(ValueError, match=message):
        lookup()


def test_cpu_threads_choice_and_restore():
    cpu = torch.device("cpu")
    assert device.cpu_threads(None, device=cpu, batch_size=256, parameters=4_000) == 1
    assert device.cpu_threads(None, device=cpu, batch_size=4096, parameters=1_000_000) is None
    assert device.cpu_threads(3, device=cpu, batch_size=256, parameters=4_000) == 3
    before = torch.get_num_threads()
    with device.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
