"""Format ``pickle``: refused unless the spec says ``allow_pickle: true``.

Unpickling runs whatever code the file names, so a pickle from a vendor is as trusted as
the vendor's own program. When it is allowed, ``info["pickle_loaded"]`` is True and the
report says so on page one. The object must be a scikit-learn-like estimator; see
:mod:`auditor.vendor_models.sklearn_model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.errors import one_line
from auditor.spec.rules import MSG_PICKLE_REFUSED as MSG_REFUSED  # validate says it first
from auditor.vendor_models.sklearn_model import EstimatorBackend

if TYPE_CHECKING:  # pragma: no cover
    from auditor.vendor_models.context import VendorContext

MSG_CORRUPT = "not a readable pickle file: {reason}"
MSG_NOTE_LOADED = "the model was unpickled (allow_pickle: true): loading it ran code from the file"


def load(ctx: VendorContext) -> EstimatorBackend:
    """Unpickle the model, only when ``allow_pickle`` is true."""
    import pickle

    if not ctx.settings.allow_pickle:
        raise ctx.error(MSG_REFUSED, field=("model", "vendor", "allow_pickle"))
    try:
        with open(ctx.path, "rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - explicitly allowed by the spec
    except Exception as exc:  # a damaged pickle can raise almost anything
        raise ctx.error(MSG_CORRUPT.format(reason=one_line(exc))) from None
    ctx.note(MSG_NOTE_LOADED)
    return EstimatorBackend(ctx, model, pickle_loaded=True)
