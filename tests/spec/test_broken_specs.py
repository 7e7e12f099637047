"""Broken specs, table-driven, through the real CLI entry (``auditor.cli.main``).

Each row: the spec text, the line the error must point at (None for errors about the file
as a whole), a substring of the JSON path it must name, and a substring of the message.
Every case must exit 2, print exactly one located line on stderr, and never a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.metrics import METRICS
from auditor.metrics.fairness import FAIRNESS_METRICS
from auditor.spec import data_rules, rules, schema, yamlio
from auditor.text.catalogue import TEXT_METRICS
from tests.spec.specdata import BASE, edit

CRITERION_METRICS = [*METRICS, *FAIRNESS_METRICS, *TEXT_METRICS]  # the criterion's metric enum


def _bomb() -> str:
    lines = [
        "version: 1",
        "name: t",
        "report:",
        '  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


APPEND = BASE.rstrip("\n") + "\n"  # lines 11+ are appended below
WITH_ID = edit("  sensitive: [sex]", "  sensitive: [sex]\n  id_column: applicant_id")  # 12+

# (id, spec text, line, path substring, message substring)
CASES: list[tuple[str, str, int | None, str | None, str]] = [
    # --- YAML itself
    (
        "syntax-error",
        edit("  target: approved", "  target: approved: x"),
        5,
        None,
        "mapping values are not allowed here",
    ),
    (
        "unclosed-flow",
        edit("  - {metric: f1, at_least: 0.5}", "  - {metric: f1, at_least: 0.5"),
        11,
        None,
        "invalid YAML",
    ),
    ("tab-indent", edit("  task: binary", "\ttask: binary"), 4, None, yamlio.MSG_TAB),
    (
        "duplicate-key",
        edit("  sensitive: [sex]", "  train: other.csv"),
        8,
        "data.train",
        "duplicate key 'train' (lines 7 and 8)",
    ),
    ("alias-bomb", _bomb(), 9, None, "refusing to expand"),
    ("recursive-alias", APPEND + "report: &r {approvers: *r}\n", 11, None, yamlio.MSG_RECURSIVE),
    (
        "python-tag",
        edit("name: t", 'name: !!python/object/apply:os.system ["echo hi"]'),
        2,
        "name",
        "tag '!!python/object/apply:os.system' is not allowed",
    ),
    (
        "custom-tag",
        edit("  train: data.csv", "  train: !include data.csv"),
        7,
        "data.train",
        "tag '!include' is not allowed",
    ),
    (
        "binary-tag",
        APPEND + "report: {title: !!binary aGVsbG8=}\n",
        11,
        "report.title",
        "tag '!!binary' is not allowed",
    ),
    (
        "too-deep",
        APPEND + "report: {approvers: " + "[" * 80 + "]" * 80 + "}\n",
        11,
        None,
        "nesting is too deep",
    ),
    ("two-documents", APPEND + "---\nversion: 1\n", 11, None, yamlio.MSG_MULTI_DOC),
    ("top-level-list", "- version: 1\n- name: t\n", 1, None, "must be a mapping of sections"),
    # --- unknown and misspelled keys, at every level
    (
        "unknown-top",
        APPEND + "reprot: {title: x}\n",
        11,
        "reprot",
        "unknown key 'reprot' (did you mean 'report'?)",
    ),
    (
        "unknown-objective",
        edit("  task: binary", "  tsak: binary"),
        4,
        "objective.tsak",
        "unknown key 'tsak' (did you mean 'task'?)",
    ),
    (
        "unknown-data",
        edit("  train: data.csv", "  trian: data.csv"),
        7,
        "data.trian",
        "(did you mean 'train'?)",
    ),
    (
        "unknown-split",
        edit("  sensitive: [sex]", "  split: {stratgey: random}"),
        8,
        "data.split.stratgey",
        "(did you mean 'strategy'?)",
    ),
    (
        "unknown-preprocessing",
        edit("  sensitive: [sex]", "  preprocessing: {scalling: none}"),
        8,
        "data.preprocessing.scalling",
        "(did you mean 'scaling'?)",
    ),
    (
        "unknown-model",
        APPEND + "model: {architecure: mlp}\n",
        11,
        "model.architecure",
        "(did you mean 'architecture'?)",
    ),
    (
        "unknown-training",
        APPEND + "training: {learnig_rate: 0.01}\n",
        11,
        "training.learnig_rate",
        "(did you mean 'learning_rate'?)",
    ),
    (
        "unknown-early-stopping",
        APPEND + "training:\n  early_stopping: {patiance: 3}\n",
        12,
        "training.early_stopping.patiance",
        "(did you mean 'patience'?)",
    ),
    (
        "unknown-evaluation",
        APPEND + "evaluation: {bootstrapp: 100}\n",
        11,
        "evaluation.bootstrapp",
        "(did you mean 'bootstrap'?)",
    ),
    (
        "unknown-criterion-key",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, at_lest: 0.5}"),
        10,
        "acceptance[0].at_lest",
        "unknown key 'at_lest' (did you mean 'at_least'?)",
    ),
    (
        "unknown-report",
        APPEND + "report: {tittle: x}\n",
        11,
        "report.tittle",
        "(did you mean 'title'?)",
    ),
    (
        "key-in-wrong-section",
        APPEND + "model: {epochs: 10}\n",
        11,
        "model.epochs",
        "'epochs' belongs under 'training'",
    ),
    # --- wrong types, enums, ranges
    (
        "type-bound-high",
        edit("at_least: 0.5", "at_least: high"),
        10,
        "acceptance[0].at_least",
        "must be a number between 0 and 1, got 'high'",
    ),
    (
        "type-list",
        edit("  sensitive: [sex]", "  sensitive: sex"),
        8,
        "data.sensitive",
        "must be a list, got 'sex'",
    ),
    (
        "type-integer",
        APPEND + "training: {epochs: 10.5}\n",
        11,
        "training.epochs",
        "must be an integer between 1 and 100000, got 10.5",
    ),
    (
        "yes-is-not-boolean",
        edit("  sensitive: [sex]", "  sensitive_as_features: yes"),
        8,
        "data.sensitive_as_features",
        "must be true or false, got 'yes'",
    ),
    (
        "enum-task",
        edit("  task: binary", "  task: binray"),
        4,
        "objective.task",
        "must be one of binary, multiclass, regression, generation, language_model, "
        "got 'binray' "
        "(did you mean 'binary'?)",
    ),
    (
        "enum-format",
        edit("  sensitive: [sex]", "  format: xlsx"),
        8,
        "data.format",
        "must be one of auto, csv, parquet, jsonl, got 'xlsx'",
    ),
    (
        "range-split",
        edit("  sensitive: [sex]", "  split: {test: 0.9}"),
        8,
        "data.split.test",
        "must be a number greater than 0 and at most 0.5, got 0.9",
    ),
    (
        "range-dropout",
        APPEND + "model: {dropout: 1.5}\n",
        11,
        "model.dropout",
        "must be a number between 0 and 0.9, got 1.5",
    ),
    (
        "range-confidence",
        APPEND + "evaluation: {confidence: 95}\n",
        11,
        "evaluation.confidence",
        "between 0.5 and 0.999, got 95",
    ),
    (
        "device-pattern",
        APPEND + "training: {device: gpu}\n",
        11,
        "training.device",
        "must be one of auto, cpu, mps, cuda, cuda:N, got 'gpu'",
    ),
    ("name-pattern", edit("name: t", "name: my model"), 2, "name", "got 'my model'"),
    (
        "empty-target",
        edit("  target: approved", "  target: ''"),
        5,
        "objective.target",
        schema.MSG_MIN_LENGTH,
    ),
    # --- unknown metric names
    (
        "unknown-metric",
        edit("metric: f1,", "metric: f2,"),
        10,
        "acceptance[0].metric",
        "unknown name 'f2' (did you mean 'f1'?); `auditor schema` lists all "
        f"{len(CRITERION_METRICS)} allowed names",
    ),
    (
        "unknown-eval-metric",
        APPEND + "evaluation: {metrics: [accuracy, acuracy]}\n",
        11,
        "evaluation.metrics[1]",
        "(did you mean 'accuracy'?)",
    ),
    (
        "unknown-early-stopping-metric",
        APPEND + "training: {early_stopping: {metric: acuracy}}\n",
        11,
        "training.early_stopping.metric",
        "unknown metric 'acuracy' for early stopping; use 'loss' or one of",
    ),
    (
        "unknown-check",
        edit("{metric: f1, at_least: 0.5}", "{check: leakage, at_most: 0.5}"),
        10,
        "acceptance[0].check",
        "must be one of missing_rate, outliers",
    ),
    # --- version
    (
        "missing-version",
        edit("version: 1", "# no version"),
        2,
        "version",
        schema.MSG_REQUIRED_VERSION,
    ),
    (
        "version-2",
        edit("version: 1", "version: 2"),
        1,
        "version",
        "unsupported spec version 2 (only 1 exists)",
    ),
    (
        "version-text",
        edit("version: 1", "version: '1'"),
        1,
        "version",
        "the version must be the number 1, got the text '1'",
    ),
    (
        "section-not-mapping",
        edit("objective:\n  task: binary\n  target: approved\n", "objective: binary\n\n\n"),
        3,
        "objective",
        "must be a mapping, got 'binary'",
    ),
    (
        "section-empty",
        edit("data:\n  train: data.csv\n  sensitive: [sex]\n", "data:\n\n\n"),
        6,
        "data",
        "must be a mapping, got null",
    ),
    (
        "acceptance-not-list",
        edit("  - {metric: f1, at_least: 0.5}", "  {metric: f1, at_least: 0.5}"),
        10,
        "acceptance",
        "must be a list, got a mapping",
    ),
    (
        "repeated-sensitive",
        edit("  sensitive: [sex]", "  sensitive: [sex, sex]"),
        8,
        "data.sensitive",
        "must not repeat items (repeated: 'sex')",
    ),
    (
        "too-many-layers",
        APPEND + "model: {hidden: [" + ", ".join(["8"] * 33) + "]}\n",
        11,
        "model.hidden",
        "must have at most 32 item(s), got 33",
    ),
    (
        "waiver-incomplete",
        APPEND + "  - {metric: f1, at_least: 0.9, waiver: {reason: pilot}}\n",
        11,
        "acceptance[1].waiver.approver",
        "missing required key 'approver'",
    ),
    # --- required keys and criterion shape
    (
        "missing-target",
        edit("  target: approved", "  purpose: x"),
        3,
        "objective.target",
        "missing required key 'target'",
    ),
    (
        "missing-data",
        BASE.replace("data:\n  train: data.csv\n  sensitive: [sex]\n", ""),
        1,
        "data",
        "missing required key 'data'",
    ),
    (
        "criterion-no-measure",
        edit("{metric: f1, at_least: 0.5}", "{at_least: 0.5}"),
        10,
        "acceptance[0]",
        schema.MSG_NEEDS_MEASURE,
    ),
    (
        "criterion-no-bound",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1}"),
        10,
        "acceptance[0]",
        schema.MSG_NEEDS_BOUND,
    ),
    # --- cross-field rules
    (
        "split-too-big",
        edit("  sensitive: [sex]", "  split: {validation: 0.35, test: 0.3}"),
        8,
        "data.split.test",
        "leave 35% of the rows for training",
    ),
    (
        "group-needs-column",
        edit("  sensitive: [sex]", "  split: {strategy: group}"),
        8,
        "data.split.strategy",
        "strategy 'group' needs data.split.group_column",
    ),
    (
        "positive-in-regression",
        edit(
            "  task: binary",
            "  task: regression\n  positive: 1",
            edit("{metric: f1, at_least: 0.5}", "{metric: r2, at_least: 0.5}"),
        ),
        5,
        "objective.positive",
        "'positive' names a class, and a regression task has none",
    ),
    (
        "fairness-needs-sensitive",
        edit(
            "{metric: f1, at_least: 0.5}", "{metric: demographic_parity_difference, at_most: 0.1}"
        ),
        10,
        "acceptance[0]",
        "needs 'sensitive': one of data.sensitive (sex)",
    ),
    (
        "fairness-unlisted",
        edit(
            "{metric: f1, at_least: 0.5}",
            "{metric: equalized_odds_difference, sensitive: sex&race, at_most: 0.1}",
        ),
        10,
        "acceptance[0].sensitive",
        "'race' is not in data.sensitive (sex)",
    ),
    (
        "metric-wrong-task",
        edit("{metric: f1, at_least: 0.5}", "{metric: rmse, at_most: 1}"),
        10,
        "acceptance[0].metric",
        "metric 'rmse' is for regression, but the task is 'binary'",
    ),
    (
        "fairness-wrong-task",
        edit("{metric: f1, at_least: 0.5}", "{metric: mae_difference, sensitive: sex, at_most: 1}"),
        10,
        "acceptance[0].metric",
        "'mae_difference' applies to regression tasks, not binary",
    ),
    (
        "driver-needs-feature",
        edit("{metric: f1, at_least: 0.5}", "{check: driver_rank, at_most: 3}"),
        10,
        "acceptance[0]",
        rules.MSG_CHECK_NEEDS_FEATURE.format(check="driver_rank"),
    ),
    (
        "feature-not-a-column",
        edit(
            "{metric: f1, at_least: 0.5}",
            "{check: monotone_increasing, feature: incme, at_most: 0.02}",
        ),
        10,
        "acceptance[0].feature",
        "column 'incme' is not in the train file",
    ),
    (
        "feature-on-a-metric",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, feature: income, at_least: 0.5}"),
        10,
        "acceptance[0].feature",
        "metric 'f1' takes none",
    ),
    (
        "baseline-the-task-lacks",
        edit(
            "{metric: f1, at_least: 0.5}",
            "{check: baseline_improvement, metric: accuracy, baseline: median, at_least: 0}",
        ),
        10,
        "acceptance[0].baseline",
        "baseline 'median' is not one of a binary model's baselines (use one of majority, "
        "stratified, linear)",
    ),
    (
        "baseline-on-a-metric",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, baseline: majority, at_least: 0.5}"),
        10,
        "acceptance[0].baseline",
        "metric 'f1' takes none",
    ),
    (
        "expected-cost-needs-costs",
        edit("{metric: f1, at_least: 0.5}", "{check: expected_cost, at_most: 100}"),
        10,
        "acceptance[0].check",
        rules.MSG_CHECK_NEEDS.format(check="expected_cost", setting="evaluation.costs"),
    ),
    (
        "bound-percentage",
        edit("at_least: 0.5", "at_least: 80"),
        10,
        "acceptance[0].at_least",
        "must be between 0 and 1 for f1 (a share, not a percentage), got 80",
    ),
    (
        "change-bound-outside-the-changes-range",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, change: true, at_least: -1.5}"),
        10,
        "acceptance[0].at_least",
        "must be between -1 and 1 for the change in f1, which can take no other value, got -1.5",
    ),
    (
        "audit-needs-vendor",
        edit("  train: data.csv", "  audit: [{path: data.csv}]"),
        7,
        "data.audit",
        "audit-only data train nothing: declare the model to audit in model.vendor",
    ),
    (
        "needs-train-or-audit",
        edit("  train: data.csv\n", ""),
        6,
        "data",
        "data needs 'train' (a file to learn from",
    ),
    (
        "criterion-unknown-split",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, split: tset, at_least: 0.5}"),
        10,
        "acceptance[0].split",
        "no split is called 'tset'; the data define train, validation, test (did you mean 'test'?)",
    ),
    (
        "audit-name-reserved",
        edit("  train: data.csv", "  train: data.csv\n  audit: [{path: data.csv, name: test}]"),
        8,
        "data.audit[0]",
        "the split name 'test' is reserved for a split of its own",
    ),
    (
        "holdout-split",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, split: holdout, at_least: 0.5}"),
        10,
        "acceptance[0].split",
        rules.MSG_HOLDOUT_SPLIT,
    ),
    (
        "waiver-date",
        APPEND + "  - metric: f1\n    at_least: 0.9\n    waiver: {reason: r, "
        "approver: a, expires: 2025-02-30}\n",
        13,
        "acceptance[1].waiver.expires",
        "'2025-02-30' is not a real date",
    ),
    (
        "min-cost-needs-costs",
        APPEND + "evaluation: {threshold: {strategy: min_cost}}\n",
        11,
        "evaluation.threshold.strategy",
        rules.MSG_MIN_COST_NEEDS_COSTS,
    ),
    (
        "not-finite",
        APPEND + "training: {gradient_clip: .inf}\n",
        11,
        "training.gradient_clip",
        "must be a finite number, got .inf",
    ),
    (
        "nan-bound",
        edit("{metric: f1, at_least: 0.5}", "{metric: log_loss, at_most: .nan}"),
        10,
        "acceptance[0].at_most",
        rules.MSG_NOT_FINITE.format(got=".nan"),
    ),
    (
        "target-is-sensitive",
        edit("  sensitive: [sex]", "  sensitive: [approved]"),
        8,
        "data.sensitive[0]",
        "the target 'approved' cannot also be a sensitive column",
    ),
    # --- data files
    (
        "data-missing",
        edit("train: data.csv", "train: missing.csv"),
        7,
        "data.train",
        "data file not found",
    ),
    (
        "data-empty",
        edit("train: data.csv", "train: empty.csv"),
        7,
        "data.train",
        "data file is empty",
    ),
    (
        "data-header-only",
        edit("train: data.csv", "train: header.csv"),
        7,
        "data.train",
        "header but no rows",
    ),
    (
        "data-binary-garbage",
        edit("train: data.csv", "train: garbage.csv"),
        7,
        "data.train",
        "not a text CSV file (it contains NUL bytes)",
    ),
    (
        "data-not-utf8",
        edit("train: data.csv", "train: latin.csv"),
        7,
        "data.train",
        "cannot read csv file",
    ),
    (
        "data-bad-parquet",
        edit("train: data.csv", "train: bad.parquet"),
        7,
        "data.train",
        "cannot read parquet file",
    ),
    (
        "data-unknown-extension",
        edit("train: data.csv", "train: data.xlsx"),
        7,
        "data.train",
        "cannot tell the format",
    ),
    (
        "holdout-missing",
        edit("  sensitive: [sex]", "  holdout: nothere.csv"),
        8,
        "data.holdout",
        "data file not found",
    ),
    (
        "target-missing",
        edit("target: approved", "target: aproved"),
        5,
        "objective.target",
        "column 'aproved' is not in the train file",
    ),
    (
        "sensitive-missing",
        edit("  sensitive: [sex]", "  sensitive: [sex, gendr]"),
        8,
        "data.sensitive[1]",
        "column 'gendr' is not in the train file",
    ),
    (
        "include-missing",
        edit("  sensitive: [sex]", "  include: [age, incme]"),
        8,
        "data.include[1]",
        "(did you mean 'income'?)",
    ),
    (
        "types-missing",
        edit("  sensitive: [sex]", "  types: {regoin: categorical}"),
        8,
        "data.types.regoin",
        "(did you mean 'region'?)",
    ),
    (
        "holdout-lacks-feature",
        edit("  sensitive: [sex]", "  holdout: holdout_lacking.csv\n  sensitive: [sex]"),
        8,
        "data.holdout",
        "lacks feature column(s) of the train file: 'income'",
    ),
    (
        "one-class",
        edit("train: data.csv", "train: one_class.csv"),
        5,
        "objective.target",
        "has only one class (1)",
    ),
    (
        "binary-three-classes",
        edit("train: data.csv", "train: three.csv"),
        4,
        "objective.task",
        "task is binary but target 'approved' has 3 classes (0, 1, 2)",
    ),
    (
        "regression-text-target",
        edit(
            "{metric: f1, at_least: 0.5}",
            "{metric: r2, at_least: 0.5}",
            edit(
                "  task: binary", "  task: regression", edit("train: data.csv", "train: yes_no.csv")
            ),
        ),
        4,
        "objective.task",
        "task is regression but target 'approved' is not numeric",
    ),
    (
        "positive-yes-stays-text",
        edit("  target: approved", "  target: approved\n  positive: yes"),
        6,
        "objective.positive",
        "positive class 'yes' is not a value of target 'approved'",
    ),
    # --- vendor model files
    (
        "vendor-predictions-need-id",
        APPEND + "model: {vendor: {format: predictions, path: preds.csv}}\n",
        11,
        "model.vendor.format",
        rules.MSG_PREDICTIONS_NEED_ID,
    ),
    (
        "vendor-pickle-refused",
        APPEND + "model: {vendor: {format: pickle, path: data.csv}}\n",
        11,
        "model.vendor.format",
        "format 'pickle' is refused",
    ),
    (
        "vendor-model-missing",
        APPEND + "model: {vendor: {format: onnx, path: nope.onnx}}\n",
        11,
        "model.vendor.path",
        "model file not found",
    ),
    (
        "vendor-model-empty",
        APPEND + "model: {vendor: {format: onnx, path: empty.csv}}\n",
        11,
        "model.vendor.path",
        "model file is empty",
    ),
    (
        "vendor-skops-not-zip",
        APPEND + "model: {vendor: {format: skops, path: model.skops}}\n",
        11,
        "model.vendor.path",
        "not a skops file (it is not a zip archive",
    ),
    (
        "vendor-predictions-no-score",
        WITH_ID + "model: {vendor: {format: predictions, path: preds.csv, score_column: scor}}\n",
        12,
        "model.vendor.score_column",
        "has no score column 'scor' (did you mean 'score'?)",
    ),
    (
        "vendor-predictions-no-label",
        WITH_ID + "model:\n  vendor: {format: predictions, "
        "path: preds.csv, score_column: null, label_column: labels}\n",
        13,
        "model.vendor.label_column",
        "has no label column 'labels' (did you mean 'label'?)",
    ),
    (
        "vendor-predictions-no-id",
        WITH_ID + "model: {vendor: {format: predictions, path: preds_no_id.csv}}\n",
        9,
        "data.id_column",
        "has no id column 'applicant_id'",
    ),
    (
        "vendor-predictions-garbage",
        WITH_ID + "model: {vendor: {format: predictions, path: garbage.csv}}\n",
        12,
        "model.vendor.path",
        "not a text CSV file",
    ),
    # --- reference groups: the group must exist in the data, the key be sensitive
    (
        "reference-group-absent",
        edit("  sensitive: [sex]", "  sensitive: [sex]\n  reference_groups: {sex: mal}"),
        9,
        "data.reference_groups.sex",
        "reference group 'mal' of 'sex' is not a group in the train file",
    ),
    (
        "reference-group-key-not-sensitive",
        edit("  sensitive: [sex]", "  sensitive: [sex]\n  reference_groups: {region: north}"),
        9,
        "data.reference_groups.region",
        "'region' is not in data.sensitive (sex): a reference group is named for",
    ),
    (
        "reference-group-intersection-parts",
        edit(
            "  sensitive: [sex]",
            "  sensitive: [sex, region]\n  reference_groups: {'sex&region': male}",
        ),
        9,
        "data.reference_groups.sex&region",
        "must join 2 values with ' & '",
    ),
    (
        "reference-group-intersection-absent",
        edit(
            "  sensitive: [sex]",
            "  sensitive: [sex, region]\n  reference_groups: {'region&sex': 'west & male'}",
        ),
        9,
        "data.reference_groups.region&sex",
        "(groups: east & female, east & male,",
    ),
]


def test_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "text, line, path, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_spec(spec_dir: Path, capsys, text, line, path, message):
    spec = spec_dir / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    cpu_start = time.process_time()  # CPU time of this process: no wall clock, no load
    code = main(["validate", str(spec)])
    cpu = time.process_time() - cpu_start
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"one problem, one line; got:\n{err}"
    assert all(x.startswith(f"{spec}:") for x in lines), err  # every line is located
    prefix = f"{spec}:{line}:" if line is not None else f"{spec}: "
    matching = [
        x
        for x in lines
        if x.startswith(prefix) and message in x and (path is None or f": {path}" in x)
    ]
    assert matching, f"no line with {prefix!r} {path!r} {message!r} in:\n{err}"
    # Refusing a broken spec takes a few hundredths of a CPU second (the first case also
    # pays for lazy imports); a generous budget that still fails if validation starts to
    # read or compute far more than the spec (e.g. a whole data set, or a model).
    assert cpu < 2.0, f"validate used {cpu:.2f} s of CPU"


def test_alias_bomb_is_refused_fast(spec_dir: Path, capsys, monkeypatch):
    spec = spec_dir / "bomb.yaml"
    spec.write_text(_bomb(), encoding="utf-8")
    built: list[tuple] = []
    real_build = yamlio._build

    def spy_build(node, path, doc):
        built.append(path)
        return real_build(node, path, doc)

    monkeypatch.setattr(yamlio, "_build", spy_build)
    cpu_start = time.process_time()
    assert main(["validate", str(spec)]) == 2
    cpu = time.process_time() - cpu_start
    assert yamlio.MSG_TOO_MANY_NODES.format(limit=yamlio.MAX_NODES) in capsys.readouterr().err
    # Refused while counting: not one value of the 9**9-node document was built.
    assert built == []
    assert cpu < 0.5, f"refusing the bomb used {cpu:.3f} s of CPU"  # a few ms in practice


@pytest.mark.parametrize(
    "content, message",
    [
        (BASE + "# " + "x" * yamlio.MAX_BYTES + "\n", "spec file is too large"),
        ("", yamlio.MSG_EMPTY),
        ("# only a comment\n", yamlio.MSG_EMPTY),
    ],
    ids=["oversized", "empty", "comment-only"],
)
def test_file_level_errors(spec_dir: Path, capsys, content, message):
    spec = spec_dir / "spec.yaml"
    spec.write_text(content, encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_spec_not_utf8(spec_dir: Path, capsys):
    spec = spec_dir / "spec.yaml"
    spec.write_bytes(BASE.encode() + b"report: {title: caf\xe9}\n")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}:11:20: ") and "not UTF-8" in err


def test_spec_file_missing(tmp_path: Path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"{missing}: {yamlio.MSG_NOT_FOUND}"


def test_all_errors_are_collected_in_file_order(spec_dir: Path, capsys):
    text = edit(
        "  task: binary",
        "  task: binray",
        edit("  sensitive: [sex]", "  sensitive: sex", edit("at_least: 0.5", "at_least: high")),
    )
    spec = spec_dir / "spec.yaml"
    spec.write_text(text + "reprot: {}\n", encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [int(x.split(":")[1]) for x in lines] == [4, 8, 10, 11]


def test_misspelled_required_key_is_reported_once(spec_dir: Path, capsys):
    spec = spec_dir / "spec.yaml"
    spec.write_text(edit("objective:", "objectiv:"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"{spec}:3:1: objectiv: unknown key 'objectiv' (did you mean 'objective'?)"]


def test_data_errors_name_the_file(spec_dir: Path, capsys):
    spec = spec_dir / "spec.yaml"
    spec.write_text(edit("target: approved", "target: aproved"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert str(spec_dir / "data.csv") in err
    assert data_rules.MSG_NO_COLUMN.split("{")[0] in err


def test_long_enum_is_listed_only_without_a_close_name(spec_dir: Path, capsys):
    """A misspelt metric gets the likely name, not all 25; a far-off one gets the list."""
    spec = spec_dir / "spec.yaml"
    spec.write_text(edit("metric: f1,", "metric: acuracy,"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    close = capsys.readouterr().err.strip()
    names = CRITERION_METRICS
    assert close == (
        f"{spec}:10:14: acceptance[0].metric: "
        + schema.MSG_ENUM_LONG.format(
            got="'acuracy'", hint=" (did you mean 'accuracy'?)", n=len(names)
        )
    )
    assert "balanced_accuracy" not in close and len(close) - len(str(spec)) < 130
    spec.write_text(edit("metric: f1,", "metric: zzzz,"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    far = capsys.readouterr().err.strip()
    assert far.endswith("got 'zzzz'") and all(name in far for name in names)
    # the short message points at `auditor schema`: it does list every name
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert all(f'"{name}"' in printed for name in names)


def test_short_enum_is_always_listed(spec_dir: Path, capsys):
    spec = spec_dir / "spec.yaml"
    spec.write_text(edit("  task: binary", "  task: binray"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "objective.task: must be one of binary, multiclass, regression, generation, "
            "language_model, got 'binray' (did you mean 'binary'?)"
        )
    )
