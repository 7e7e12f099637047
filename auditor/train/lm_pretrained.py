"""Fine-tuning a pre-trained causal language model read from a local folder.

    model.pretrained.path --load_checkpoint--> transformers model (float32) + its tokenizer,
               from_pretrained on the path alone (local_files_only, safetensors only)
    model --prepare_model--> fine_tune full (the ``freeze`` patterns frozen) or lora (peft
               adapters on the target modules, the checkpoint frozen)
    trainable parameters --parameter_groups--> the optimizer's groups (per-group rates)
    LMRun.fit --> the engine's loop (warmup, gradient accumulation, early stopping ...)

The saved folder holds the tokenizer and either the whole model (safetensors, config.json)
or, for LoRA, the adapter (adapter_model.safetensors, adapter_config.json) that peft's
``PeftModel.from_pretrained`` puts back on the checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.train.lm import LMPredictor, LMRun, lm_settings

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import Pretrained
    from auditor.types import Dataset, Spec

#: What a checkpoint folder must hold to be read (weights: safetensors only, no pickle).
CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
#: peft warns when it switches fan_in_fan_out on for GPT-2's Conv1D layers: expected here.
_CONV1D_NOTICE = ".*fan_in_fan_out.*"
_CHECKPOINTING_NOTICE = ".*is_gradient_checkpointing.*"


def matches(name: str, pattern: str) -> bool:
    """Whether a parameter name matches a shell-style pattern (or lies under a module of
    that name: ``transformer.h.0`` matches ``transformer.h.0.attn.c_attn.weight``)."""
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, pattern + ".*")


def load_checkpoint(path: str | Path):
    """The checkpoint's model (float32, for training; autocast does mixed precision) and
    tokenizer, read from ``path`` alone; the tokenizer pads with its end-of-text token
    when it has no padding token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from auditor.train.lm import _quiet_transformers

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with _quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(
                str(path), local_files_only=True, use_safetensors=True, dtype=torch.float32
            )
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def checkpoint_outline(path: str | Path) -> dict[str, Any]:
    """What the rules check a spec against, without reading the weights: the module and
    parameter names (the model built on the meta device from config.json), the positions
    it attends over, its model type and whether its tokenizer has an end-of-text token."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    positions = next(
        (
            getattr(config, k)
            for k in ("n_positions", "max_position_embeddings", "n_ctx")
            if getattr(config, k, None)
        ),
        None,
    )
    return {
        "model_type": config.model_type,
        "modules": [n for n, _ in model.named_modules() if n],
        "parameters": [n for n, _ in model.named_parameters()],
        "positions": positions,
        "has_eos": tokenizer.eos_token_id is not None,
        "meta_model": model,
    }


def lora_config(pretrained: Pretrained):
    from peft import LoraConfig

    lora = pretrained.lora
    return LoraConfig(
        r=int(lora.rank),
        lora_alpha=float(lora.alpha),
        lora_dropout=float(lora.dropout),
        target_modules=list(lora.target_modules) if lora.target_modules else None,
        task_type="CAUSAL_LM",
    )


def prepare_model(model, pretrained: Pretrained):
    """The model to train: LoRA adapters (peft) on a frozen checkpoint, or the checkpoint
    itself with the ``freeze`` patterns' parameters frozen."""
    for name, param in model.named_parameters():
        if any(matches(name, p) for p in pretrained.freeze):
            param.requires_grad_(False)
    if pretrained.fine_tune != "lora":
        return model
    from peft import get_peft_model

    with peft_notices():
        return get_peft_model(model, lora_config(pretrained))


@contextlib.contextmanager
def peft_notices():
    """Without the notices peft gives on every GPT-2 (its Conv1D layers switch
    fan_in_fan_out on; it asks transformers a deprecated question about checkpointing)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_CONV1D_NOTICE, category=UserWarning)
        warnings.filterwarnings("ignore", message=_CHECKPOINTING_NOTICE, category=FutureWarning)
        yield


def parameter_groups(model, pretrained: Pretrained, learning_rate: float) -> list[dict[str, Any]]:
    """The optimizer's groups: each trainable parameter in the group of the first
    ``learning_rates`` entry whose pattern matches its name, the rest at the training
    rate (groups in the spec's order, the default group last; empty groups left out)."""
    entries = list(pretrained.learning_rates)
    buckets: list[list] = [[] for _ in range(len(entries) + 1)]
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        k = next((i for i, e in enumerate(entries) if matches(name, e.parameters)), len(entries))
        buckets[k].append(param)
    rates = [float(e.learning_rate) for e in entries] + [float(learning_rate)]
    return [{"params": b, "lr": r} for b, r in zip(buckets, rates, strict=True) if b]


def fine_tune_language_model(
    spec: Spec, dataset: Dataset, *, progress=None, on_epoch=None, processes=None
) -> LMPredictor:
    """Fine-tune the spec's local checkpoint on the train split (validation decides early
    stopping; the test documents are not read; ``on_epoch`` as :func:`~auditor.train.lm.fit_lm`
    calls it; ``processes``: data-parallel under torchrun, every process reads the
    checkpoint and DistributedDataParallel starts them from rank 0's weights)."""
    run = LMRun.start(spec, processes)
    with run.joined(dataset):
        return _fine_tune(run, spec, dataset, progress=progress, on_epoch=on_epoch)


def _fine_tune(run: LMRun, spec: Spec, dataset: Dataset, *, progress, on_epoch) -> LMPredictor:
    pretrained = spec.model.pretrained
    path = spec.resolve_path(pretrained.path)
    model, tokenizer = load_checkpoint(path)
    outline = model.config
    settings = dataclasses.replace(
        lm_settings(spec),
        vocabulary_size=len(tokenizer),
        layers=int(getattr(outline, "num_hidden_layers", 0) or 0),
        width=int(getattr(outline, "hidden_size", 0) or 0),
        heads=int(getattr(outline, "num_attention_heads", 0) or 0),
    )
    run.reseed()  # LoRA's adapters are drawn from the seed
    model = prepare_model(model, pretrained).to(run.device)
    config = {
        "architecture": "pretrained_lm",
        "path": str(path),
        "model_type": outline.model_type,
        "fine_tune": pretrained.fine_tune,
        "lora": dataclasses.asdict(pretrained.lora) if pretrained.fine_tune == "lora" else None,
        "freeze": list(pretrained.freeze),
        "learning_rates": [dataclasses.asdict(e) for e in pretrained.learning_rates],
        "context_length": settings.context_length,
        "eos_token_id": int(tokenizer.eos_token_id),
    }
    groups = parameter_groups(model, pretrained, spec.training.learning_rate)
    return run.fit(
        dataset,
        model,
        tokenizer,
        settings=settings,
        config=config,
        progress=progress,
        parameter_groups=groups,
        on_epoch=on_epoch,
        info={
            "tokenizer": {"kind": "checkpoint", "vocabulary_size": len(tokenizer)},
            "base_model": str(path),
            "parameter_groups": [{"parameters": len(g["params"]), "lr": g["lr"]} for g in groups],
        },
        predictor_class=PretrainedLMPredictor,
    )


class PretrainedLMPredictor(LMPredictor):
    """A fine-tuned checkpoint: saved whole (full) or as its LoRA adapter."""

    def base_model(self):
        """The checkpoint before fine-tuning, on this model's device (for the comparison)."""
        model, _ = load_checkpoint(self.config["path"])
        return model.to(self.device).eval()

    def _save_transformers(self, folder: str) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)
            self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        (Path(folder) / "README.md").unlink(missing_ok=True)  # peft's empty model card
