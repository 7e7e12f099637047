"""The previous report: what changed since the approved run (``--against``, ``report.against``).

A run can be compared with an earlier run's ``results.json`` (the approved model's, say).
Each criterion's figure and each headline metric (the primary metric, and every metric a
criterion names, on every split) gets its change, this run's value minus the previous
one's, with an interval:

- *paired* when both runs judged the same rows with the same resamples: the same data
  files (by SHA-256), the same split settings and the same bootstrap seed and size. The
  bootstrap weights depend only on those (:func:`auditor.metrics.bootstrap.draw_weights`),
  so replicate ``b`` of both runs is the same resample, and the interval is the
  percentile interval of the replicate differences (as :mod:`auditor.compare` pairs the
  vendor's model with the in-house one);
- *unpaired* otherwise (other data): the two runs' replicates are independent, and the
  interval is that of the difference of independent draws (the previous replicates in a
  seeded random order); a previous run that kept no replicates gives a normal
  approximation from the two intervals.

For that, every run keeps in results.json (``replicates``) the bootstrap replicates of the
findings a later run may compare with: those a criterion judges and the headline metrics'.

A criterion with ``change: true`` bounds the change rather than the value ("ROC-AUC may
drop by at most 0.01 against the approved model": ``at_least: -0.01``), as TFMA's change
thresholds do; without a previous report it cannot be measured (an error, NOT READY).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: A results.json larger than this is refused (a run's is well under 10 MB).
MAX_RESULTS_BYTES = 64 * 1024 * 1024
#: How results.json keeps replicates: little-endian float32, base64 (4 bytes a replicate).
REPLICATE_DTYPE = "<f4"
#: Seed of the random order that unpairs two runs' replicates.
UNPAIR_SEED = 20_261_203


@dataclass(frozen=True)
class Previous:
    """What a comparison needs of the previous run's results.json."""

    path: Path
    sha256: str
    name: str
    finished: str
    verdict: str
    findings: Mapping[str, Mapping[str, Any]]  # by id
    replicates: Mapping[str, np.ndarray]  # by finding id
    basis: Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """This run's value minus the previous one's, with its interval."""

    previous: float | None
    current: float | None
    value: float | None
    ci: tuple[float, float] | None
    paired: bool
    reason: str = ""  # why there is no change to give (value None)


@dataclass(frozen=True)
class Against:
    """The previous report as this run compares with it: paired or not, at what level."""

    previous: Previous
    paired: bool
    confidence: float

    def change(self, finding) -> Change:
        """``finding``'s value minus the previous run's value of the same measurement."""
        return change(finding, self.previous, paired=self.paired, confidence=self.confidence)


def compare_with(spec, dataset, previous: Previous | None) -> Against | None:
    """How this run compares with ``previous`` (None: no previous report)."""
    if previous is None:
        return None
    paired = same_rows(previous, pairing_basis(spec, dataset))
    return Against(previous, paired, float(spec.evaluation.confidence))


# ------------------------------------------------------------------ reading
def previous_path(spec, override: str | Path | None) -> tuple[Path | None, Any]:
    """The previous results.json to compare with and where it was named (for errors):
    ``--against`` first, else ``report.against`` (relative to the spec)."""
    if override is not None:
        return Path(override), None
    configured = spec.report.against
    if not configured:
        return None, None
    return spec.resolve_path(configured), spec.locate(("report", "against"))


def load_previous(path: Path, *, location=None) -> Previous:
    """Read a previous run's results.json; one located line when it is not one."""
    from auditor.errors import DataError, Location
    from auditor.results import parse_results

    where = location or Location(file="--against")

    def refuse(why: str) -> DataError:
        return DataError(f"the previous report {why}", location=where)

    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise refuse(f"{path} does not exist (give a run's results.json)")
    size = path.stat().st_size
    if size > MAX_RESULTS_BYTES:
        raise refuse(f"{path} is {size:,} bytes, more than {MAX_RESULTS_BYTES:,}")
    raw = path.read_bytes()
    doc = parse_results(raw, path)  # located at the file: its line and column
    if not isinstance(doc.get("findings"), list):
        raise refuse(f"{path} is not an auditor results.json (no findings)")
    findings = {
        str(f["id"]): f for f in doc["findings"] if isinstance(f, dict) and f.get("id") is not None
    }
    replicates = {}
    for k, v in (doc.get("replicates") or {}).items():
        try:
            replicates[str(k)] = decode_replicates(v)
        except ValueError:
            raise refuse(f"{path} has unreadable replicates for {k}") from None
    return Previous(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        name=str((doc.get("spec") or {}).get("name") or ""),
        finished=str((doc.get("run") or {}).get("finished") or ""),
        verdict=str((doc.get("verdict") or {}).get("status") or ""),
        findings=findings,
        replicates=replicates,
        basis=doc.get("basis") or {},
    )


# ------------------------------------------------------------------ what a run keeps
def pairing_basis(spec, dataset) -> dict[str, Any]:
    """What two runs must share for their bootstrap resamples to be the same rows."""
    split = dict(dataset.split_info or {})
    return {
        "sources": sorted(
            [str(s.get("role") or ""), str(s.get("sha256") or "")] for s in dataset.sources
        ),
        "split": {k: split.get(k) for k in ("strategy", "seed", "validation", "test", "sizes")},
        "bootstrap": {
            "seed": int(spec.evaluation.seed),
            "resamples": int(spec.evaluation.bootstrap),
        },
    }


def headline_metrics(spec, primary: str | None) -> set[str]:
    """The metrics whose change a comparison always gives: the primary metric and every
    metric a criterion names."""
    names = {c.metric for c in spec.acceptance if c.metric}
    if primary:
        names.add(primary)
    return names


def encode_replicates(values) -> str:
    """Replicates as results.json keeps them (base64 of little-endian float32; NaN kept)."""
    import base64

    return base64.b64encode(np.asarray(values, dtype=REPLICATE_DTYPE).ravel().tobytes()).decode()


def decode_replicates(text: Any) -> np.ndarray:
    """The float64 replicates :func:`encode_replicates` wrote (ValueError if unreadable)."""
    import base64
    import binascii

    if not isinstance(text, str):
        raise ValueError("replicates are a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise ValueError(str(e)) from None
    if not raw or len(raw) % 4:
        raise ValueError("not a whole number of float32 values")
    return np.frombuffer(raw, dtype=REPLICATE_DTYPE).astype(np.float64)


def kept_replicates(spec, findings, outcomes, primary: str | None) -> dict[str, str]:
    """The replicates results.json keeps: of the findings a criterion judges (``outcomes``)
    and of the headline metrics' performance findings (``replicates`` in results.json)."""
    judged = {o.finding_id for o in outcomes if o.finding_id}
    headline = headline_metrics(spec, primary)
    out = {}
    for f in findings:
        if f.replicates is None:
            continue
        if f.id in judged or (f.check == "performance" and f.metric in headline):
            out[f.id] = encode_replicates(f.replicates)
    return out


# ------------------------------------------------------------------ comparing
def same_rows(previous: Previous, basis: Mapping[str, Any]) -> bool:
    """Whether the previous run resampled the same rows the same way (paired changes)."""
    return bool(previous.basis) and json.dumps(previous.basis, sort_keys=True) == json.dumps(
        dict(basis), sort_keys=True
    )


def change(
    finding, previous: Previous, *, paired: bool, confidence: float, finding_id: str | None = None
) -> Change:
    """``finding``'s value minus the previous run's value of the same measurement."""
    from auditor.metrics import percentile_interval

    key = finding_id or finding.id
    old = previous.findings.get(key)
    current = _value(finding.value)
    if old is None:
        return Change(None, current, None, None, paired, f"the previous report has no {key}")
    before = _value(old.get("value"))
    if current is None or before is None:
        return Change(before, current, None, None, paired, "a value is missing on one side")
    diff = current - before
    now = None if finding.replicates is None else np.asarray(finding.replicates, dtype=np.float64)
    then = previous.replicates.get(key)
    ci = None
    if now is not None and then is not None and now.shape == then.shape:
        if not paired:  # independent draws: the previous run's in a seeded random order
            then = np.random.default_rng(UNPAIR_SEED).permutation(then)
        ci = percentile_interval(now.ravel() - then.ravel(), confidence)
    if ci is None:
        paired = False
        ci = _normal_interval(diff, finding.ci, old.get("ci"), confidence)
    return Change(before, current, diff, ci, paired)


def _value(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _normal_interval(diff: float, ci_now, ci_then, confidence: float):
    """The difference of two independent estimates, each interval read as a normal one."""
    from scipy.stats import norm

    if not ci_now or not ci_then or None in ci_now or None in ci_then:
        return None
    z = float(norm.ppf(0.5 + confidence / 2))
    se = math.hypot((ci_now[1] - ci_now[0]) / (2 * z), (ci_then[1] - ci_then[0]) / (2 * z))
    return (diff - z * se, diff + z * se)


def direction_word(c: Change, higher_is_better: bool | None) -> str:
    """'better', 'worse' or 'no clear change': better only when the interval excludes 0."""
    if c.value is None or c.ci is None or higher_is_better is None:
        return "no clear change" if c.value is not None else "not compared"
    if c.ci[0] <= 0.0 <= c.ci[1]:
        return "no clear change"
    return "better" if (c.value > 0) == higher_is_better else "worse"


def against_section(
    spec, findings: Sequence, outcomes: Sequence, against: Against, *, primary: str | None
) -> dict[str, Any]:
    """results.json's ``against``: the previous report named by its hash, and each
    criterion's and headline metric's change with its interval."""
    from auditor.metrics import METRICS
    from auditor.splits import split_phrase

    previous = against.previous
    by_id = {f.id: f for f in findings}
    rows = []
    for c, o in zip(spec.acceptance, outcomes, strict=True):
        f = by_id.get(o.finding_id or "")
        if f is None or c.change:  # a change criterion's change is its own value
            continue
        higher = None if c.direction is None else c.direction == "at_least"
        ch = against.change(f)
        rows.append(_row("criterion", o.description, f, ch, higher, index=o.index))
    seen = {r["finding_id"] for r in rows}
    headline = headline_metrics(spec, primary)
    for f in findings:
        if f.check != "performance" or f.id in seen or f.value is None:
            continue
        if f.metric not in headline:
            continue
        entry = METRICS.get(f.metric)
        where = split_phrase(f.split, spec.split_labels.get(f.split))
        label = f"{entry.label if entry else f.metric} on {where}"
        rows.append(_row("metric", label, f, against.change(f), _higher(f.metric, None)))
    return {
        "path": str(previous.path),
        "sha256": previous.sha256,
        "name": previous.name,
        "finished": previous.finished,
        "verdict": previous.verdict,
        "paired": against.paired,
        "rows": rows,
    }


def _higher(metric: str | None, default: bool | None) -> bool | None:
    """Whether a higher value of ``metric`` is better (its catalogue's word), else ``default``."""
    from auditor.metrics import METRICS

    entry = METRICS.get(metric or "")
    return default if entry is None else bool(entry.greater_is_better)


def _row(kind: str, label: str, finding, ch: Change, higher, *, index=None):
    return {
        "kind": kind,
        "index": index,
        "label": label,
        "finding_id": finding.id,
        "split": finding.split,
        "previous": ch.previous,
        "current": ch.current,
        "change": ch.value,
        "ci": list(ch.ci) if ch.ci else None,
        "paired": ch.paired,
        "direction": direction_word(ch, higher),
        "reason": ch.reason,
    }
