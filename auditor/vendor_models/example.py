"""Seeded example vendor models for the bundled example specs, created on first use.

``loan-scorecard``: a credit-scoring pipeline a vendor might deliver, a scikit-learn
Pipeline (one-hot encoding, then gradient-boosted trees that handle missing values) trained on
the *vendor's own* historical applications: a draw of the ``loan`` generator with another
seed than the client's data. It reads raw columns and does not read ``sex``, but it does
read ``income`` and ``occupation``, which the generator made proxies of sex, so the
historical bias against women can reach it. Saved with skops; its one type beyond skops'
defaults (the trees' ``TreePredictor``) must be listed in ``model.vendor.trusted_types``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import SpecValues

#: Raw columns the example vendor model reads.
LOAN_SCORECARD_FEATURES: tuple[str, ...] = (
    "age",
    "income",
    "employment_years",
    "credit_score",
    "loan_amount",
    "debt_to_income",
    "open_accounts",
    "home_ownership",
    "purpose",
    "occupation",
    "region",
)
LOAN_SCORECARD_TARGET = "approved"
#: Offset added to the client's generator seed for the vendor's own training data.
VENDOR_SEED_OFFSET = 1000

MSG_UNKNOWN_EXAMPLE = "unknown example vendor model {name!r}; available: {available}"


def _loan_scorecard(rows: int, seed: int):
    """Fit the example loan-scoring Pipeline on the vendor's own (generated) data."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from threadpoolctl import threadpool_limits

    from auditor.data.examples import generate

    frame = generate("loan", rows, seed + VENDOR_SEED_OFFSET)
    features = list(LOAN_SCORECARD_FEATURES)
    categorical = [c for c in features if frame[c].dtype.kind not in "biuf"]
    numeric = [c for c in features if c not in categorical]
    X = frame[features].copy()
    X[categorical] = X[categorical].astype(object)
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("numeric", "passthrough", numeric),  # the trees handle missing values
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            categorical,
                        ),
                    ]
                ),
            ),
            (
                "trees",
                HistGradientBoostingClassifier(
                    max_iter=120, learning_rate=0.08, max_leaf_nodes=15, random_state=seed
                ),
            ),
        ]
    )
    # one thread: a few thousand rows fit in a fraction of a second, while OpenMP threads
    # on a busy machine can spin for many seconds (and one thread is trivially reproducible)
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(X, frame[LOAN_SCORECARD_TARGET].to_numpy())
    return model


EXAMPLES: dict[str, Any] = {"loan-scorecard": _loan_scorecard}


def ensure_vendor_example(spec: SpecValues, base_dir: Path) -> None:
    """Create the example vendor model of a spec when its file does not exist yet.

    Acts only when ``model.vendor.example`` names a bundled example, so a missing vendor
    file of a real audit is never replaced by a fabricated one (the loader reports it).

    Parameters
    ----------
    spec : SpecValues
        The typed, resolved spec (``data.generate`` gives the rows and the seed).
    base_dir : Path
        The spec's folder; relative paths are relative to it.
    """
    vendor = spec.model.vendor
    name = vendor.example if vendor is not None else None
    if not name:
        return
    if name not in EXAMPLES:
        raise ValueError(MSG_UNKNOWN_EXAMPLE.format(name=name, available=", ".join(EXAMPLES)))
    path = Path(vendor.path).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    if path.exists():
        return
    import skops.io as sio

    from auditor.atomic import write_atomically

    gen = spec.data.generate
    model = EXAMPLES[name](gen.rows, gen.seed)
    write_atomically(path, lambda tmp: sio.dump(model, tmp))
