"""Audit a vendor's model on the client's data (docs/design.md, "Vendor models").

:func:`load_vendor_model` (in :mod:`auditor.vendor_models.load`) reads ``model.vendor``
and returns a :class:`VendorPredictor`; each format is a module of its own, registered in
:mod:`auditor.vendor_models.registry`.
"""

from auditor.vendor_models.context import BATCH_ROWS
from auditor.vendor_models.load import load_vendor_model
from auditor.vendor_models.predictor import VendorPredictor
from auditor.vendor_models.registry import FORMATS, format_names

__all__ = ["BATCH_ROWS", "FORMATS", "VendorPredictor", "format_names", "load_vendor_model"]
