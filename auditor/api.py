"""The Python API: validate, run and report from a notebook or a pipeline.

``auditor.validate(spec)``, ``auditor.run(spec, out=None, data=..., model=...)`` and
``auditor.report(results, out=...)`` are the command line's ``validate``, ``run`` and
``report`` on the same code path: the same schema and rules (a spec given as a mapping is
located by JSON path instead of line), the same :func:`auditor.pipeline.run`, the same
exception tree (:mod:`auditor.errors`). What the API adds is inputs held in memory
(:mod:`auditor.in_memory`): DataFrames in place of data files and a fitted model in place of
a vendor's file, each fingerprinted so that results.json says what was audited and how it
was hashed.

Heavy libraries are imported inside the functions, so ``import auditor`` stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import Location, UsageError
from auditor.in_memory import (
    MEMORY_FORMAT,
    MODEL_PLACEHOLDER,
    SPEC_PLACEHOLDER,
    HeldSpec,
    InMemory,
    frame_placeholder,
    hold_frame,
    hold_model,
    holding,
    type_name,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.spec.load import Validated
    from auditor.types import CriterionOutcome, Finding, Spec

#: Where a DataFrame goes in the spec, by the key of ``data=``; an audit file's name is a key
#: too (``data.audit[i].path``). A corpus frame's rows are read as JSON Lines objects
#: (``data.corpus.field``, default ``text``, holds each document).
DATA_SLOTS: dict[str, tuple] = {
    "train": ("data", "train"),
    "holdout": ("data", "holdout"),
    "reference": ("data", "reference", "path"),
    "threshold": ("evaluation", "threshold", "chosen_on", "path"),
    "corpus": ("data", "corpus", "path"),  # a language model's documents, one row each
}
#: The task whose corpus a DataFrame may be (a generated-text audit reads its corpus file).
CORPUS_TASK = "language_model"
#: ``model.vendor`` settings kept when a model is given in memory (how it is fed and read).
KEPT_VENDOR_SETTINGS = ("input", "output")

MSG_SPEC_TYPE = "spec must be a path to a YAML file or a mapping, got {type}"
MSG_DATA_TYPE = "data must be a mapping of names to DataFrames, got {type}"
MSG_DATA_KEY = (
    "data key {key!r} names no data in the spec; use train, holdout, reference, threshold, "
    "corpus or the name of a data.audit entry{names}"
)
MSG_WORKERS_TYPE = "workers must be a whole number of processes, got {type}"
MSG_WORKERS_COUNT = "workers must be at least 1, got {n}"
MSG_WORKERS_NO_TUNING = (
    "workers= shares the trials of the spec's search among processes, and this spec has no "
    "tuning section: add one, or leave workers out"
)
MSG_MODEL_TUNING = (
    "model= is audited as it is, so there is nothing to tune: drop the spec's tuning "
    "section, or leave model out and let the spec train the model it searches for"
)
MSG_CORPUS_TASK = (
    "data.corpus as a DataFrame is a language model's documents (objective.task: "
    "language_model); a generated-text audit reads its corpus from the file data.corpus.path "
    "names"
)
MSG_DATA_TWICE = "data {key!r} is given both in the spec and in data="


# --------------------------------------------------------------------------- entry points
def validate(spec: str | Path | Mapping, *, data: Mapping | None = None, model: Any = None) -> Spec:
    """Validate a spec (and its data) as ``auditor validate`` does.

    Parameters
    ----------
    spec : str, Path or mapping
        A YAML spec file, or the spec itself as a mapping (relative paths in it are
        relative to the current folder; errors name the JSON path, e.g.
        ``acceptance[2].at_most``). A mapping may hold DataFrames in place of the data
        paths (``data.train``, ``data.holdout``, ``data.reference.path``,
        ``data.audit[i].path``, ``evaluation.threshold.chosen_on.path``, a language
        model's ``data.corpus.path``).
    data : mapping of str to DataFrame, optional
        DataFrames in place of the spec's data files, by role (``train``, ``holdout``,
        ``reference``, ``threshold``, ``corpus``) or audit file name. A corpus frame is
        read as the JSON Lines file of its rows would be (one document a row, in the
        column ``data.corpus.field`` names, ``text`` by default).
    model : estimator, torch.nn.Module or callable, optional
        A model held in memory, audited like a vendor's model (``model.vendor.format:
        python``).

    Returns
    -------
    auditor.types.Spec
        The typed spec with every default applied.

    Raises
    ------
    auditor.errors.AuditorError
        SpecError / SpecErrors, DataError, UsageError: the errors the command line turns
        into one line each.
    """
    return _load(spec, data, model)[0].spec


def run(
    spec: str | Path | Mapping,
    out: str | Path | None = None,
    *,
    data: Mapping | None = None,
    model: Any = None,
    quiet: bool = True,
    against: str | Path | None = None,
    junit: str | Path | None = None,
    mlflow: str | None = None,
    workers: int | None = None,
) -> AuditResult:
    """Train (or load) the model, audit it and write the report, as ``auditor run`` does.

    ``spec``, ``data`` and ``model`` as for :func:`validate`; ``out``: the output folder
    (default ``reports/<name>/<UTC timestamp>/`` beside the spec); ``quiet``: no progress
    on stderr; ``against``: a previous results.json to compare with; ``junit``: also write
    the criteria as a JUnit XML file (:mod:`auditor.junit`); ``mlflow``: a tracking URI to
    log the audit to (else ``report.mlflow``; :mod:`auditor.mlflow_log`), after the files;
    ``workers``: share the spec's search among this many local processes, as ``auditor tune
    --workers N`` does (the DataFrames held are handed to the other processes as Parquet in
    a private folder of the run folder, removed after the search:
    :mod:`auditor.tuning.handoff`).

    Returns
    -------
    AuditResult
        The verdict, criteria, findings, exit code and files of the run.
    """
    from auditor import pipeline

    validated, inputs = _load(spec, data, model)
    shared = _workers(validated.spec, workers)
    outcome = pipeline.run(
        validated.spec,
        out=out,
        quiet=quiet,
        against=against,
        mlflow=mlflow,
        inputs=inputs,
        workers=shared,
    )
    if outcome.note is not None:  # a data-parallel process other than rank 0: no outputs
        return AuditResult({}, out_dir=outcome.out_dir, note=outcome.note)
    files = dict(outcome.files)
    if outcome.tracking is not None:  # from results.json, once the outputs are written
        from auditor.mlflow_log import log_audit

        log_audit(outcome.tracking, outcome.out_dir)
    if junit is not None:
        from auditor.junit import write_junit

        files["junit"] = write_junit(outcome.results, Path(junit))
    return AuditResult(outcome.results, files=files, out_dir=outcome.out_dir)


def report(results: Mapping | str | Path | AuditResult, out: str | Path | None = None) -> dict:
    """Render report.html and report.pdf again from results, as ``auditor report`` does.

    ``results``: a results.json path (``out`` defaults to its folder), a results dict or an
    :class:`AuditResult` (``out`` required). Returns kind -> path of the files written.
    """
    from auditor.rerender import render_again

    if isinstance(results, AuditResult):
        results = results.results
    if not isinstance(results, (str, Path)):
        results = dict(results)
    return render_again(results, out)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class AuditResult:
    """What a run found: its results (results.json's content) and the files it wrote.

    Under ``torchrun`` only rank 0 audits: on every other rank the result has no results
    and ``note`` says so; its ``exit_code`` is 0 (the command line's on those ranks) and
    what only rank 0 knows (the verdict, criteria, findings) raises a UsageError.
    """

    results: dict[str, Any] = field(repr=False)
    files: dict[str, Path] = field(default_factory=dict)
    out_dir: Path | None = None
    note: str | None = None  # a data-parallel process other than rank 0

    @property
    def audited(self) -> bool:
        """Whether this process audited (False on data-parallel ranks other than 0)."""
        return self.note is None

    def _judged(self) -> dict[str, Any]:
        """The results; a UsageError on a rank that did not audit."""
        if self.note is not None:
            raise UsageError(f"{self.note}: the verdict, criteria and findings are rank 0's")
        return self.results

    @classmethod
    def read(cls, path: str | Path) -> AuditResult:
        """The result of an earlier run, from its results.json."""
        from auditor.results import read_results

        return cls(read_results(Path(path)), files={"results": Path(path)})

    @property
    def verdict(self) -> str:
        """READY, CONDITIONAL or NOT READY."""
        return self._judged()["verdict"]["status"]

    @property
    def reason(self) -> str:
        """The verdict's one sentence."""
        return self._judged()["verdict"].get("reason", "")

    @property
    def exit_code(self) -> int:
        """The exit code ``auditor run`` gives this verdict (0, 3 or 1; 0 on a rank that
        did not audit)."""
        if self.note is not None:
            return 0
        return int(self.results["verdict"]["exit_code"])

    @property
    def criteria(self) -> list[CriterionOutcome]:
        """Every acceptance criterion's outcome, in the spec's order."""
        from auditor.types import CriterionOutcome

        return [_typed(CriterionOutcome, c) for c in self._judged().get("criteria", [])]

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every check, with its evidence."""
        from auditor.types import Finding

        return [_typed(Finding, f) for f in self._judged().get("findings", [])]

    def criteria_frame(self) -> pd.DataFrame:
        """One row per criterion: what, where, status, value, interval, bound, margin."""
        import pandas as pd

        rows = []
        for c in self._judged().get("criteria", []):
            criterion = c.get("criterion") or {}
            low, high = c.get("ci") or (None, None)
            rows.append(
                {
                    "index": c["index"],
                    "description": c.get("description"),
                    "metric": criterion.get("metric"),
                    "check": criterion.get("check"),
                    "split": criterion.get("split"),
                    "sensitive": criterion.get("sensitive"),
                    "status": c.get("status"),
                    "severity": c.get("severity"),
                    "value": c.get("value"),
                    "ci_low": low,
                    "ci_high": high,
                    "bound": c.get("bound"),
                    "margin": c.get("margin"),
                    "waived": bool(c.get("waived")),
                    "reason": c.get("reason"),
                }
            )
        return pd.DataFrame(rows, columns=CRITERIA_COLUMNS)

    def findings_frame(self) -> pd.DataFrame:
        """One row per finding: id, check, category, status, value, interval, where, summary."""
        import pandas as pd

        rows = []
        for f in self._judged().get("findings", []):
            low, high = f.get("ci") or (None, None)
            rows.append({**{k: f.get(k) for k in FINDING_COLUMNS}, "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows, columns=[*FINDING_COLUMNS[:6], "ci_low", "ci_high",
                                           *FINDING_COLUMNS[6:]])  # fmt: skip

    def __repr__(self) -> str:
        if self.note is not None:
            return f"<AuditResult: {self.note}>"
        n = len(self.results.get("criteria", []))
        return f"<AuditResult {self.verdict}: {n} criteri{'on' if n == 1 else 'a'}>"


CRITERIA_COLUMNS = [
    "index", "description", "metric", "check", "split", "sensitive", "status", "severity",
    "value", "ci_low", "ci_high", "bound", "margin", "waived", "reason",
]  # fmt: skip
FINDING_COLUMNS = [
    "id", "check", "category", "status", "title", "value", "threshold", "direction",
    "metric", "split", "sensitive", "n", "advisory", "summary",
]  # fmt: skip


def _typed(cls, values: dict[str, Any]):
    """A dataclass from its results.json dict (lists back to tuples where typed so)."""
    kwargs = {f.name: values[f.name] for f in fields(cls) if f.name in values}
    if kwargs.get("ci") is not None:
        kwargs["ci"] = tuple(kwargs["ci"])
    return cls(**kwargs)


def _workers(spec: Spec, count: int | None):
    """``auditor tune --workers N``'s :class:`~auditor.tuning.workers.Workers` (None: run)."""
    if count is None:
        return None
    from auditor.tuning.workers import Workers

    if isinstance(count, bool) or not isinstance(count, int):
        raise UsageError(
            MSG_WORKERS_TYPE.format(type=type_name(count)), Location(path=("workers",))
        )
    if spec.tuning is None:
        raise UsageError(MSG_WORKERS_NO_TUNING, Location(path=("workers",)))
    try:
        return Workers(count)
    except UsageError as exc:
        raise UsageError(MSG_WORKERS_COUNT.format(n=count), Location(path=("workers",))) from exc


# --------------------------------------------------------------------------- loading
def _load(spec: Any, data: Mapping | None, model: Any) -> tuple[Validated, InMemory]:
    """The validated spec and the inputs held in memory for it."""
    from auditor.spec.load import parse_spec_mapping, parse_spec_text
    from auditor.spec.yamlio import read_text

    if data is not None and not isinstance(data, Mapping):
        raise UsageError(MSG_DATA_TYPE.format(type=type_name(data)))
    inputs = InMemory()
    given = dict(data or {})
    if model is not None:
        try:
            inputs.model = hold_model(model)
        except TypeError as exc:
            raise UsageError(str(exc), Location(path=("model",))) from None
    if isinstance(spec, Mapping):
        values, in_spec = _frames_in_spec(spec)
        for key in in_spec:
            if key in given:
                raise UsageError(MSG_DATA_TWICE.format(key=key))
        for key, frame in in_spec.items():
            inputs.frames[frame_placeholder(key)] = _held(key, frame)
    elif isinstance(spec, (str, Path)):
        values = None
    else:
        raise UsageError(MSG_SPEC_TYPE.format(type=type_name(spec)))
    for key, frame in given.items():
        inputs.frames[frame_placeholder(str(key))] = _held(str(key), frame)

    def edit(doc) -> None:
        file = None if values is not None else str(spec)
        _place_inputs(doc, given, inputs, mapping=values is not None, doc_file=file)

    with holding(inputs):
        if values is not None:
            path = Path.cwd() / SPEC_PLACEHOLDER
            return parse_spec_mapping(values, path=path, edit=edit), inputs
        path = Path(spec)
        return parse_spec_text(read_text(path), path=path, edit=edit), inputs


def _held(key: str, frame: Any):
    try:
        return hold_frame(key, frame)
    except TypeError as exc:
        raise UsageError(str(exc), Location(path=("data", key))) from None


def _frames_in_spec(spec: Mapping) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of a spec mapping with each DataFrame in a data slot replaced by its
    placeholder, and those frames by key."""
    frames: dict[str, Any] = {}
    values = dict(spec)

    def swap(container: dict, key: str, name: str) -> None:
        if _is_frame(container.get(key)):
            frames[name] = container[key]
            container[key] = frame_placeholder(name)

    if isinstance(values.get("data"), Mapping):
        data = values["data"] = dict(values["data"])
        swap(data, "train", "train")
        swap(data, "holdout", "holdout")
        for key in ("reference", "corpus"):
            if isinstance(data.get(key), Mapping):
                data[key] = dict(data[key])
                swap(data[key], "path", key)
        if isinstance(data.get("audit"), (list, tuple)):
            data["audit"] = [dict(a) if isinstance(a, Mapping) else a for a in data["audit"]]
            for i, entry in enumerate(data["audit"]):
                if isinstance(entry, dict) and _is_frame(entry.get("path")):
                    entry["name"] = entry.get("name") or f"audit_{i + 1}"
                    swap(entry, "path", str(entry["name"]))
    evaluation = values.get("evaluation")
    threshold = evaluation.get("threshold") if isinstance(evaluation, Mapping) else None
    chosen = threshold.get("chosen_on") if isinstance(threshold, Mapping) else None
    if isinstance(chosen, Mapping) and _is_frame(chosen.get("path")):
        values["evaluation"] = dict(evaluation)
        values["evaluation"]["threshold"] = dict(threshold)
        values["evaluation"]["threshold"]["chosen_on"] = dict(chosen)
        swap(values["evaluation"]["threshold"]["chosen_on"], "path", "threshold")
    return values, frames


def _place_inputs(
    doc, given: dict, inputs: InMemory, *, mapping: bool, doc_file: str | None = None
) -> None:
    """Put the placeholders of ``data=`` and ``model=`` into the parsed spec."""
    from auditor.spec.mapping import HASHED_MAPPING, delete_value, mapping_sha256, set_value

    values = doc.values
    for key in given:
        set_value(doc, _slot(str(key), values), frame_placeholder(str(key)))
    objective = values.get("objective") if isinstance(values.get("objective"), dict) else {}
    if frame_placeholder("corpus") in inputs.frames and objective.get("task") != CORPUS_TASK:
        raise UsageError(MSG_CORPUS_TASK, Location(path=("data", "corpus")))
    data = values.get("data")
    if inputs.frames and isinstance(data, dict) and "generate" in data:
        delete_value(doc, ("data", "generate"))  # the data is given: nothing to generate
    if inputs.model is not None:
        section = values.get("model") if isinstance(values.get("model"), dict) else {}
        _refuse_with_model(doc, file=None if mapping else doc_file)
        vendor = section.get("vendor") if isinstance(section.get("vendor"), dict) else {}
        settings = {k: vendor[k] for k in KEPT_VENDOR_SETTINGS if k in vendor}
        model = {"vendor": {"format": MEMORY_FORMAT, "path": MODEL_PLACEHOLDER, **settings}}
        if "compare" in section:
            model["compare"] = section["compare"]
        set_value(doc, ("model",), model)
    if mapping:
        inputs.spec = HeldSpec(SPEC_PLACEHOLDER, mapping_sha256(doc.values), HASHED_MAPPING)


def _refuse_with_model(doc, *, file: str | None) -> None:
    """``model=`` with a spec that searches (tuning): one line at the spec's tuning field (a
    model given in memory replaces the spec's model section; there is nothing to train)."""
    if doc.values.get("tuning") is not None:
        raise UsageError(MSG_MODEL_TUNING, _doc_location(doc, ("tuning",), file))


def _doc_location(doc, path: tuple, file: str | None) -> Location:
    line, column = doc.key_positions.get(path) or doc.positions.get(path) or (None, None)
    return Location(file=file, line=line, column=column, path=path)


def _slot(key: str, values: dict) -> tuple:
    """The spec path a ``data=`` key's DataFrame goes to."""
    if key in DATA_SLOTS:
        return DATA_SLOTS[key]
    data = values.get("data") if isinstance(values.get("data"), dict) else {}
    audit = data.get("audit") if isinstance(data.get("audit"), list) else []
    names = [a.get("name") for a in audit if isinstance(a, dict)]
    if key in names:
        return ("data", "audit", names.index(key), "path")
    listed = f" ({', '.join(repr(n) for n in names if n)})" if any(names) else ""
    raise UsageError(MSG_DATA_KEY.format(key=key, names=listed), Location(path=("data", key)))


def _is_frame(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)
