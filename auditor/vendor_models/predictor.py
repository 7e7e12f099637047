"""The vendor model behind :class:`auditor.types.Predictor`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor.vendor_models.inputs import n_rows
from auditor.vendor_models.outputs import validate_scores

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from auditor.types import Dataset
    from auditor.vendor_models.context import Backend, VendorContext

MSG_UNKNOWN_SPLIT = "no split {split!r} in the data (splits: {splits})"


@dataclass
class VendorPredictor:
    """A vendor's model (or predictions file) loaded for audit.

    Attributes
    ----------
    kind : str
        ``"vendor:<format>"``.
    has_scores : bool
        False when the vendor gives labels only; ``predict`` then returns hard 0/1 scores.
    info : dict
        ``format, path, sha256, fingerprint, files ({name: sha256}), input,
        pickle_loaded, trusted_types, notes`` (plus format-specific facts).
    history : list
        Always empty: a vendor model has no training history here.
    """

    kind: str
    has_scores: bool
    info: dict[str, Any]
    backend: Backend = field(repr=False)
    context: VendorContext = field(repr=False)
    history: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, dataset: Dataset, split: str) -> bool:
        """Whether the vendor gives a prediction for every row of ``split``.

        Always true for a model; for a predictions file, whether every id of the split is
        in it (a vendor may score only the client's holdout). ``predict`` raises otherwise.
        """
        check = getattr(self.backend, "covers", None)
        return bool(check(dataset, split)) if check is not None else split in dataset.frames

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:
        """Scores for every row of ``split`` (see :class:`auditor.types.Predictor`)."""
        if split not in dataset.frames:
            raise self.context.error(
                MSG_UNKNOWN_SPLIT.format(split=split, splits=", ".join(dataset.frames))
            )
        scores = self.backend.predict(dataset, split)
        n_classes = len(dataset.classes) if dataset.task != "regression" else 0
        return validate_scores(
            scores,
            task=dataset.task,
            n=n_rows(dataset, split),
            n_classes=n_classes,
            has_scores=self.has_scores,
            error=self.context.error,
        )
