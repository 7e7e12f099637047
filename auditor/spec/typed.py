"""The resolved spec as typed, frozen values: what every stage reads.

Validation and the defaults (``defaults.apply_defaults``, from the schema alone) come first;
:func:`typed_spec` then turns the resolved document into the dataclasses below, one per
schema object, with a field per schema property (``tests/spec/test_typed.py`` asserts that
the two have exactly the same names, so neither can drift). No default is restated here:
every field is filled from the resolved document, and a field the schema leaves optional
without a default (a criterion's ``at_least``) is None when absent.

Lists become tuples and mappings read-only, so nothing downstream can change the spec it
was given.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auditor.criteria import Criterion
from auditor.types import Task

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Objective:
    """What the model is for (``objective``)."""

    task: Task | Literal["generation", "language_model"]
    target: str | None  # None for generation (data.text names its columns), language_model
    positive: Scalar | None
    purpose: str


@dataclass(frozen=True)
class Generate:
    """Example data created on first use (``data.generate``)."""

    example: str
    rows: int
    seed: int


@dataclass(frozen=True)
class Split:
    """How the training file is split (``data.split``)."""

    strategy: Literal["random", "stratified", "group", "time"]
    validation: float
    test: float
    group_column: str | None
    time_column: str | None
    seed: int


@dataclass(frozen=True)
class Preprocessing:
    """Preprocessing fitted on the training rows (``data.preprocessing``)."""

    missing: str
    fill_value: float
    missing_indicator: bool
    outliers: str
    outlier_factor: float | None
    scaling: str
    categorical: str
    max_categories: int
    min_frequency: float
    imbalance: str


@dataclass(frozen=True)
class Augmentation:
    """Training-batch augmentation (``data.augmentation``)."""

    gaussian_noise: float
    mixup: float


@dataclass(frozen=True)
class AuditFile:
    """One file of cases to audit a model on as it is (``data.audit[i]``)."""

    path: str
    name: str
    label: str


@dataclass(frozen=True)
class Reference:
    """The development data the audited data are compared with (``data.reference``)."""

    path: str
    label: str


@dataclass(frozen=True)
class TextColumns:
    """The columns of a row of generated text (``data.text``, generation only)."""

    question: str
    response: str
    context: str | None
    reference: str | None
    pair: str | None  # counterfactual pair id column (auditor.text.counterfactual)
    variant: str | None  # the paired row's variant (female, male, ...)
    ratings: Mapping[str, str]  # judged metric -> column of people's 1-5 ratings
    compare: str | None  # a second response column, compared pairwise by the judge

    def named(self) -> dict[str, str]:
        """Role -> column, for the roles this spec names."""
        roles = ("question", "context", "response", "reference")
        return {r: getattr(self, r) for r in roles if getattr(self, r)}


@dataclass(frozen=True)
class Corpus:
    """A corpus of documents (``data.corpus``): a text file or JSON Lines."""

    path: str
    format: Literal["auto", "lines", "jsonl"]
    field: str


@dataclass(frozen=True)
class Deduplicate:
    """Duplicate documents removed before splitting (``data.text_processing.deduplicate``)."""

    exact: bool
    near: bool
    jaccard: float
    shingle_words: int
    permutations: int


@dataclass(frozen=True)
class TextProcessing:
    """How corpus documents become training sequences (``data.text_processing``)."""

    template: str | None
    response_field: str | None
    vocabulary_size: int
    max_length: int | None
    truncation: Literal["cut", "drop"]
    packing: bool
    deduplicate: Deduplicate


@dataclass(frozen=True)
class Data:
    """The data sources and their roles (``data``)."""

    train: str | None
    holdout: str | None
    audit: tuple[AuditFile, ...]
    reference: Reference | None
    text: TextColumns | None
    corpus: Corpus | None
    format: str
    encoding: str
    generate: Generate | None
    id_column: str | None
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    types: Mapping[str, str]
    sensitive: tuple[str, ...]
    sensitive_as_features: bool
    reference_groups: Mapping[str, str]
    split: Split
    preprocessing: Preprocessing
    augmentation: Augmentation
    text_processing: TextProcessing


@dataclass(frozen=True)
class Vendor:
    """A vendor's model to audit instead of training one (``model.vendor``)."""

    format: str
    path: str
    input: Literal["raw", "preprocessed"]
    score_column: str | None
    label_column: str | None
    trusted_types: tuple[str, ...]
    allow_pickle: bool
    output: Literal["auto", "probabilities", "logits"]
    example: str | None


@dataclass(frozen=True)
class Transformer:
    """The size of a transformer_lm (``model.transformer``)."""

    layers: int
    width: int
    heads: int
    context_length: int


@dataclass(frozen=True)
class Lora:
    """Low-rank adapters of a pretrained_lm (``model.pretrained.lora``)."""

    rank: int
    alpha: float
    dropout: float
    target_modules: tuple[str, ...] | None


@dataclass(frozen=True)
class GroupRate:
    """One per-group learning rate (``model.pretrained.learning_rates[i]``)."""

    parameters: str
    learning_rate: float


@dataclass(frozen=True)
class Pretrained:
    """The local checkpoint a pretrained_lm fine-tunes (``model.pretrained``)."""

    path: str
    fine_tune: Literal["full", "lora"]
    lora: Lora
    freeze: tuple[str, ...]
    learning_rates: tuple[GroupRate, ...]


@dataclass(frozen=True)
class Encoder:
    """The sentence encoder a text_classifier fine-tunes (``model.encoder``)."""

    model: str
    text_column: str
    max_length: int
    freeze_encoder: bool
    head_learning_rate: float | None


@dataclass(frozen=True)
class Model:
    """The architecture to train, or the vendor's model (``model``)."""

    architecture: str
    hidden: tuple[int, ...]
    activation: str
    dropout: float
    batch_norm: bool
    transformer: Transformer
    pretrained: Pretrained | None
    encoder: Encoder | None
    vendor: Vendor | None
    compare: Literal["none", "in_house", "linear"]


@dataclass(frozen=True)
class Schedule:
    """The learning-rate schedule (``training.schedule``)."""

    name: str
    step_size: int
    gamma: float
    patience: int
    max_learning_rate: float | None


@dataclass(frozen=True)
class EarlyStopping:
    """When training stops (``training.early_stopping``)."""

    enabled: bool
    metric: str
    patience: int
    min_delta: float
    restore_best: bool


@dataclass(frozen=True)
class Distributed:
    """Data-parallel training under torchrun (``training.distributed``)."""

    backend: Literal["auto", "gloo", "nccl"]
    timeout: float


@dataclass(frozen=True)
class Training:
    """How the model is trained (``training``)."""

    optimizer: str
    learning_rate: float
    momentum: float
    batch_size: int
    epochs: int
    train_on: Literal["train", "train_and_validation"]
    weight_decay: float
    schedule: Schedule
    gradient_clip: float | None
    warmup_steps: int
    gradient_accumulation: int
    early_stopping: EarlyStopping
    time_budget: float | None
    device: str
    precision: str
    seed: int
    deterministic: bool
    cpu_threads: int | None
    distributed: Distributed | None
    export_onnx: bool


@dataclass(frozen=True)
class SpaceEntry:
    """One option a search chooses (``tuning.space[i]``): a range or choices."""

    option: str
    low: float | None
    high: float | None
    log: bool
    step: float | None
    choices: tuple[Any, ...] | None
    when: Mapping[str, Any] | None


@dataclass(frozen=True)
class Folds:
    """Cross-validation folds of the train split that score trials (``tuning.cv``)."""

    folds: int
    strategy: str
    group_column: str | None


@dataclass(frozen=True)
class CrossValidation(Folds):
    """Folds of the train split that measure the trained configuration
    (``evaluation.cross_validation``): ``tuning.cv``'s, with a seed of their own."""

    seed: int


@dataclass(frozen=True)
class Tuning:
    """The hyperparameter search (``tuning``)."""

    method: str
    space: tuple[SpaceEntry, ...]
    trials: int | None
    seconds: float | None
    metric: str | None
    direction: Literal["maximize", "minimize"] | None
    pruning: str
    warmup_epochs: int
    startup_trials: int
    seed: int
    retrain: Literal["train", "train_and_validation"]
    cv: Folds | None


@dataclass(frozen=True)
class ChosenOn:
    """The rows a decision threshold is chosen on, for audit-only data."""

    split: str | None
    fraction: float
    seed: int
    path: str | None


@dataclass(frozen=True)
class Threshold:
    """How the binary decision threshold is chosen (``evaluation.threshold``)."""

    strategy: Literal["fixed", "best_f1", "min_cost"]
    value: float
    chosen_on: ChosenOn | None


@dataclass(frozen=True)
class Drift:
    """How the audited data are compared with the development data (``evaluation.drift``)."""

    numeric: str
    categorical: str
    fdr: float
    domain_classifier: bool
    domain_rows: int


@dataclass(frozen=True)
class Counterfactual:
    """How counterfactual pairs are judged (``evaluation.counterfactual``, generation only)."""

    similarity_threshold: float
    max_flagged_share: float
    sentiment_tolerance: float
    refusal_tolerance: float
    fdr: float
    variants: tuple[str, ...] | None
    swaps: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Costs:
    """The cost of each kind of wrong decision (``evaluation.costs``)."""

    false_positive: float
    false_negative: float
    unit: str


@dataclass(frozen=True)
class LearningCurve:
    """Retraining on growing fractions of the training rows (``evaluation.learning_curve``)."""

    enabled: bool
    fractions: tuple[float, ...]


@dataclass(frozen=True)
class Extraction:
    """Memorization by extraction of a language model (``evaluation.extraction``)."""

    documents: int
    prefix_tokens: int
    verbatim_tokens: int


@dataclass(frozen=True)
class BaseComparison:
    """The checkpoint before fine-tuning against the fine-tuned model
    (``evaluation.base_comparison``)."""

    enabled: bool
    general: str | None


@dataclass(frozen=True)
class Generations:
    """Answers written to held-out prompts, scored by the text metrics
    (``evaluation.generations``, language models)."""

    enabled: bool
    splits: tuple[str, ...]
    prompts: int
    prompt_tokens: int
    max_new_tokens: int


@dataclass(frozen=True)
class Diagnostics:
    """The bounds diagnostics are judged against when no criterion covers them."""

    suspicious_score: float
    single_feature_auc: float
    generalization_gap: float
    max_missing_rate: float
    max_duplicate_rate: float
    min_class_share: float
    baseline_margin: float
    max_fold_spread: float
    max_outlier_rate: float
    overfitting_rise: float
    learning_curve_gain: float
    max_fairness_difference: float
    min_fairness_ratio: float
    max_numeric_drift: float
    max_categorical_drift: float
    max_domain_auc: float
    max_prior_shift: float
    max_group_share_shift: float
    max_unseen_share: float
    max_performance_drop: float
    max_group_calibration_error: float
    max_memorized_rate: float
    max_contamination_rate: float


@dataclass(frozen=True)
class Memorization:
    """How responses, prompts and references are looked up in data.corpus
    (``evaluation.memorization``)."""

    ngram: int
    memorized_words: int
    contamination_share: float
    metric: str | None
    examples: int


@dataclass(frozen=True)
class Evaluation:
    """How the model is evaluated (``evaluation``)."""

    metrics: tuple[str, ...]
    confidence: float
    bootstrap: int
    seed: int
    min_group_size: int
    intersections: bool
    threshold: Threshold
    costs: Costs | None
    cross_validation: CrossValidation | None
    learning_curve: LearningCurve
    extraction: Extraction
    base_comparison: BaseComparison
    generations: Generations
    counterfactual: Counterfactual
    drift: Drift
    memorization: Memorization
    diagnostics: Diagnostics


@dataclass(frozen=True)
class MlflowTracking:
    """Where the audit is logged in MLflow (``report.mlflow``; auditor.mlflow_log)."""

    tracking_uri: str
    experiment: str | None  # None: the spec's name


@dataclass(frozen=True)
class Report:
    """Who the report is for and where it goes (``report``)."""

    title: str | None
    audience: str
    owner: str
    approvers: tuple[str, ...]
    output: str | None
    page_size: Literal["A4", "Letter"]
    against: str | None  # a previous run's results.json to compare with
    mlflow: MlflowTracking | None  # log each run to MLflow (None: only with --mlflow)


@dataclass(frozen=True)
class TextModels:
    """The local models of the offline text estimators (``text_models``, generation only)."""

    embedding: str
    language_model: str | None
    batch_size: int
    device: str  # cpu, auto, mps, cuda[:N] (auditor.text.local_models.device_name)


@dataclass(frozen=True)
class JudgeBudget:
    """What the judge may spend per split (``judge.budget``; None: no limit)."""

    rows: int | None
    tokens: int | None


@dataclass(frozen=True)
class Judge:
    """An LLM judge through an OpenAI-compatible endpoint (``judge``, generation only)."""

    url: str | None
    url_env: str | None
    model: str
    api_key_env: str | None
    metrics: tuple[str, ...]
    repeats: int
    temperature: float
    max_tokens: int
    timeout_s: float
    retries: int
    concurrency: int
    budget: JudgeBudget
    min_kappa: float


@dataclass(frozen=True)
class Responder:
    """Responses generated during the run (``responder``, generation only)."""

    url: str | None
    url_env: str | None
    model: str | None
    checkpoint: str | None
    api_key_env: str | None
    system: str
    temperature: float
    max_tokens: int
    seed: int
    timeout_s: float
    retries: int
    concurrency: int


@dataclass(frozen=True)
class SpecValues:
    """The whole resolved spec."""

    version: int
    name: str
    objective: Objective
    data: Data
    model: Model
    training: Training
    tuning: Tuning | None
    evaluation: Evaluation
    acceptance: tuple[Criterion, ...]
    report: Report
    text_models: TextModels | None
    judge: Judge | None
    responder: Responder | None


#: schema object (a JSON path of property names, "[]" for array items) -> its dataclass;
#: the test walks the schema with it.
SECTIONS: dict[tuple[str, ...], type] = {}


def typed_spec(values: Mapping[str, Any]) -> SpecValues:
    """The typed, frozen form of a resolved spec document (every default applied)."""
    return _build(SpecValues, values, ())


def section(path: tuple[str, ...], values: Mapping[str, Any] | None = None, **fields: Any):
    """One typed section built from some of its fields, the others from the schema defaults.

    For code and tests that need a section without a whole spec, for example
    ``section(("data", "preprocessing"), outliers="drop")``. The fields are not validated.
    """
    from auditor.spec.defaults import section_defaults

    filled = section_defaults(tuple(path), {**dict(values or {}), **fields})
    return _build(SECTIONS[tuple(path)], filled, tuple(path))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field types, evaluated once: ``typing.get_type_hints`` evaluates every
    string annotation again on each call, most of what building a typed spec cost."""
    return typing.get_type_hints(cls)


def _build(cls: type, values: Mapping[str, Any], where: tuple) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        kwargs[f.name] = _convert(hints[f.name], values.get(f.name), where + (f.name,))
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: tuple) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        dataclass_types = [a for a in inner if dataclasses.is_dataclass(a)]
        if dataclass_types:
            return _convert(dataclass_types[0], value, where)
        return _convert(inner[0], value, where) if len(inner) == 1 else value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_convert(item, v, where + ("[]",)) for v in value)
    if origin is Mapping or hint is Mapping:
        return types.MappingProxyType(dict(value))
    return value


def _register(cls: type, where: tuple[str, ...]) -> None:
    SECTIONS[where] = cls
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            if dataclasses.is_dataclass(item):
                _register(item, where + (f.name, "[]"))
            continue
        for a in [a for a in typing.get_args(hint) if a is not type(None)] or [hint]:
            if dataclasses.is_dataclass(a):
                _register(a, where + (f.name,))


_register(SpecValues, ())
