"""Loading a vendor's model to audit on the client's data (docs/design.md, "Vendor models").

``load_vendor_model(spec, dataset)`` reads ``model.vendor`` and returns a
:class:`VendorPredictor`, which the evaluation treats like a trained model. Formats
(``model.vendor.format``), each in a module of its own:

- ``predictions``: a CSV / Parquet / JSON Lines file of scores or labels per row, joined
  to the data by ``data.id_column`` (the safest: no vendor code runs);
- ``onnx``: onnxruntime on the CPU;
- ``torchscript``: ``torch.jit.load`` on the CPU;
- ``skops``: a scikit-learn model, loaded only when every type in it is trusted;
- ``pickle``: refused unless ``allow_pickle: true`` (the report then says so on page one);
- ``python``: a model held in memory by the Python API (``auditor.run(model=...)``).

Every problem with the model file is a one-line :class:`auditor.errors.ModelFileError`
(exit code 2) located at the file and the spec field ``model.vendor.path``. Heavy
libraries are imported only by the format that needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditor.in_memory import held_model
from auditor.vendor_models.context import BATCH_ROWS, VendorContext
from auditor.vendor_models.files import check_readable, sha256_file
from auditor.vendor_models.predictor import VendorPredictor
from auditor.vendor_models.registry import get_loader

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset, Spec


def load_vendor_model(
    spec: Spec, dataset: Dataset, *, batch_rows: int = BATCH_ROWS
) -> VendorPredictor:
    """Load the vendor model declared in ``spec.model.vendor``.

    Parameters
    ----------
    spec : Spec
        The resolved spec (every default applied).
    dataset : Dataset
        The client's data; the model is checked against its task, classes and columns.
    batch_rows : int
        Rows passed to the model at once (bounds memory on large splits).

    Returns
    -------
    VendorPredictor

    Raises
    ------
    ModelFileError
        The file is missing, unreadable, corrupt, refused (pickle, untrusted skops types)
        or its output does not fit the task.
    """
    settings = spec.model.vendor
    loader = get_loader(settings.format)
    path = spec.resolve_path(settings.path)
    held = held_model(path)  # a model given to the Python API: nothing to read
    if held is None:
        check_readable(path)
    else:
        path = Path(path.name)
    ctx = VendorContext(
        spec=spec, dataset=dataset, settings=settings, path=path, batch_rows=batch_rows
    )
    digest = sha256_file(path) if held is None else held.sha256
    backend = loader(ctx)
    files = {path.name: digest}
    files.update(getattr(backend, "extra_files", {}))  # ONNX external weights
    info = {
        "format": settings.format,
        "path": str(path),
        "sha256": digest,
        "fingerprint": digest,
        "files": files,
        "input": settings.input,
        "output": settings.output,
        "has_scores": bool(backend.has_scores),
        "pickle_loaded": bool(backend.pickle_loaded),
        "trusted_types": list(settings.trusted_types),
        "notes": ctx.notes,
    }
    info.update(backend.info)
    return VendorPredictor(
        kind=f"vendor:{settings.format}",
        has_scores=bool(backend.has_scores),
        info=info,
        backend=backend,
        context=ctx,
    )
