"""The typed values handed from one pipeline stage to the next (see docs/design.md).

    spec.yaml --spec--> Spec
    Spec --data--> Dataset
    Dataset --train | vendor--> Predictor
    Predictor x Dataset --evaluate--> Evaluation
    Evaluation --checks--> list[Finding]
    Findings x acceptance --verdict--> list[CriterionOutcome], Verdict
    everything --results--> results.json --report--> report.pdf / report.html

Only light imports here: numpy and pandas are imported for type checking only, so that
``auditor validate`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from auditor.criteria import Criterion
    from auditor.spec import typed as spec_typed
    from auditor.spec.typed import SpecValues

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
#: Objectives whose model output is text (auditor.text): audited, never trained here.
TEXT_TASKS: tuple[str, ...] = ("generation",)
#: Objectives that train a language model on a corpus (auditor.train.lm): fit, not scores.
LM_TASKS: tuple[str, ...] = ("language_model",)
#: The architectures of the language-model task (auditor.train.architectures registers them;
#: named here so that validating a spec needs no torch).
LM_ARCHITECTURES: tuple[str, ...] = ("transformer_lm", "pretrained_lm")
CLASSIFICATION: tuple[Task, ...] = ("binary", "multiclass")
REGRESSION: tuple[Task, ...] = ("regression",)
SplitName = Literal["train", "validation", "test", "holdout"]
SPLITS: tuple[str, ...] = ("train", "validation", "test", "holdout")

Category = Literal[
    "data", "drift", "fit", "performance", "fairness", "drivers", "tuning", "text", "safety"
]
CATEGORIES: tuple[str, ...] = (
    "data",
    "drift",
    "fit",
    "performance",
    "fairness",
    "drivers",
    "tuning",
    "text",
    "safety",
)

Status = Literal["pass", "warn", "fail", "inconclusive", "error", "skipped"]
STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "inconclusive", "error", "skipped")

VerdictStatus = Literal["READY", "CONDITIONAL", "NOT READY"]


# --------------------------------------------------------------------------- spec
@dataclass
class Spec:
    """A validated spec with every default applied.

    ``values`` is the resolved document (plain dicts and lists, JSON-serialisable); its
    shape is exactly ``schemas/spec.schema.json``. The stages read its typed, frozen form
    (:mod:`auditor.spec.typed`) through the section attributes: ``spec.training.seed``,
    ``spec.acceptance[0].bounds``. ``positions`` maps a JSON path tuple such as
    ``("acceptance", 2, "at_most")`` to the (line, column) of that node in the file,
    1-based, so later stages can point at the spec when data contradicts it.
    """

    path: Path
    values: dict[str, Any]
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    @cached_property
    def typed(self) -> SpecValues:
        """The resolved spec as frozen dataclasses (built once)."""
        from auditor.spec.typed import typed_spec

        return typed_spec(self.values)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return self.typed.name

    @property
    def task(self) -> Task:
        return self.typed.objective.task

    @property
    def objective(self) -> spec_typed.Objective:
        return self.typed.objective

    @property
    def data(self) -> spec_typed.Data:
        return self.typed.data

    @property
    def model(self) -> spec_typed.Model:
        return self.typed.model

    @property
    def training(self) -> spec_typed.Training:
        return self.typed.training

    @property
    def tuning(self) -> spec_typed.Tuning | None:
        return self.typed.tuning

    @property
    def evaluation(self) -> spec_typed.Evaluation:
        return self.typed.evaluation

    @property
    def acceptance(self) -> tuple[Criterion, ...]:
        return self.typed.acceptance

    @property
    def report(self) -> spec_typed.Report:
        return self.typed.report

    @property
    def judge(self) -> spec_typed.Judge | None:
        return self.typed.judge

    @property
    def responder(self) -> spec_typed.Responder | None:
        return self.typed.responder

    @property
    def split_labels(self) -> dict[str, str]:
        """The labels the spec gives its audit files and its development data."""
        labels = {a.name: a.label for a in self.data.audit}
        if self.data.reference is not None:
            labels["reference"] = self.data.reference.label
        return labels

    def resolve_path(self, relative: str) -> Path:
        """A path from the spec, relative to the spec file."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def locate(self, path: tuple):
        """The errors.Location of a spec field (the nearest located ancestor)."""
        from auditor.errors import Location

        probe = tuple(path)
        while probe and probe not in self.positions:
            probe = probe[:-1]
        line, col = self.positions.get(probe, (None, None))
        return Location(file=str(self.path), line=line, column=col, path=tuple(path))


# --------------------------------------------------------------------------- data
@dataclass
class Dataset:
    """Tables, column roles, splits and the fitted preprocessing.

    ``frames[split]`` holds the raw rows of each split (all columns, original index);
    ``X[split]`` the preprocessed float32 feature matrix; ``y[split]`` the encoded target
    (class index 0..K-1 for classification, float for regression). ``classes`` are the
    original target values in encoded order; for binary tasks ``classes[1]`` is the
    positive class. ``groups[split]`` holds the sensitive columns as strings.
    """

    task: Task
    target: str
    frames: dict[str, pd.DataFrame]
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    groups: dict[str, pd.DataFrame]
    feature_columns: list[str]  # raw columns used as features
    column_types: dict[str, str]  # raw feature column -> "numeric" | "categorical" | "text"
    feature_names: list[str]  # names of the preprocessed columns (X's columns)
    classes: list[Any] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    id_column: str | None = None
    preprocessor: Any = None  # fitted sklearn transformer (raw frame -> X)
    sources: list[dict[str, Any]] = field(
        default_factory=list
    )  # {role, path, format, rows, columns, sha256}
    split_info: dict[str, Any] = field(
        default_factory=dict
    )  # {strategy, seed, sizes: {split: n}, ...}
    preprocessing_info: dict[str, Any] = field(
        default_factory=dict
    )  # dropped rows, outliers clipped, ...
    class_weights: Any = None  # np.ndarray or None
    # split -> what it is for (train, validation, test, holdout, audit, reference, threshold)
    split_roles: dict[str, str] = field(default_factory=dict)
    split_labels: dict[str, str] = field(default_factory=dict)  # split -> label for people

    @property
    def splits(self) -> list[str]:
        """Every split with rows: the standard ones in their order, then the others."""
        present = [s for s in self.frames if self.frames[s] is not None]
        return [s for s in SPLITS if s in present] + [s for s in present if s not in SPLITS]

    def role(self, split: str) -> str:
        """What ``split`` is for (a standard split is its own role)."""
        return self.split_roles.get(split, split)

    @property
    def text_columns(self) -> list[str]:
        """The feature columns read as free text (a text classifier's text column)."""
        return [c for c in self.feature_columns if self.column_types.get(c) == "text"]

    @property
    def tabular_columns(self) -> list[str]:
        """The feature columns that are not free text."""
        return [c for c in self.feature_columns if self.column_types.get(c) != "text"]


# --------------------------------------------------------------------------- model
class Predictor(Protocol):
    """A trained model or a vendor's model, behind one interface.

    ``predict(dataset, split)`` returns scores for every row of that split:
    binary -> (n,) probability of the positive class; multiclass -> (n, K) class
    probabilities; regression -> (n,) predictions. A vendor that only gives labels
    returns hard 0/1 (one-hot) scores and sets ``has_scores = False``.
    """

    kind: str  # "trained" | "vendor:<format>"
    has_scores: bool
    info: dict[str, Any]  # architecture, parameters, fingerprint (sha256), files, device, ...
    history: list[
        dict[str, Any]
    ]  # per epoch: {epoch, train_loss, val_loss, val_metric, lr, seconds}

    def predict(self, dataset: Dataset, split: str) -> np.ndarray: ...


# --------------------------------------------------------------------------- evaluation
@dataclass
class SplitEval:
    """Truth and predictions of one split."""

    y_true: np.ndarray  # encoded like Dataset.y
    scores: np.ndarray  # like Predictor.predict
    y_pred: np.ndarray  # class index (after the decision threshold) or regression value
    groups: pd.DataFrame  # sensitive columns as strings, aligned with y_true


@dataclass
class Evaluation:
    """Everything the checks need, computed once (predictions, baselines, curves).

    Checks are pure functions of (Evaluation, Dataset, params); anything that needs a
    model to be retrained or re-run (learning curve, baselines, single-feature scores)
    is computed here, in the evaluate stage.
    """

    task: Task
    classes: list[Any]
    splits: dict[str, SplitEval]
    threshold: float | None = None  # binary decision threshold on the positive score
    threshold_info: dict[str, Any] = field(default_factory=dict)  # {strategy, chosen_on, value}
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    # name ("majority", "linear") -> split -> metric -> value
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    # name -> split -> what the baseline predicts there (the checks score it with the same
    # bootstrap resamples as the model: auditor.evaluate.baseline_predictions)
    baseline_predictions: dict[str, dict[str, SplitEval]] = field(default_factory=dict)
    # [{fraction, rows, train: value, validation: value}] in the primary metric
    learning_curve: list[dict[str, Any]] = field(default_factory=list)
    primary_metric: str = "accuracy"
    has_scores: bool = True  # False when a vendor gives labels only (no ROC, PR, calibration)
    notes: dict[str, Any] = field(default_factory=dict)  # why a diagnostic was skipped, etc.
    drift: list[Any] = field(default_factory=list)  # auditor.drift.DriftResult per client split
    # auditor.importance.Drivers (permutation importance, partial dependence), or None
    drivers: Any = None
    # with tuning: the search's auditor.tuning.TuningOutcome, and what the spec's own
    # configuration (trained as the chosen one is) predicts on the splits the search never
    # read (test, holdout, audit files): split -> SplitEval
    tuning: Any = None
    untuned: dict[str, SplitEval] = field(default_factory=dict)
    # evaluation.cross_validation: every metric on each held-out fold of the train split
    # (auditor.cross_validation.cross_validate), or None
    cross_validation: dict[str, Any] | None = None
    # generated text: per split, what the evaluate stage measured for the text checks (an
    # LLM judge's scores under "judge", generated responses, ...): split -> name -> value
    text: dict[str, dict[str, Any]] = field(default_factory=dict)


# --------------------------------------------------------------------------- findings
@dataclass(frozen=True)
class Finding:
    """One measured fact about the data or model, with its evidence.

    ``chart`` is data only (never a drawing); the report draws it. Its "kind" is one of
    CHART_KINDS below, with the fields documented there. Whether a finding is advisory
    follows from the criteria (``verdict.blocking_findings``); results.json records it.
    """

    id: str  # unique, dotted: "performance.f1.test", "fairness.demographic_parity_difference.sex"
    check: str  # registry name of the check that produced it
    category: Category
    status: Status
    title: str  # short, e.g. "F1 on test"
    summary: str  # one plain sentence for a non-specialist, stating what was found
    value: float | None = None
    ci: tuple[float, float] | None = None
    threshold: float | None = None  # the diagnostic bound used, if the finding was judged
    direction: Literal["at_least", "at_most"] | None = None
    recommendation: str = ""
    metric: str | None = None
    split: str | None = None
    sensitive: str | None = None
    n: int | None = None  # rows the value is measured on
    details: dict[str, Any] = field(default_factory=dict)  # tables (JSON-serialisable)
    chart: dict[str, Any] | None = None
    # the value's bootstrap replicates (B,), for paired comparisons; never serialised
    replicates: Any = field(default=None, repr=False, compare=False)


# Chart contract between checks (which produce the data) and the report (which draws it).
# Every chart dict has "kind" and "title" (a sentence stating the finding, e.g.
# "Validation loss rises after epoch 12").
CHART_KINDS: dict[str, str] = {
    "optimization_history": "trials: [int], values: [float|None], states: [str], "
    "best_so_far: [float|None], baseline: float|None, metric: str",
    "loss_curve": "epochs: [int], train: [float], validation: [float], "
    "best_epoch: int|None, rising_from: int|None",
    "learning_curve": "fractions: [float], rows: [int], train: [float], validation: [float], "
    "metric: str",
    "metric_intervals": "rows: [{label: str, value: float, low: float|None, high: float|None}], "
    "metric: str, bound: float|None",
    "group_bars": "metric: str, rows: [{group: str, value: float, low: float|None, "
    "high: float|None, n: int, inconclusive: bool}], bound: float|None, reference: float|None "
    "(the report adds bound_line, the criterion's bound on the groups' own scale)",
    "confusion_matrix": "labels: [str], matrix: [[int]]",
    "roc": "fpr: [float], tpr: [float], auc: float",
    "pr": "recall: [float], precision: [float], auc: float, base_rate: float",
    "calibration": "predicted: [float], observed: [float], counts: [int]",
    "group_calibration": "groups: [{group: str, n: int, predicted: [float], observed: [float], "
    "counts: [int], ece: float|None, inconclusive: bool}] (one calibration curve per group)",
    "bars": "labels: [str], values: [float], xlabel: str, bound: float|None",
    "histogram": "edges: [float], counts: [int], xlabel: str, bound: float|None (optional: "
    "a vertical line, e.g. a per-row pass threshold), bound_label: str (optional)",
    "residuals": "predicted: [float], residual: [float] (at most 2,000 points, subsampled)",
    "shares": "labels: [str], series: [{name: str, values: [float]}] (shares of rows per bin "
    "or category, two series), ordered: bool (numeric bins in order), edges: [float] "
    "(optional, numeric bins: the value between bin i and bin i + 1)",
}


# --------------------------------------------------------------------------- verdict
@dataclass(frozen=True)
class CriterionOutcome:
    """The outcome of one acceptance criterion."""

    index: int  # position in spec.acceptance
    criterion: dict[str, Any]  # the resolved criterion as written in the spec
    description: str  # plain words: "F1 on the test split is at least 0.80"
    status: Literal["pass", "fail", "inconclusive", "error"]
    severity: Literal["blocking", "advisory"]
    value: float | None = None
    ci: tuple[float, float] | None = None
    bound: float | None = None
    margin: float | None = None  # signed distance to the bound; positive = on the good side
    reason: str = ""  # why it is inconclusive / error, or what failed
    finding_id: str | None = None
    waiver: dict[str, Any] | None = None
    waived: bool = False  # a valid (unexpired) waiver covers this failure


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    reason: str  # one sentence
    blockers: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        from auditor.errors import ExitCode

        return {
            "READY": ExitCode.READY,
            "NOT READY": ExitCode.NOT_READY,
            "CONDITIONAL": ExitCode.CONDITIONAL,
        }[self.status]
