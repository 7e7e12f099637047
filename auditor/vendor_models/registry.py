"""Vendor model formats: name -> loader, imported only when used.

Each format lives in a module of its own exposing ``load(ctx) -> Backend``. The names
here equal the enum of ``model.vendor.format`` in ``schemas/spec.schema.json`` (a test
checks it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from auditor.errors import Location, ModelFileError

#: format name -> "module:function"
FORMATS: dict[str, str] = {
    "predictions": "auditor.vendor_models.predictions_file:load",
    "onnx": "auditor.vendor_models.onnx_model:load",
    "torchscript": "auditor.vendor_models.torchscript_model:load",
    "skops": "auditor.vendor_models.skops_model:load",
    "pickle": "auditor.vendor_models.pickle_model:load",
    "python": "auditor.vendor_models.python_model:load",
}

MSG_UNKNOWN_FORMAT = "unknown vendor model format {name!r}; available formats: {available}"


def format_names() -> list[str]:
    """The vendor model formats auditor can read."""
    return list(FORMATS)


def get_loader(name: str) -> Callable:
    """The loader of a format.

    Raises
    ------
    ModelFileError
        ``name`` is not a known format; the message lists the known ones.
    """
    if name not in FORMATS:
        raise ModelFileError(
            MSG_UNKNOWN_FORMAT.format(name=name, available=", ".join(FORMATS)),
            Location(path=("model", "vendor", "format")),
        )
    module, function = FORMATS[name].split(":")
    return getattr(importlib.import_module(module), function)
