"""Development data against client data: per-feature drift and a domain classifier.

Computed once in the evaluate stage (the domain classifier is a model trained here), for
every pair (reference split, client split); the drift checks only read the result.

- Per feature: the two samples' counts over common bins, the drift test's p-value with
  Benjamini-Hochberg control over the features, the spec's effect size with a bootstrap
  interval, and the categories the reference never had (:mod:`auditor.metrics.drift`).
  A text column (a text classifier's) is compared as the distribution of its words, each
  text weighing once, its unseen words the out-of-vocabulary share (:func:`bin_text`).
- A domain classifier: gradient-boosted trees trained to tell reference rows (label 0) from
  client rows (label 1), on seeded samples of at most ``drift.sample_rows`` rows per side;
  its cross-validated ROC-AUC with a bootstrap interval (0.5: indistinguishable) and the
  features whose permutation lowers that AUC the most. A text column enters it as the main
  components of its TF-IDF words (:func:`text_components`), never as raw strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DOMAIN_FOLDS = 3
DOMAIN_TREES = 60
TOP_FEATURES = 10
PERMUTATION_REPEATS = 3
PERMUTATION_ROWS = 5000  # held-out rows the permutation importances are measured on


@dataclass
class FeatureDrift:
    """One feature's drift from the reference to one client split."""

    feature: str
    kind: str
    statistic: str
    value: float
    ci: tuple[float, float] | None
    p_value: float
    q_value: float  # Benjamini-Hochberg adjusted
    reference_summary: str  # "median 38" / "most common 'rent' (41%)"
    current_summary: str
    unseen_share: float  # share of client rows with a category the reference never had
    unseen: list[str]
    chart: dict[str, Any]


@dataclass
class DomainClassifier:
    """How well a model tells reference rows from client rows."""

    auc: float
    ci: tuple[float, float] | None
    rows: int  # rows per side it was trained and scored on
    drivers: list[dict[str, Any]]  # [{feature, drop, low, high}], largest first


@dataclass
class DriftResult:
    """Drift from the reference split to one client split."""

    reference: str
    current: str
    features: list[FeatureDrift] = field(default_factory=list)
    domain: DomainClassifier | None = None
    note: str = ""  # why the domain classifier was not computed


def _sample(frame, rows: int, rng: np.random.Generator):
    if len(frame) <= rows:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), rows, replace=False))]


def _readable(x: float) -> str:
    """48,750 rather than 4.875e+04; 0.291 and -0.00412 to three significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _numbers(column) -> np.ndarray:
    """A column as floats (NaN where not a number); float32 stays float32."""
    import pandas as pd

    x = pd.to_numeric(column, errors="coerce")
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    return x.to_numpy(dtype=dtype, na_value=np.nan)


def _summary(kind: str, values) -> str:
    import pandas as pd

    if kind == "text":
        return f"median {_readable(_words_per_text(values))} words per text"
    if kind == "numeric":
        v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
        return f"median {_readable(float(v.median()))}" if len(v) else "no values"
    counts = pd.Series(values).astype("string").fillna("(missing)").value_counts(normalize=True)
    if counts.empty:
        return "no values"
    return f"most common '{counts.index[0]}' ({100 * counts.iloc[0]:.0f}%)"


def _tokens(values) -> Any:
    """Lower-cased word tokens of every text, one row per token."""
    import pandas as pd

    words = pd.Series(values).fillna("").astype(str).str.lower().str.findall(r"\w+")
    return words.explode().dropna()


def _words_per_text(values) -> float:
    import pandas as pd

    return float(pd.Series(values).fillna("").astype(str).str.split().str.len().median())


def bin_text(reference, current):
    """A text column as counts over its words (the client's words the reference never used
    are the unseen bins: the out-of-vocabulary share), scaled to one unit per text.

    Words within one text are not independent draws, so the counts are scaled down to the
    number of texts: the test and the interval weigh the evidence of each text once."""
    import dataclasses

    from auditor.metrics.drift import bin_categorical

    b = bin_categorical(_tokens(reference), _tokens(current))
    ref_scale = len(reference) / max(float(b.reference.sum()), 1.0)
    cur_scale = len(current) / max(float(b.current.sum()), 1.0)
    return dataclasses.replace(b, reference=b.reference * ref_scale, current=b.current * cur_scale)


def _column_drift(
    col: str, reference, current, kind: str | None, settings, *, seed, resamples, confidence
) -> FeatureDrift:
    """One column's drift: its bins, effect size with interval, test and summaries."""
    from auditor.metrics.drift import (
        DRIFT_STATISTICS,
        bin_categorical,
        bin_numeric,
        effect_interval,
        p_value,
    )

    kind = kind if kind in ("numeric", "text") else "categorical"
    if kind == "numeric":
        b = bin_numeric(_numbers(reference), _numbers(current))
    elif kind == "text":  # the words' distribution, never the raw strings as categories
        b = bin_text(reference, current)
    else:
        b = bin_categorical(reference, current)
    name = settings.numeric if kind == "numeric" else settings.categorical
    value, ci = effect_interval(
        DRIFT_STATISTICS[name], b, resamples=resamples, confidence=confidence, seed=seed
    )
    total = max(float(b.current.sum()), 1.0)
    shown = np.argsort(-(b.reference + b.current))[:12] if kind != "numeric" else None
    chart = {
        "labels": [b.labels[i] for i in (shown if shown is not None else range(len(b.labels)))],
        "reference": _shares(b.reference, shown),
        "current": _shares(b.current, shown),
    }
    if kind == "numeric" and b.edges is not None:
        chart["edges"] = [float(e) for e in b.edges]  # between bin i and bin i + 1
    return FeatureDrift(
        feature=col,
        kind=kind,
        statistic=name,
        value=value,
        ci=ci,
        p_value=p_value(b),
        q_value=float("nan"),
        reference_summary=_summary(kind, reference),
        current_summary=_summary(kind, current),
        unseen_share=float(b.current[b.unseen].sum() / total),
        unseen=[b.labels[i] for i in np.flatnonzero(b.unseen)],
        chart=chart,
    )


#: Rows (both samples together) from which the columns are compared on two threads: the
#: sorts and counts release the GIL, and below this a thread costs more than it saves.
THREADED_ROWS = 200_000


def feature_drift(
    reference,
    current,
    columns: list[str],
    kinds: dict[str, str],
    settings,
    *,
    seed: int,
    resamples: int,
    confidence: float,
) -> list[FeatureDrift]:
    """Drift of every feature column, with false-discovery control across them.

    Each column is compared on its own (its seed from its position), on two threads when
    the samples hold :data:`THREADED_ROWS` rows or more; the result does not depend on it.
    """
    from auditor.metrics.drift import false_discovery

    pairs = [(reference[col], current[col]) for col in columns]  # read here, not on threads

    def one(j: int) -> FeatureDrift:
        ref, cur = pairs[j]
        return _column_drift(
            columns[j],
            ref,
            cur,
            kinds.get(columns[j]),
            settings,
            seed=seed * 7919 + j,
            resamples=resamples,
            confidence=confidence,
        )

    if len(columns) > 1 and len(reference) + len(current) >= THREADED_ROWS:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="drift") as pool:
            out = list(pool.map(one, range(len(columns))))
    else:
        out = [one(j) for j in range(len(columns))]
    p_values = [f.p_value for f in out]
    for f, q in zip(out, false_discovery(np.asarray(p_values)), strict=True):
        f.q_value = float(q)
    return out


def _shares(counts: np.ndarray, shown) -> list[float]:
    total = max(float(counts.sum()), 1.0)
    picked = counts if shown is None else counts[shown]
    return [float(c / total) for c in picked]


def _encode(frame, columns: list[str], kinds: dict[str, str], categories: dict[str, list]):
    """A float matrix for the trees: numbers as they are, categories as their codes."""
    import pandas as pd

    blocks = []
    for col in columns:
        if kinds.get(col) == "numeric":
            blocks.append(pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64))
        else:
            codes = pd.Categorical(frame[col].astype("string"), categories=categories[col]).codes
            blocks.append(np.where(codes < 0, np.nan, codes).astype(np.float64))
    return np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))


def _out_of_fold_scores(X: np.ndarray, y: np.ndarray, categorical: np.ndarray, seed: int):
    """(out-of-fold scores, the last fold's model, its held-out rows)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(y))
    folds = StratifiedKFold(DOMAIN_FOLDS, shuffle=True, random_state=seed)
    model, held = None, np.arange(0)
    for train, held in folds.split(X, y):
        model = HistGradientBoostingClassifier(
            max_iter=DOMAIN_TREES,
            categorical_features=categorical if categorical.any() else None,
            random_state=seed,
        )
        model.fit(X[train], y[train])
        scores[held] = model.predict_proba(X[held])[:, 1]
    return scores, model, held


def _split_gains(model, n_features: int) -> np.ndarray | None:
    """Each column's summed split gain over the model's trees (None: not readable).

    The trees number their features in scikit-learn's internal order (categorical
    columns first, then numeric ones); the gains are returned in the columns' order, and
    only where every split's categorical flag agrees with the column it maps to, so a
    change of that private layout falls back to measuring every column.
    """
    flags = getattr(model, "is_categorical_", None)
    order = np.arange(n_features)
    if flags is not None:
        flags = np.asarray(flags, dtype=bool)
        order = np.r_[np.flatnonzero(flags), np.flatnonzero(~flags)]
    categorical = np.zeros(n_features, dtype=bool) if flags is None else flags
    gains = np.zeros(n_features)
    try:
        for trees in model._predictors:  # scikit-learn's fitted trees: private, so checked
            for tree in trees:
                nodes = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
                columns = order[nodes["feature_idx"].astype(np.int64)]
                if np.any(categorical[columns] != nodes["is_categorical"].astype(bool)):
                    return None
                np.add.at(gains, columns, nodes["gain"])
    except (AttributeError, KeyError, ValueError, IndexError, TypeError):
        return None
    return gains


def _drivers(model, X, y, held, columns: list[str], rng, seed: int) -> list[dict[str, Any]]:
    """The columns whose shuffling costs the model most AUC, on held-out rows.

    Permutation importance (the drop in held-out ROC-AUC when one column is shuffled,
    :data:`PERMUTATION_REPEATS` times) on at most :data:`PERMUTATION_ROWS` held-out rows,
    for the ``2 * TOP_FEATURES`` columns with the largest summed split gain: a column no
    tree splits on cannot change a prediction when shuffled, and one with little gain
    cannot be a top driver, so measuring the rest would only cost time.
    """
    from auditor.metrics import rank_auc

    shown = held
    if held.size > PERMUTATION_ROWS:  # a seeded sample of the held-out rows keeps it cheap
        shown = np.sort(rng.choice(held, PERMUTATION_ROWS, replace=False))
    Xs, ys = X[shown], y[shown]
    if np.unique(ys).size < 2:
        return []
    gains = _split_gains(model, X.shape[1])
    if gains is None:
        candidates = np.arange(X.shape[1])
    else:
        candidates = np.flatnonzero(gains > 0)
        candidates = candidates[np.argsort(-gains[candidates], kind="stable")][: 2 * TOP_FEATURES]
    base = rank_auc(ys, model.predict_proba(Xs)[:, 1])
    shuffle = np.random.default_rng(seed)
    n = len(ys)
    found = []
    for j in candidates:  # one prediction call per column: its repeats stacked
        stacked = np.tile(Xs, (PERMUTATION_REPEATS, 1))
        for r in range(PERMUTATION_REPEATS):
            stacked[r * n : (r + 1) * n, j] = shuffle.permutation(Xs[:, j])
        scores = model.predict_proba(stacked)[:, 1].reshape(PERMUTATION_REPEATS, n)
        drops = np.array([base - rank_auc(ys, s) for s in scores])
        found.append((float(drops.mean()), int(j), drops))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [
        {
            "feature": columns[j],
            "drop": mean,
            "low": float(drops.min()),
            "high": float(drops.max()),
        }
        for mean, j, drops in found[:TOP_FEATURES]
    ]


#: Components of a text column's TF-IDF words the domain classifier reads.
TEXT_COMPONENTS = 20


def text_components(values, *, seed: int) -> np.ndarray:
    """A text column as the first :data:`TEXT_COMPONENTS` components (truncated SVD) of
    its TF-IDF words (1-2 grams), fitted on both samples without their side: no label."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    text = values.fillna("").astype(str).tolist()
    try:
        tfidf = TfidfVectorizer(ngram_range=(1, 2), max_features=20_000, sublinear_tf=True)
        words = tfidf.fit_transform(text)
    except ValueError:  # no words at all (empty texts)
        return np.zeros((len(text), 1))
    k = min(TEXT_COMPONENTS, words.shape[1] - 1, len(text) - 1)
    if k < 1:
        return words.toarray()
    return TruncatedSVD(n_components=k, random_state=seed).fit_transform(words)


def domain_classifier(
    reference,
    current,
    columns: list[str],
    kinds: dict[str, str],
    *,
    rows: int,
    seed: int,
    resamples: int,
    confidence: float,
) -> DomainClassifier:
    """Cross-validated ROC-AUC of a model telling reference rows from client rows.

    Up to ``rows`` rows of each side (a seeded sample), gradient-boosted trees over
    :data:`DOMAIN_FOLDS` folds, the AUC of the out-of-fold scores with a bootstrap interval,
    and the columns that let it tell them apart: the drop in AUC when each column is
    shuffled (permutation importance, :data:`PERMUTATION_REPEATS` shuffles on at most
    :data:`PERMUTATION_ROWS` rows of the last held-out fold, for the columns the trees
    gain most from; see :func:`_drivers`).
    """
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from auditor.metrics import bootstrap_metrics

    rng = np.random.default_rng(seed)
    ref, cur = _sample(reference, rows, rng), _sample(current, rows, rng)
    both = pd.concat([ref[columns], cur[columns]], ignore_index=True)
    texts = [c for c in columns if kinds.get(c) == "text"]
    tabular = [c for c in columns if c not in texts]
    categorical = [c for c in tabular if kinds.get(c) != "numeric"]
    categories = {c: list(both[c].astype("string").value_counts().index[:250]) for c in categorical}
    X = _encode(both, tabular, kinds, categories) if tabular else np.empty((len(both), 0))
    mask = np.array([c in categories for c in tabular], dtype=bool)
    names = list(tabular)
    for col in texts:  # a text column as its TF-IDF words' main components
        block = text_components(both[col], seed=seed)
        X = np.hstack([X, block])
        mask = np.r_[mask, np.zeros(block.shape[1], dtype=bool)]
        names += [f"{col} (words {k + 1})" for k in range(block.shape[1])]
    columns = names
    y = np.r_[np.zeros(len(ref), dtype=np.int64), np.ones(len(cur), dtype=np.int64)]
    # One thread: the trees are small, and OpenMP threads competing with another process
    # for two cores make them many times slower, not faster.
    with threadpool_limits(limits=1, user_api="openmp"):
        scores, model, held = _out_of_fold_scores(X, y, mask, seed)
        drivers = _drivers(model, X, y, held, columns, rng, seed)
    est = bootstrap_metrics(
        "binary",
        y,
        scores,
        (scores >= 0.5).astype(int),
        ["roc_auc"],
        resamples=resamples,
        confidence=confidence,
        seed=seed,
    )["roc_auc"]
    return DomainClassifier(
        auc=float(est.value), ci=est.ci, rows=min(len(ref), len(cur)), drivers=drivers
    )
