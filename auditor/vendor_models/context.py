"""What every format loader receives, and what it hands back.

A loader is a function ``load(ctx: VendorContext) -> Backend``. The backend's
``predict(dataset, split)`` returns scores already in the canonical form of
:class:`auditor.types.Predictor` (binary (n,), multiclass (n, K), regression (n,));
:class:`auditor.vendor_models.predictor.VendorPredictor` validates them once more and adds the
fingerprints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from auditor.errors import ModelFileError
from auditor.vendor_models.files import SPEC_PATH, model_error

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from auditor.spec.typed import Vendor
    from auditor.types import Dataset, Spec

#: Rows passed to a model at once; bounds the memory of one call.
BATCH_ROWS = 65_536


@dataclass
class VendorContext:
    """The spec's ``model.vendor`` settings, the resolved model path and the dataset."""

    spec: Spec
    dataset: Dataset
    settings: Vendor  # the typed ``model.vendor`` section, every default applied
    path: Path
    notes: list[str] = field(default_factory=list)
    batch_rows: int = BATCH_ROWS

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def n_classes(self) -> int:
        return len(self.dataset.classes) if self.task != "regression" else 0

    def error(self, message: str, *, field: tuple = SPEC_PATH) -> ModelFileError:
        """A one-line ModelFileError located at the model file and a spec field."""
        return model_error(self.path, message, field=field)

    def note(self, text: str) -> None:
        """Record a fact about how the model was read (shown in the report's appendix)."""
        if text not in self.notes:
            self.notes.append(text)


class Backend(Protocol):
    """A loaded vendor model of one format."""

    has_scores: bool
    pickle_loaded: bool
    info: dict[str, Any]  # format-specific facts, merged into VendorPredictor.info

    def predict(self, dataset: Dataset, split: str) -> np.ndarray: ...
