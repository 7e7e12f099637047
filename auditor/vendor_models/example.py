"""Seeded example vendor models for the bundled example specs, created on first use.

One example per delivery format, each named by a spec's ``model.vendor.example`` and
written (atomically) at ``model.vendor.path`` only when that file does not exist:

- ``loan-scorecard`` (skops, ``specs/vendor-audit.yaml``): described below;
- ``loan-scores`` (predictions, ``specs/vendor-predictions.yaml``): the ``loan-scorecard``
  model's scores for every row of the spec's data files, joined by ``data.id_column``;
- ``loan-onnx`` (onnx, ``specs/vendor-onnx.yaml``): a logistic-regression scorecard with its
  preparation inside the graph, one input per raw column;
- ``loan-torchscript`` (torchscript, ``specs/vendor-torchscript.yaml``): a small network on
  the seven raw numeric columns.

The last three are built in :mod:`auditor.vendor_models.example_models`. Each is the same
for the same ``data.generate`` seed.

``loan-scorecard``: a credit-scoring pipeline a vendor might deliver, a scikit-learn
Pipeline (one-hot encoding, then gradient-boosted trees that handle missing values) trained on
the *vendor's own* historical applications: a draw of the ``loan`` generator with another
seed than the client's data. It reads raw columns and does not read ``sex``, but it does
read ``income`` and ``occupation``, which the generator made proxies of sex, so the
historical bias against women can reach it. Saved with skops; its one type beyond skops'
defaults (the trees' ``TreePredictor``) must be listed in ``model.vendor.trusted_types``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.vendor_models.example_models import (
    LOAN_CATEGORICAL_FEATURES,
    LOAN_NUMERIC_FEATURES,
)

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import SpecValues

#: Raw columns the example vendor model reads: the loan file's numeric, then categorical.
LOAN_SCORECARD_FEATURES: tuple[str, ...] = LOAN_NUMERIC_FEATURES + LOAN_CATEGORICAL_FEATURES
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


def _skops_scorecard(spec: SpecValues, base_dir: Path) -> bytes:
    """``loan-scorecard``: the Pipeline saved with skops."""
    import skops.io as sio

    gen = spec.data.generate
    return sio.dumps(_loan_scorecard(gen.rows, gen.seed))


def _scores_file(spec: SpecValues, base_dir: Path) -> bytes:
    """``loan-scores``: the scorecard's scores for the rows of the spec's data files."""
    from auditor.vendor_models.example_models import loan_scores_csv

    gen = spec.data.generate
    files = [_resolve(rel, base_dir) for rel in (spec.data.train, spec.data.holdout) if rel]
    return loan_scores_csv(
        _loan_scorecard(gen.rows, gen.seed),
        files,
        id_column=spec.data.id_column,
        score_column=spec.model.vendor.score_column or "score",
        fmt=spec.data.format,
        encoding=spec.data.encoding,
    )


def _onnx_scorecard(spec: SpecValues, base_dir: Path) -> bytes:
    """``loan-onnx``: a logistic-regression scorecard as an ONNX graph."""
    from auditor.vendor_models.example_models import loan_onnx

    gen = spec.data.generate
    return loan_onnx(gen.rows, gen.seed + VENDOR_SEED_OFFSET)


def _torchscript_network(spec: SpecValues, base_dir: Path) -> bytes:
    """``loan-torchscript``: a small scripted network on the raw numeric columns."""
    from auditor.vendor_models.example_models import loan_torchscript

    gen = spec.data.generate
    return loan_torchscript(gen.rows, gen.seed + VENDOR_SEED_OFFSET)


#: Example name -> builder of the file's bytes from the typed spec and the spec's folder.
EXAMPLES: dict[str, Callable[[SpecValues, Path], bytes]] = {
    "loan-scorecard": _skops_scorecard,
    "loan-scores": _scores_file,
    "loan-onnx": _onnx_scorecard,
    "loan-torchscript": _torchscript_network,
}


def _resolve(rel: str, base_dir: Path) -> Path:
    """A spec path: absolute as it is, else relative to the spec's folder."""
    path = Path(rel).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


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
    path = _resolve(vendor.path, base_dir)
    if path.exists():
        return
    from auditor.atomic import write_bytes

    write_bytes(path, EXAMPLES[name](spec, base_dir))
