"""Format ``skops``: a scikit-learn model saved with ``skops.io.dump``.

skops never unpickles: it rebuilds only known, safe types. Before loading, the types in
the file that skops does not trust by default are listed
(``skops.io.get_untrusted_types``); the model is loaded only if every one of them is named
in ``model.vendor.trusted_types``, so trusting vendor code is a visible, reviewed line of
the spec. See :mod:`auditor.vendor_models.sklearn_model` for how it is fed and read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.errors import one_line
from auditor.vendor_models.sklearn_model import EstimatorBackend

if TYPE_CHECKING:  # pragma: no cover
    from auditor.vendor_models.context import VendorContext

MSG_CORRUPT = "not a readable skops file: {reason}"
MSG_UNTRUSTED = (
    "the skops file contains type(s) not trusted by default: {types}; after reviewing them, "
    "list them under model.vendor.trusted_types to load the model"
)
TRUSTED_FIELD = ("model", "vendor", "trusted_types")


def load(ctx: VendorContext) -> EstimatorBackend:
    """Load a skops file whose every untrusted type is listed in ``trusted_types``."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=str(ctx.path))
    except Exception as exc:  # zip, JSON or schema errors of a damaged file
        raise ctx.error(MSG_CORRUPT.format(reason=one_line(exc))) from None
    trusted = set(ctx.settings.trusted_types)
    refused = [t for t in untrusted if t not in trusted]
    if refused:
        raise ctx.error(MSG_UNTRUSTED.format(types=", ".join(refused)), field=TRUSTED_FIELD)
    try:
        model = sio.load(str(ctx.path), trusted=list(untrusted) or None)
    except Exception as exc:
        raise ctx.error(MSG_CORRUPT.format(reason=one_line(exc))) from None
    backend = EstimatorBackend(ctx, model, pickle_loaded=False)
    backend.info["untrusted_types_trusted"] = list(untrusted)
    return backend
