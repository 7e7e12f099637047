"""The generated-text audit's stages: read the responses, measure them, make findings.

    Spec --read_text_data--> Dataset (one frame per data.audit file, segment columns)
    Dataset --ResponsesFile--> the vendor's responses as the audited model (its fingerprint)
    Dataset --text_findings--> Findings: every applicable text metric per split, its pass
               rate at the catalogue's per-row threshold and at every criterion's
               ``pass_at``, and the same per segment (``data.sensitive``) group

Findings are ``text.<metric>.<split>`` (the aggregate) and
``text.<metric>.pass_rate[_at_<t>].<split>``, with ``.<sensitive>.<group>`` per segment;
the verdict judges them like any other finding. Every figure comes with its bootstrap
interval (:mod:`auditor.text.aggregate`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditor.splits import bootstrap_seed, split_phrase
from auditor.text.aggregate import TextEstimate, aggregate, pass_rate
from auditor.text.catalogue import TEXT_METRICS, TextMetric, extra_for, pass_rate_words
from auditor.types import Dataset, Evaluation, Finding, Spec

#: Rows of the worst-scoring responses kept for the report, per split and metric.
WORST_ROWS = 5
EXCERPT_CHARS = 240


def read_text_data(spec: Spec) -> Dataset:
    """One frame per audit file, with the text and segment columns as strings."""
    from auditor.data.sources import detect_format, read_table, sha256_file

    if spec.data.generate is not None:
        from auditor.data.examples import ensure_example_data

        ensure_example_data(spec.typed, spec.base_dir)
    text = spec.data.text
    columns = list(dict.fromkeys([*text.named().values(), *spec.data.sensitive]))
    if spec.data.id_column:
        columns.insert(0, spec.data.id_column)
    frames, groups, sources, roles, labels = {}, {}, [], {}, {}
    for entry in spec.data.audit:
        path = spec.resolve_path(entry.path)
        fmt = detect_format(path, spec.data.format)
        frame = read_table(path, fmt, columns=columns, encoding=spec.data.encoding)
        for c in text.named().values():
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


def _inputs(spec: Spec, frame) -> dict[str, list[str]]:
    return {role: frame[col].tolist() for role, col in spec.data.text.named().items()}


def _available(spec: Spec) -> list[TextMetric]:
    """The catalogue's metrics this spec's columns and installed extras allow."""
    import importlib.util

    named = spec.data.text.named()
    out = []
    for m in TEXT_METRICS.values():
        if any(role not in named for role in m.inputs):
            continue
        extra = extra_for(m.name)
        if extra and importlib.util.find_spec(extra[0]) is None:
            continue
        out.append(m)
    return out


def _thresholds(spec: Spec, m: TextMetric) -> list[float]:
    ts = [] if m.row_threshold is None else [float(m.row_threshold)]
    for c in spec.acceptance:
        if c.metric == m.name and c.pass_at is not None and float(c.pass_at) not in ts:
            ts.append(float(c.pass_at))
    return ts


def _key(m: TextMetric, t: float | None) -> str:
    if t is None:
        return m.name
    if t == m.row_threshold:
        return f"{m.name}.pass_rate"
    return f"{m.name}.pass_rate_at_{f'{t:g}'.replace('.', '_')}"


def _fmt(m: TextMetric, x: float | None, *, rate: bool) -> str:
    from auditor.checks.text import num, pct

    if x is None:
        return "n/a"
    return pct(x, digits=1) if rate or m.high == 1.0 and m.category == "safety" else num(x)


def _sentence(m, est: TextEstimate, t, where: str, confidence: float) -> str:
    rate = t is not None
    ci = (
        ""
        if est.ci is None
        else (
            f" (interval {_fmt(m, est.low, rate=rate)} to {_fmt(m, est.high, rate=rate)}, "
            f"{confidence:.0%} confidence)"
        )
    )
    heuristic = " This is a lexical heuristic, not a judge." if m.heuristic else ""
    if rate:
        return (
            f"{_fmt(m, est.value, rate=True)} of the {est.n} responses in {where} have "
            f"{m.label} {pass_rate_words(m, t)}{ci}.{heuristic}"
        )
    return f"{m.label} in {where} is {_fmt(m, est.value, rate=False)}{ci}.{heuristic}"


@dataclass
class _Measure:
    spec: Spec
    split: str
    label: str | None

    @property
    def confidence(self) -> float:
        return float(self.spec.evaluation.confidence)

    def estimate(self, m: TextMetric, values: np.ndarray, t: float | None, purpose: int):
        ev = self.spec.evaluation
        seed = bootstrap_seed(ev.seed, self.split, purpose)
        kwargs = {"resamples": int(ev.bootstrap), "seed": seed, "confidence": self.confidence}
        if t is not None:
            return pass_rate(values, t, higher_is_better=m.higher_is_better, **kwargs)
        return aggregate(values, corpus=m.corpus, **kwargs)


def _worst_rows(m: TextMetric, frame, spec: Spec, scores: np.ndarray) -> list[dict]:
    text = spec.data.text
    order = np.argsort(scores if m.higher_is_better else -scores, kind="stable")[:WORST_ROWS]
    rows = []
    for i in order:
        row = frame.iloc[int(i)]
        rows.append(
            {
                "id": str(row[spec.data.id_column]) if spec.data.id_column else str(int(i)),
                "question": row[text.question][:EXCERPT_CHARS],
                "context": row[text.context][:EXCERPT_CHARS] if text.context else "",
                "response": row[text.response][:EXCERPT_CHARS],
                "score": float(scores[i]),
            }
        )
    return rows


def text_evaluation(spec: Spec) -> Evaluation:
    """The evaluate stage of generated text: nothing to predict; which metrics apply."""
    metrics = _available(spec)
    return Evaluation(
        task=spec.task,
        classes=[],
        splits={},
        primary_metric=metrics[0].name if metrics else "",
        has_scores=False,
        notes={"text_metrics": [m.name for m in metrics]},
    )


def text_findings(spec: Spec, dataset: Dataset) -> list[Finding]:
    """Every applicable text metric on every audit split, with intervals."""
    findings: list[Finding] = []
    metrics = _available(spec)
    for split in dataset.splits:
        frame = dataset.frames[split]
        label = dataset.split_labels.get(split)
        measure = _Measure(spec, split, label)
        data = _inputs(spec, frame)
        for number, m in enumerate(metrics):
            raw = m.rows(data)
            per_row = m.sentence(raw) if m.sentence is not None else raw
            worst = _worst_rows(m, frame, spec, per_row)
            findings += _metric_findings(measure, m, raw, per_row, dataset, number, worst)
    return findings


def _metric_findings(measure, m, raw, per_row, dataset, number, worst) -> list[Finding]:
    spec, split = measure.spec, measure.split
    where = split_phrase(split, measure.label)
    out = []
    for j, t in enumerate([None, *_thresholds(spec, m)]):
        values = raw if t is None else per_row
        est = measure.estimate(m, values, t, 1000 * number + j)
        chart_rows = []
        segment = []
        for col in dataset.sensitive:
            groups = dataset.groups[split][col].to_numpy()
            for g in sorted(set(groups)):
                mask = groups == g
                sub = measure.estimate(
                    m, values[mask], t, 1000 * number + j + 7 * (1 + len(segment))
                )
                segment.append(_finding(m, sub, t, split, f"{where}, {col} {g}", measure, col, g))
                chart_rows.append(
                    {
                        "group": f"{col}: {g}",
                        "value": sub.value,
                        "low": sub.low,
                        "high": sub.high,
                        "n": sub.n,
                        "inconclusive": sub.n < int(spec.evaluation.min_group_size),
                    }
                )
        chart = {
            "kind": "group_bars",
            "metric": m.name,
            "rows": chart_rows,
            "bound": None,
            "reference": est.value,
            "title": f"{m.label}{'' if t is None else ' pass rate'} by segment",
        }
        extra = {"worst_rows": worst}
        chart = chart if dataset.sensitive else None
        out += [_finding(m, est, t, split, where, measure, None, None, chart, extra), *segment]
    return out


def _finding(m, est, t, split, where, measure, sensitive, group, chart=None, extra=None) -> Finding:
    key = _key(m, t)
    ident = f"text.{key}.{split}" + (f".{sensitive}.{group}" if sensitive else "")
    value = est.value if np.isfinite(est.value) else None
    title = m.label if t is None else f"{m.label}: share {pass_rate_words(m, t)}"
    summary = _sentence(m, est, t, where, measure.confidence)
    status = "pass" if value is not None else "error"
    needed = int(measure.spec.evaluation.min_group_size)
    if sensitive and est.n < needed:  # a segment too small to judge: shown, never deciding
        status = "inconclusive"
        summary += f" Only {est.n} rows: too few to judge (evaluation.min_group_size is {needed})."
    return Finding(
        id=ident,
        check="text",
        category=m.category,
        status=status,
        title=f"{title} on {split}" + (f" ({sensitive} {group})" if sensitive else ""),
        summary=summary,
        value=value,
        ci=est.ci,
        metric=m.name,
        split=split,
        sensitive=sensitive,
        n=est.n,
        details={
            "label": m.label,
            "pass_at": t,
            "heuristic": m.heuristic,
            "group": group,
            "description": m.description,
            "higher_is_better": m.higher_is_better,
            **(extra or {}),
        },
        chart=chart,
    )
