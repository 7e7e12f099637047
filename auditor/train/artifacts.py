"""Saving and reloading a trained model without pickle.

Files written by :func:`save_trained`:

- ``model.safetensors``: the weights (safetensors; no code execution on load);
- ``model.json``: architecture config, task, classes, target scaling, feature names,
  feature columns and the training info;
- ``preprocessing.skops``: the fitted scikit-learn preprocessing (skops; reloaded with an
  explicit list of trusted types, never unpickled);
- with ``training.export_onnx``:
  ``network.onnx``: the torch network alone, taking the *preprocessed* float matrix (input
  ``features``) and returning ``scores`` (probabilities, or the regression value in the
  target's units);
  ``model.onnx``: preprocessing plus network in one graph, taking the *raw* feature
  columns (one input per column; see :mod:`auditor.train.onnx_export`) and returning the
  same ``scores``. skl2onnx is not available, so the preprocessing graph is built by
  auditor from the fitted transformers; if that ever fails, only ``network.onnx`` is
  written and model.json says why (``onnx.pipeline_error``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from auditor.atomic import write_bytes
from auditor.errors import Location, ModelFileError
from auditor.results import jsonable

WEIGHTS = "model.safetensors"
CONFIG = "model.json"
PREPROCESSING = "preprocessing.skops"
ONNX = "model.onnx"
NETWORK_ONNX = "network.onnx"
FORMAT_VERSION = 1

MSG_MISSING_FILE = "trained model file not found"
MSG_UNTRUSTED = "preprocessing file contains types that are not trusted: {types}"
MSG_BAD_CONFIG = "model.json is not a valid trained-model description: {reason}"

# Modules whose types the fitted preprocessing may contain: scikit-learn's preprocessing
# building blocks, auditor's own transformers, numpy arrays/dtypes and Python builtins.
TRUSTED_MODULES: tuple[str, ...] = (
    "sklearn.compose",
    "sklearn.impute",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "auditor.data.preprocess",
    "numpy",
    "builtins",
)


class _ScoresModule(nn.Module):
    """The model plus its output transform, for ONNX (probabilities / original units)."""

    def __init__(self, model: nn.Module, task: str, mean: float, std: float):
        super().__init__()
        self.model, self.task, self.mean, self.std = model, task, float(mean), float(std)

    def forward(self, x):
        out = self.model(x)
        if self.task == "binary":
            return torch.sigmoid(out[:, 0])
        if self.task == "multiclass":
            return torch.softmax(out, dim=1)
        return out[:, 0] * self.std + self.mean


def cpu_state(model: nn.Module) -> dict[str, Any]:
    """A model's weights on the CPU, tied tensors once each (fingerprints, comparisons)."""
    seen, out = set(), {}
    for k, v in model.state_dict().items():
        if v.data_ptr() in seen:
            continue
        seen.add(v.data_ptr())
        out[k] = v.detach().to("cpu").contiguous().clone()
    return out


def state_fingerprint(state: dict[str, Any]) -> str:
    """The SHA-256 of weights as safetensors writes them."""
    from safetensors.torch import save

    from auditor.fingerprint import sha256_bytes

    return sha256_bytes(save(state))


def run_record(result) -> dict[str, Any]:
    """What a training run's result says about its epochs and why it stopped (the model
    description's common fields, for every trainer)."""
    return {
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "kept_epoch": result.kept_epoch,
        "best_value": result.best_value,
        "stopped_early": result.stopped_early,
        "stop_reason": result.stop_reason,
    }


def save_trained(predictor, out_dir: Path, *, export_onnx: bool = False) -> dict[str, Path]:
    """Write the trained model's files into ``out_dir`` (atomic writes); returns their paths."""
    import skops.io

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"weights": out_dir / WEIGHTS, "config": out_dir / CONFIG}
    write_bytes(files["weights"], predictor.weights_bytes())
    description = {
        "format_version": FORMAT_VERSION,
        "config": predictor.config,
        "task": predictor.task,
        "classes": predictor.classes,
        "target_scaling": predictor.target_scaling,
        "feature_names": predictor.feature_names,
        "feature_columns": predictor.feature_columns,
        "fingerprint": predictor.info.get("fingerprint"),
        "info": predictor.info,
        "history": predictor.history,
        "files": {"weights": WEIGHTS},
    }
    if predictor.preprocessor is not None:
        files["preprocessing"] = out_dir / PREPROCESSING
        write_bytes(files["preprocessing"], skops.io.dumps(predictor.preprocessor))
        description["files"]["preprocessing"] = PREPROCESSING
    if export_onnx:
        description["onnx"] = export_onnx_files(predictor, out_dir, files)
        description["files"].update(
            {k: files[k].name for k in ("onnx", "onnx_network") if k in files}
        )
    write_bytes(files["config"], json.dumps(jsonable(description), indent=2, default=str).encode())
    return files


def export_onnx_files(predictor, out_dir: Path, files: dict[str, Path]) -> dict[str, Any]:
    """Write network.onnx and (with preprocessing) model.onnx; returns their description."""
    from auditor.train.onnx_export import pipeline_model

    files["onnx_network"] = out_dir / NETWORK_ONNX
    network = network_onnx_bytes(predictor)
    write_bytes(files["onnx_network"], network)
    info: dict[str, Any] = {
        "network": {
            "file": NETWORK_ONNX,
            "input": "preprocessed",
            "input_name": "features",
            "output_name": "scores",
        },
        "output_name": "scores",
    }
    if predictor.preprocessor is None:
        return info
    try:
        merged = pipeline_model(predictor.preprocessor, network)
    except ValueError as exc:
        info["pipeline_error"] = str(exc)
        return info
    files["onnx"] = out_dir / ONNX
    write_bytes(files["onnx"], merged.SerializeToString())
    info["model"] = {
        "file": ONNX,
        "input": "raw",
        "inputs": [i.name for i in merged.graph.input],
        "output_name": "scores",
    }
    return info


def network_onnx_bytes(predictor) -> bytes:
    """The network (preprocessed matrix in, scores out) as ONNX bytes."""
    import copy
    import io
    import warnings

    model = copy.deepcopy(predictor.model).to("cpu").eval()
    wrapped = _ScoresModule(
        model, predictor.task, predictor.target_scaling["mean"], predictor.target_scaling["std"]
    ).eval()
    example = torch.zeros((2, predictor.config["in_features"]), dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript-based exporter announces its deprecation; the result is what we test
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            wrapped,
            (example,),
            buffer,
            dynamo=False,
            input_names=["features"],
            output_names=["scores"],
            dynamic_axes={"features": {0: "rows"}, "scores": {0: "rows"}},
            opset_version=17,
        )
    return buffer.getvalue()


def skops_types(path: Path) -> set[str]:
    """Every ``module.Class`` named anywhere in a skops file's schema (trusted or not)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelFileError(
            f"not a readable skops file: {exc}", Location(file=str(path))
        ) from None
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def _trusted(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in TRUSTED_MODULES)


def trusted_types(path: Path) -> list[str]:
    """The types to trust when loading ``path``; raises if any type in it is not allowed.

    Every type in the file (not only those skops distrusts by default) must come from
    :data:`TRUSTED_MODULES`.
    """
    import skops.io

    bad = sorted(t for t in skops_types(path) if not _trusted(t))
    if bad:
        raise ModelFileError(MSG_UNTRUSTED.format(types=", ".join(bad)), Location(file=str(path)))
    return [t for t in skops.io.get_untrusted_types(file=path) if _trusted(t)]


def load_preprocessing(path: Path):
    """Reload fitted preprocessing from a skops file, trusting only the allowed types."""
    import skops.io

    return skops.io.load(path, trusted=trusted_types(path))


def load_trained(directory: Path, *, device: str | torch.device = "cpu"):
    """Reload a model saved by :func:`save_trained` (safetensors + JSON + skops; no pickle)."""
    from safetensors.torch import load_file

    from auditor.train.architectures import build_model
    from auditor.train.predictor import TrainedPredictor

    directory = Path(directory)
    config_path, weights_path = directory / CONFIG, directory / WEIGHTS
    for p in (config_path, weights_path):
        if not p.is_file():
            raise ModelFileError(MSG_MISSING_FILE, Location(file=str(p)))
    try:
        description = json.loads(config_path.read_text())
        config = description["config"]
        model = build_model(config)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(
            MSG_BAD_CONFIG.format(reason=exc), Location(file=str(config_path))
        ) from None
    state = load_file(str(weights_path), device="cpu")
    model.load_state_dict(state)
    model.to(device)
    preprocessor = None
    if (directory / PREPROCESSING).is_file():
        preprocessor = load_preprocessing(directory / PREPROCESSING)
    info = dict(description.get("info") or {})
    return TrainedPredictor(
        model,
        config=config,
        task=description["task"],
        classes=description["classes"],
        target_scaling=description.get("target_scaling"),
        device=torch.device(device),
        preprocessor=preprocessor,
        feature_names=description.get("feature_names"),
        feature_columns=description.get("feature_columns"),
        history=description.get("history"),
        info=info,
    )
