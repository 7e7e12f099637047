"""The schema's name lists, generated from the catalogues: one source for every vocabulary.

``schemas/spec.schema.json`` is the single source of truth for the spec's *shape* and
defaults; the *names* its enums allow come from the catalogues that define them. This
module lists, for each enum in the schema, the catalogue it is read from. ``make schema``
(``python -m auditor.spec.enums``) writes them into the schema file, and
``tests/spec/test_enums.py`` fails when the file and the catalogues disagree, so a name
added to a catalogue cannot be forgotten in the schema, nor the other way round.

The providers import the registries that define the names (the training registries import
torch), so this module is for building and testing, never imported by ``auditor validate``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.spec.schema import SCHEMA_PATH


def _tasks() -> list[str]:
    from auditor.types import LM_TASKS, TASKS, TEXT_TASKS

    return [*TASKS, *TEXT_TASKS, *LM_TASKS]


def _drift_numeric() -> list[str]:
    from auditor.metrics.drift import statistic_names

    return statistic_names("numeric")


def _drift_categorical() -> list[str]:
    from auditor.metrics.drift import statistic_names

    return statistic_names("categorical")


def _metrics() -> list[str]:
    from auditor.metrics import METRICS

    return list(METRICS)


def _criterion_metrics() -> list[str]:
    from auditor.metrics import METRICS
    from auditor.metrics.fairness import FAIRNESS_METRICS
    from auditor.text.catalogue import TEXT_METRICS

    return [*METRICS, *FAIRNESS_METRICS, *TEXT_METRICS]


def _criterion_checks() -> list[str]:
    from auditor.checks import criterion_checks

    return criterion_checks()


def _criterion_baselines() -> list[str | None]:
    from auditor.evaluate import TRIVIAL_BASELINES

    names = [n for task in ("binary", "regression") for n in TRIVIAL_BASELINES[task]]
    return [*dict.fromkeys(names), "linear", None]


def _data_formats() -> list[str]:
    from auditor.data.sources import FORMATS

    return ["auto", *FORMATS]


def _corpus_formats() -> list[str]:
    from auditor.text.memorization import CORPUS_FORMATS

    return ["auto", *CORPUS_FORMATS]


def _held_out_splits() -> list[str]:
    from auditor.data.corpus import HELD_OUT_SPLITS

    return list(HELD_OUT_SPLITS)


def _judged_metrics() -> list[str]:
    from auditor.text.rubrics import JUDGED_METRICS

    return list(JUDGED_METRICS)


def _split_strategies() -> list[str]:
    from auditor.data.splits import STRATEGIES

    return list(STRATEGIES)


def _examples() -> list[str]:
    from auditor.data.examples import GENERATORS

    return list(GENERATORS)


def _architectures() -> list[str]:
    from auditor.train.architectures import ARCHITECTURES

    return list(ARCHITECTURES)


def _activations() -> list[str]:
    from auditor.train.architectures import ACTIVATIONS

    return list(ACTIVATIONS)


def _optimizers() -> list[str]:
    from auditor.train.optim import OPTIMIZERS

    return list(OPTIMIZERS)


def _schedules() -> list[str]:
    from auditor.train.optim import SCHEDULES

    return list(SCHEDULES)


def _precisions() -> list[str]:
    from auditor.train.device import PRECISIONS

    return list(PRECISIONS)


def _vendor_formats() -> list[str]:
    from auditor.vendor_models.registry import FORMATS

    return list(FORMATS)


def _challengers() -> list[str]:
    from auditor.challenger import CHALLENGERS

    return list(CHALLENGERS)


def _backends() -> list[str]:
    from auditor.train.distributed import BACKENDS

    return list(BACKENDS)


def _train_on() -> list[str]:
    from auditor.train.engine import TRAIN_ON

    return list(TRAIN_ON)


def _tuning_methods() -> list[str]:
    from auditor.tuning.catalogue import METHODS

    return list(METHODS)


def _tuning_pruners() -> list[str]:
    from auditor.tuning.catalogue import PRUNERS

    return list(PRUNERS)


def _cv_strategies() -> list[str]:
    from auditor.tuning.catalogue import CV_STRATEGIES

    return list(CV_STRATEGIES)


def _vendor_examples() -> list[Any]:
    from auditor.vendor_models.example import EXAMPLES

    return [*EXAMPLES, None]


P = "properties"
#: JSON path of an enum in the schema -> the catalogue's names, in catalogue order.
ENUMS: dict[tuple[str, ...], Callable[[], list[Any]]] = {
    (P, "objective", P, "task"): _tasks,
    (P, "data", P, "format"): _data_formats,
    (P, "data", P, "corpus", P, "format"): _corpus_formats,
    (P, "data", P, "generate", P, "example"): _examples,
    (P, "data", P, "split", P, "strategy"): _split_strategies,
    (P, "model", P, "architecture"): _architectures,
    (P, "model", P, "activation"): _activations,
    (P, "model", P, "vendor", P, "format"): _vendor_formats,
    (P, "model", P, "vendor", P, "example"): _vendor_examples,
    (P, "model", P, "compare"): _challengers,
    (P, "training", P, "optimizer"): _optimizers,
    (P, "training", P, "schedule", P, "name"): _schedules,
    (P, "training", P, "precision"): _precisions,
    (P, "training", P, "train_on"): _train_on,
    (P, "training", P, "distributed", P, "backend"): _backends,
    (P, "tuning", P, "method"): _tuning_methods,
    (P, "tuning", P, "retrain"): _train_on,
    (P, "tuning", P, "pruning"): _tuning_pruners,
    (P, "tuning", P, "cv", P, "strategy"): _cv_strategies,
    (P, "evaluation", P, "cross_validation", P, "strategy"): _cv_strategies,
    ("$defs", "metric"): _metrics,
    ("$defs", "criterion", P, "metric"): _criterion_metrics,
    ("$defs", "criterion", P, "check"): _criterion_checks,
    ("$defs", "criterion", P, "baseline"): _criterion_baselines,
    (P, "evaluation", P, "drift", P, "numeric"): _drift_numeric,
    (P, "evaluation", P, "drift", P, "categorical"): _drift_categorical,
    (P, "judge", P, "metrics", "items"): _judged_metrics,
    (P, "evaluation", P, "generations", P, "splits", "items"): _held_out_splits,
}


def node_at(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The schema node at ``path`` (keys only; no ``$ref`` is followed)."""
    node = schema
    for key in path:
        node = node[key]
    return node


def generated(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with every catalogued enum replaced by the catalogue's names."""
    out = json.loads(json.dumps(schema))
    for path, names in ENUMS.items():
        node_at(out, path)["enum"] = names()
    return out


def write_schema(path: Path = SCHEMA_PATH) -> bool:
    """Rewrite the schema file's enums from the catalogues; True when anything changed."""
    text = path.read_text(encoding="utf-8")
    new = json.dumps(generated(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
    if new == text:
        return False
    from auditor.atomic import write_text

    write_text(path, new)
    return True


def main() -> int:
    changed = write_schema()
    print(f"{SCHEMA_PATH}: {'enums rewritten from the catalogues' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":  # pragma: no cover - `make schema`
    sys.exit(main())
