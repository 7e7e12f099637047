"""The tuning vocabularies: search methods, pruners, cross-validation folds, tunable options.

One catalogue per vocabulary (docs/architecture.md): validation, the search and the schema
read these tables, and ``make schema`` writes the schema's ``tuning.method``,
``tuning.pruning`` and ``tuning.cv.strategy`` enums from them. The options a space may
name are not listed by hand: they are the leaves of the schema's ``model``, ``training``
and ``data.augmentation`` sections, less :data:`NOT_TUNABLE` (each with the reason).

Optuna is imported only by the builders, when a search starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from auditor.types import CLASSIFICATION, TASKS, Task


@dataclass(frozen=True, kw_only=True)
class Method:
    """One search method (``tuning.method``).

    Attributes
    ----------
    name : str
        What a spec writes.
    label : str
        How sentences and tables name it.
    enumerates : bool
        Whether it walks a finite grid: every space entry then needs ``choices`` or a
        ``step``, and a budget of no trials means the whole grid.
    build : callable
        ``build(optuna, *, seed, startup_trials, grid, parallel) -> optuna sampler``
        (``parallel``: workers share the study, so a Bayesian sampler treats other workers'
        running trials as scored, Optuna's constant liar, and draws elsewhere).
    """

    name: str
    label: str
    enumerates: bool
    build: Callable[..., Any]


@dataclass(frozen=True, kw_only=True)
class Pruner:
    """One way of stopping hopeless trials early (``tuning.pruning``).

    ``build(optuna, *, startup_trials, warmup_epochs) -> optuna pruner``.
    """

    name: str
    label: str
    build: Callable[..., Any]


@dataclass(frozen=True, kw_only=True)
class CvStrategy:
    """One way of cutting the training rows into folds (``tuning.cv.strategy``).

    ``build(folds, seed) -> scikit-learn splitter``; ``needs_groups``: its ``split`` takes
    the ``group_column``'s values.
    """

    name: str
    label: str
    tasks: tuple[Task, ...]
    needs_groups: bool
    build: Callable[[int, int], Any]


def _grid(optuna, *, seed, startup_trials, grid, parallel=False):
    return optuna.samplers.GridSampler(grid, seed=seed)


def _random(optuna, *, seed, startup_trials, grid, parallel=False):
    return optuna.samplers.RandomSampler(seed=seed)


def _tpe(optuna, *, seed, startup_trials, grid, parallel=False):
    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=startup_trials, constant_liar=parallel
    )


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(name="grid", label="grid search", enumerates=True, build=_grid),
        Method(name="random", label="random search", enumerates=False, build=_random),
        Method(
            name="bayesian",
            label="Bayesian search (tree-structured Parzen estimator)",
            enumerates=False,
            build=_tpe,
        ),
    )
}


def _no_pruner(optuna, *, startup_trials, warmup_epochs):
    return optuna.pruners.NopPruner()


def _median(optuna, *, startup_trials, warmup_epochs):
    return optuna.pruners.MedianPruner(
        n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs
    )


def _halving(optuna, *, startup_trials, warmup_epochs):
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, warmup_epochs))


PRUNERS: dict[str, Pruner] = {
    p.name: p
    for p in (
        Pruner(name="none", label="no pruning", build=_no_pruner),
        Pruner(name="median", label="median pruning", build=_median),
        Pruner(name="successive_halving", label="successive halving", build=_halving),
    )
}


def _kfold(folds: int, seed: int):
    from sklearn.model_selection import KFold

    return KFold(n_splits=folds, shuffle=True, random_state=seed)


def _stratified(folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


def _grouped(folds: int, seed: int):
    from sklearn.model_selection import GroupKFold

    return GroupKFold(n_splits=folds, shuffle=True, random_state=seed)


CV_STRATEGIES: dict[str, CvStrategy] = {
    s.name: s
    for s in (
        CvStrategy(
            name="random", label="random folds", tasks=TASKS, needs_groups=False, build=_kfold
        ),
        CvStrategy(
            name="stratified",
            label="stratified folds",
            tasks=CLASSIFICATION,
            needs_groups=False,
            build=_stratified,
        ),
        CvStrategy(
            name="group", label="grouped folds", tasks=TASKS, needs_groups=True, build=_grouped
        ),
    )
}

#: The schema sections whose leaves a space may name (paths of property names).
TUNABLE_SECTIONS: tuple[tuple[str, ...], ...] = (
    ("model",),
    ("training",),
    ("data", "augmentation"),
)

#: Options of those sections that a search may not choose, and why.
NOT_TUNABLE: dict[str, str] = {
    "model.vendor": "a vendor's model is audited as it is, never trained",
    "model.compare": "it says what to audit beside a vendor's model, not how to train one",
    "training.device": "it says where training runs, not what the model learns",
    "training.precision": "it is chosen for the hardware, not for the model",
    "training.seed": "a seed chosen by its validation score fits the validation rows' noise",
    "training.deterministic": "it says how training runs, not what the model learns",
    "training.cpu_threads": "it says how training runs, not what the model learns",
    "training.distributed": "it says how many processes share training, not what is learned",
    "training.time_budget": "a wall-clock limit trains differently on every machine",
    "training.export_onnx": "it is an output of training, not a choice within it",
    "training.train_on": "tuning.retrain decides which rows the chosen model is trained on",
    "model.pretrained.path": "it names the checkpoint to fine-tune, not how to train it",
    "model.pretrained.lora.target_modules": "a list of the checkpoint's module names, not a "
    "value a search draws",
    "model.encoder.model": "it names the encoder to fine-tune, not how to train it",
    "model.encoder.text_column": "it names the data the classifier reads, not how to train it",
}


@lru_cache(maxsize=1)
def _tunable() -> dict[str, dict[str, Any]]:
    from auditor.spec.schema import load_schema, resolve_ref

    root = load_schema()
    found: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        node = resolve_ref(node, root)
        name = ".".join(path)
        if name in NOT_TUNABLE:
            return
        if "properties" in node:
            for key, sub in node["properties"].items():
                walk(sub, (*path, key))
        else:
            found[name] = node

    for section in TUNABLE_SECTIONS:
        node: dict[str, Any] = root
        for key in section:
            node = resolve_ref(node, root)["properties"][key]
        walk(node, section)
    return found


def tunable_options() -> list[str]:
    """Every option a space entry may name, as its dotted path, in schema order."""
    return list(_tunable())


def option_schema(option: str) -> dict[str, Any]:
    """The schema of a tunable option (KeyError for any other name)."""
    return dict(_tunable()[option])


def option_kind(option: str) -> str:
    """How a space entry over ``option`` may draw it: ``"integer"``, ``"number"`` (a range
    with ``low``/``high``, or choices) or ``"choice"`` (choices only)."""
    types = option_schema(option).get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    for kind in ("integer", "number"):
        if kind in types:
            return kind
    return "choice"


def direction_of(metric: str) -> str | None:
    """``"maximize"`` or ``"minimize"``: the way ``metric`` ('loss' or a catalogued
    metric) is better; None for a name the catalogue lacks."""
    from auditor.metrics import METRICS
    from auditor.spec.rules import EARLY_STOPPING_LOSS

    if metric == EARLY_STOPPING_LOSS:
        return "minimize"
    entry = METRICS.get(metric)
    if entry is None:
        return None
    return "maximize" if entry.greater_is_better else "minimize"
