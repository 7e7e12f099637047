"""The trained model behind the Predictor interface (types.Predictor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.fingerprint import sha256_bytes
from auditor.train.architectures import count_parameters
from auditor.train.loop import forward_all, scores_from_outputs


class TrainedPredictor:
    """A trained torch model with its configuration, history and fitted preprocessing.

    Attributes
    ----------
    kind : str
        ``"trained"``.
    has_scores : bool
        Always true: probabilities (classification) or values (regression).
    info : dict
        architecture, parameters, device, device_name, precision, fingerprint (sha256 of
        the safetensors weights), epochs_run, best_epoch, stopped_early, train_seconds,
        torch version, ...
    history : list of dict
        Per epoch: epoch, train_loss, val_loss, val_metric, lr, seconds.
    """

    kind = "trained"
    has_scores = True

    def __init__(
        self,
        model: nn.Module,
        *,
        config: dict[str, Any],
        task: str,
        classes: list[Any],
        target_scaling: dict[str, float] | None = None,
        device: torch.device | None = None,
        preprocessor: Any = None,
        feature_names: list[str] | None = None,
        feature_columns: list[str] | None = None,
        history: list[dict[str, Any]] | None = None,
        info: dict[str, Any] | None = None,
        export_onnx: bool = False,
    ):
        self.model = model
        self.config = config
        self.task = task
        self.classes = list(classes)
        self.target_scaling = target_scaling or {"mean": 0.0, "std": 1.0}
        self.device = device or next(model.parameters()).device
        self.preprocessor = preprocessor
        self.feature_names = list(feature_names or [])
        self.feature_columns = list(feature_columns or [])
        self.history = list(history or [])
        self.export_onnx = export_onnx
        self.info: dict[str, Any] = dict(info or {})
        self.info.setdefault("architecture", config.get("architecture"))
        self.info["parameters"] = count_parameters(model)
        self.info["fingerprint"] = self.fingerprint()
        self.info.setdefault("torch", torch.__version__)
        self.model.eval()

    # ------------------------------------------------------------------ predictions
    def predict(self, dataset, split: str) -> np.ndarray:
        """Scores for every row of ``split``: binary (n,), multiclass (n, K), regression (n,)."""
        return self.predict_matrix(dataset.X[split])

    def predict_matrix(self, X: np.ndarray) -> np.ndarray:
        """Scores for a preprocessed float matrix (fp32, large batches, inference mode)."""
        xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(self.device)
        out = forward_all(self.model, xt)
        scores = scores_from_outputs(self.task, out).cpu().numpy().astype(np.float64)
        if self.task == "regression":
            scores = scores * self.target_scaling["std"] + self.target_scaling["mean"]
        return scores

    def predict_frame(self, frame) -> np.ndarray:
        """Scores for raw rows (the fitted preprocessing is applied first)."""
        from auditor.data.preprocess import transform_rows

        X = transform_rows(self.preprocessor, frame[self.feature_columns])
        return self.predict_matrix(X)

    # ------------------------------------------------------------------ artifacts
    def weights_bytes(self) -> bytes:
        """The weights as safetensors bytes (CPU, contiguous, sorted keys)."""
        from safetensors.torch import save

        state = {k: v.detach().to("cpu").contiguous() for k, v in self.model.state_dict().items()}
        return save(state)

    def fingerprint(self) -> str:
        return sha256_bytes(self.weights_bytes())

    def save(self, out_dir: Path) -> dict[str, Path]:
        """Write model.safetensors, model.json, preprocessing.skops (and model.onnx)."""
        from auditor.train.artifacts import save_trained

        return save_trained(self, Path(out_dir), export_onnx=self.export_onnx)
