"""The model stage: train the declared architecture, or load the vendor's model."""

from __future__ import annotations

from auditor.progress import Progress
from auditor.types import TEXT_TASKS, Dataset, Predictor, Spec


def obtain_predictor(
    spec: Spec, dataset: Dataset, *, progress: Progress | None = None, processes=None
) -> Predictor:
    """Return a trained model, or the vendor's model when ``model.vendor`` is declared.

    ``processes`` (``auditor.train.distributed.Processes``): under torchrun, this process's
    place; the processes then train the model together (``training.distributed``).
    """
    if spec.task in TEXT_TASKS:  # generated text: the vendor's responses, as given
        from auditor.text.audit import ResponsesFile

        return ResponsesFile(dataset)
    if spec.model.vendor is not None:
        from auditor.vendor_models import load_vendor_model

        return load_vendor_model(spec, dataset)
    from auditor.train import train_model

    return train_model(spec, dataset, progress=progress, processes=processes)
