"""The architecture registry (linear, mlp, resmlp; transformer_lm, pretrained_lm) and the
task heads.

Every architecture maps ``in_features`` to ``out_features`` raw outputs (logits for
classification, a standardised value for regression). ``build_model(config)`` rebuilds a
model from its JSON config, which is how saved models are reloaded without pickle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Model

MSG_UNKNOWN_ARCHITECTURE = "unknown architecture {name!r}; available: {available}"
MSG_UNKNOWN_ACTIVATION = "unknown activation {name!r}; available: {available}"

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(MSG_UNKNOWN_ACTIVATION.format(name=name, available=", ".join(ACTIVATIONS)))
    return ACTIVATIONS[name]()


def linear(*, in_features: int, out_features: int, **_: Any) -> nn.Module:
    """A single affine layer: logistic / softmax / linear regression."""
    return nn.Sequential(nn.Linear(in_features, out_features))


def mlp(
    *,
    in_features: int,
    out_features: int,
    hidden: list[int] = (64, 32),
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    **_: Any,
) -> nn.Module:
    """Fully connected layers: [Linear -> (BatchNorm) -> activation -> (Dropout)] x len(hidden)."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """x + Linear(act(Linear(norm(x)))), with dropout: a pre-norm residual MLP block."""

    def __init__(self, width: int, *, activation: str, dropout: float, batch_norm: bool):
        super().__init__()
        self.norm = nn.BatchNorm1d(width) if batch_norm else nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.act = _activation(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc2 = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.drop(self.act(self.fc1(self.norm(x)))))


def resmlp(
    *,
    in_features: int,
    out_features: int,
    hidden: list[int] = (64, 32),
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    **_: Any,
) -> nn.Module:
    """Residual MLP: a projection to ``hidden[0]``, ``len(hidden)`` residual blocks, a head."""
    width = hidden[0] if hidden else 64
    blocks = max(len(hidden), 1)
    return nn.Sequential(
        nn.Linear(in_features, width),
        *[
            ResidualBlock(width, activation=activation, dropout=dropout, batch_norm=batch_norm)
            for _ in range(blocks)
        ],
        _activation(activation),
        nn.Linear(width, out_features),
    )


def transformer_lm(
    *,
    vocab_size: int,
    layers: int = 2,
    width: int = 64,
    heads: int = 2,
    context_length: int = 128,
    dropout: float = 0.0,
    eos_token_id: int = 0,
    **_: Any,
) -> nn.Module:
    """A decoder-only transformer language model trained from scratch (``language_model``).

    A transformers ``GPT2LMHeadModel`` built from its config (no download), so the saved
    folder (safetensors, config.json, tokenizer) loads with ``AutoModelForCausalLM``.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=int(vocab_size),
        n_positions=int(context_length),
        n_embd=int(width),
        n_layer=int(layers),
        n_head=int(heads),
        resid_pdrop=float(dropout),
        embd_pdrop=float(dropout),
        attn_pdrop=float(dropout),
        bos_token_id=int(eos_token_id),
        eos_token_id=int(eos_token_id),
    )
    return GPT2LMHeadModel(config)


def pretrained_lm(*, path: str, **_: Any) -> nn.Module:
    """A pre-trained causal language model read from a local folder (``language_model``;
    :mod:`auditor.train.lm_pretrained` fine-tunes it, fully or with LoRA)."""
    from auditor.train.lm_pretrained import load_checkpoint

    return load_checkpoint(path)[0]


def text_classifier(*, encoder_path: str, out_features: int, dropout: float = 0.1, **_: Any):
    """A pre-trained sentence encoder with a classification head (binary, multiclass;
    :mod:`auditor.train.text_classifier` fine-tunes it on a text column)."""
    from pathlib import Path

    from auditor.train.text_classifier import build_classifier

    return build_classifier(Path(encoder_path), int(out_features), float(dropout))[0]


ARCHITECTURES = {
    "linear": linear,
    "mlp": mlp,
    "resmlp": resmlp,
    "transformer_lm": transformer_lm,
    "pretrained_lm": pretrained_lm,
    "text_classifier": text_classifier,
}
#: The architectures of the language-model objective (the others are tabular).
from auditor.types import LM_ARCHITECTURES  # noqa: E402, F401 - re-exported; validation reads it there


def get_architecture_names() -> list[str]:
    return sorted(ARCHITECTURES)


def output_size(task: str, n_classes: int) -> int:
    """Raw outputs of the head: 1 logit (binary), K logits (multiclass), 1 value (regression)."""
    return n_classes if task == "multiclass" else 1


def build_model(config: dict[str, Any]) -> nn.Module:
    """Build an architecture from its config ``{architecture, in_features, out_features, ...}``."""
    name = config["architecture"]
    if name not in ARCHITECTURES:
        raise ValueError(
            MSG_UNKNOWN_ARCHITECTURE.format(
                name=name, available=", ".join(get_architecture_names())
            )
        )
    options = {k: v for k, v in config.items() if k != "architecture"}
    return ARCHITECTURES[name](**options)


def model_config(model: Model, *, in_features: int, task: str, n_classes: int) -> dict[str, Any]:
    """The JSON config of the declared architecture (the typed ``model`` section)."""
    return {
        "architecture": model.architecture,
        "in_features": int(in_features),
        "out_features": output_size(task, n_classes),
        "hidden": [int(h) for h in model.hidden],
        "activation": model.activation,
        "dropout": float(model.dropout),
        "batch_norm": bool(model.batch_norm),
    }


def count_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
