"""The generated-text audit's data and evaluate stages: read the responses, say what applies.

    Spec --read_text_data--> Dataset (one frame per data.audit file, segment columns)
    Dataset --ResponsesFile--> the vendor's responses as the audited model (its fingerprint)
    Spec --text_evaluation--> Evaluation (the text metrics that apply; per split, in
               ``Evaluation.text``, what the evaluate stage measured for the checks)

The findings come from the registered text checks (:mod:`auditor.checks.text_metrics` and
the other ``auditor.checks.text_*`` modules), run by :func:`auditor.checks.run_checks` like
every other check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.text.catalogue import TEXT_METRICS, TextMetric, extra_for
from auditor.types import Dataset, Evaluation, Spec


def read_text_data(spec: Spec) -> Dataset:
    """One frame per audit file, with the text and segment columns as strings."""
    from auditor.data.sources import detect_format, read_table, sha256_file

    if spec.data.generate is not None:
        from auditor.data.examples import ensure_example_data

        ensure_example_data(spec.typed, spec.base_dir)
    text = spec.data.text
    paired = [c for c in (text.pair, text.variant) if c]  # counterfactual pairs, as strings
    columns = list(dict.fromkeys([*text.named().values(), *paired, *spec.data.sensitive]))
    if spec.data.id_column:
        columns.insert(0, spec.data.id_column)
    frames, groups, sources, roles, labels = {}, {}, [], {}, {}
    for entry in spec.data.audit:
        path = spec.resolve_path(entry.path)
        fmt = detect_format(path, spec.data.format)
        frame = read_table(path, fmt, columns=columns, encoding=spec.data.encoding)
        for c in [*text.named().values(), *paired]:
            frame[c] = frame[c].fillna("").astype(str)
        frames[entry.name] = frame
        groups[entry.name] = frame[list(spec.data.sensitive)].astype(str)
        roles[entry.name] = "audit"
        labels[entry.name] = entry.label
        sources.append(
            {
                "role": "audit",
                "split": entry.name,
                "path": str(path),
                "format": fmt,
                "rows": len(frame),
                "columns": len(frame.columns),
                "sha256": sha256_file(path),
            }
        )
    if spec.data.corpus is not None:  # the declared training corpus, fingerprinted too
        from auditor.text.memorization import corpus_source

        sources.append(corpus_source(spec))
    return Dataset(
        task=spec.task,
        target=text.response,
        frames=frames,
        X={},
        y={},
        groups=groups,
        feature_columns=[],
        column_types={c: "text" for c in text.named().values()},
        feature_names=[],
        sensitive=list(spec.data.sensitive),
        id_column=spec.data.id_column,
        sources=sources,
        split_info={"strategy": "none", "sizes": {k: len(v) for k, v in frames.items()}},
        preprocessing_info={},
        split_roles=roles,
        split_labels=labels,
    )


@dataclass
class ResponsesFile:
    """The audited model: a vendor's responses, as given in the audit files."""

    dataset: Dataset
    kind: str = "vendor:responses"
    has_scores: bool = False
    history: list = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        digest = hashlib.sha256()
        for split in self.dataset.splits:
            for response in self.dataset.frames[split][self.dataset.target]:
                digest.update(response.encode("utf-8") + b"\0")
        self.info = {
            "format": "responses",
            "fingerprint": digest.hexdigest(),
            "source": f"the {self.dataset.target!r} column of the audit files",
            "device": "cpu",
        }

    def predict(self, dataset: Dataset, split: str) -> np.ndarray:  # pragma: no cover
        raise TypeError("generated text is audited from its responses; nothing is predicted")


def available_metrics(spec: Spec) -> list[TextMetric]:
    """The catalogue's metrics this spec's columns and installed extras allow."""
    import importlib.util

    from auditor.text.local_models import text_models

    named = spec.data.text.named()
    models = text_models(spec)
    out = []
    for m in TEXT_METRICS.values():
        if any(role not in named for role in m.inputs):
            continue
        extra = extra_for(m.name)
        if extra and importlib.util.find_spec(extra[0]) is None:
            continue
        if m.needs and not all(models.declared(n) for n in m.needs):
            continue  # a local model the spec does not declare (text_models)
        out.append(m)
    return out


def text_evaluation(spec: Spec) -> Evaluation:
    """The evaluate stage of generated text: nothing to predict; which metrics apply."""
    metrics = available_metrics(spec)
    notes = {"text_metrics": [m.name for m in metrics]}
    used = used_models(spec, metrics)
    if used:
        notes["text_models"] = used
    return Evaluation(
        task=spec.task,
        classes=[],
        splits={},
        primary_metric=metrics[0].name if metrics else "",
        has_scores=False,
        notes=notes,
    )


def used_models(spec: Spec, metrics: list[TextMetric]) -> list[dict]:
    """The local models the metrics read, hashed and checked now (a bundled file that
    differs from its pin ends the run here, before any is loaded): results.json lists
    them with every file's SHA-256."""
    from auditor.text.local_models import text_models

    needs = {n for m in metrics for n in m.needs}
    return [i.describe() for i in text_models(spec).identities(sorted(needs))] if needs else []
