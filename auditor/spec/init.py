"""``auditor init``: a starter spec inferred from a data file (a pure function of the data).

The task comes from the target column (two values: binary; at most ``MAX_CLASSES``
integer or text values: multiclass; otherwise numbers: regression), every other column is
listed as a feature, columns that look sensitive (sex, race, age, ...) are left out of the
features and suggested in comments, and the split, model, training and acceptance sections
get values taken from the schema's defaults, plus criteria that suit the task.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from auditor.errors import DataError, Location
from auditor.spec.schema import plain, schema_default, sorted_plain
from auditor.spec.suggest import did_you_mean
from auditor.spec.yamlio import scalar_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MAX_CLASSES = 20
MSG_NO_TARGET = "column '{target}' is not in the data{hint}"
MSG_TARGET_EMPTY = "target column '{target}' has no values"
MSG_ONE_VALUE = "target column '{target}' has a single value ({value}); nothing to predict"

# Name tokens that suggest a protected attribute (or a close proxy of one).
SENSITIVE_TOKENS = frozenset(
    {
        "sex",
        "gender",
        "race",
        "racial",
        "ethnic",
        "ethnicity",
        "age",
        "dob",
        "birth",
        "birthdate",
        "religion",
        "religious",
        "nationality",
        "national",
        "disability",
        "disabled",
        "marital",
        "married",
        "citizen",
        "citizenship",
        "pregnant",
        "pregnancy",
        "orientation",
        "veteran",
        "caste",
        "color",
        "colour",
        "immigration",
        "origin",
    }
)
SENSITIVE_PREFIXES = ("ethnic", "disab", "relig", "national", "citizen", "marital", "gender")
ID_NAME = re.compile(r"(^id$|^id_|_id$|^uuid|_uuid$|^key$)", re.IGNORECASE)
POSITIVE_WORDS = (
    "1",
    "true",
    "yes",
    "y",
    "positive",
    "approved",
    "accepted",
    "pass",
    "success",
    "fraud",
    "default",
    "churn",
    "churned",
)

CRITERIA: dict[str, list[dict[str, Any]]] = {
    "binary": [
        {
            "metric": "roc_auc",
            "at_least": 0.75,
            "rationale": "Ranks positives above negatives well enough to be useful.",
        },
        {"metric": "f1", "at_least": 0.6, "rationale": "Balances missed and false positives."},
        {
            "check": "generalization_gap",
            "metric": "accuracy",
            "at_most": 0.05,
            "severity": "advisory",
            "rationale": "Train and validation scores stay close.",
        },
        {
            "check": "suspicious_score",
            "metric": "accuracy",
            "at_most": 0.99,
            "severity": "advisory",
            "rationale": "Near-perfect scores usually mean a leak.",
        },
    ],
    "multiclass": [
        {
            "metric": "balanced_accuracy",
            "at_least": 0.6,
            "rationale": "Every class counts, not only the frequent ones.",
        },
        {"metric": "f1_macro", "at_least": 0.6, "rationale": "Precision and recall per class."},
        {
            "check": "generalization_gap",
            "metric": "accuracy",
            "at_most": 0.05,
            "severity": "advisory",
            "rationale": "Train and validation scores stay close.",
        },
    ],
    "regression": [
        {
            "metric": "r2",
            "at_least": 0.5,
            "rationale": "Explains at least half of the variation of the target.",
        },
        {
            "check": "generalization_gap",
            "metric": "r2",
            "at_most": 0.1,
            "severity": "advisory",
            "rationale": "Train and validation scores stay close.",
        },
        {
            "check": "suspicious_score",
            "metric": "r2",
            "at_most": 0.99,
            "severity": "advisory",
            "rationale": "Near-perfect scores usually mean a leak.",
        },
    ],
}
FAIRNESS_BOUND = 0.1


def infer_task(column: pd.Series) -> tuple[str, str]:
    """(task, reason) for a target column."""
    import pandas as pd

    values = column.dropna()
    n = int(values.nunique())
    if n == 2 or pd.api.types.is_bool_dtype(values):
        return "binary", f"{n} distinct values"
    numeric = pd.api.types.is_numeric_dtype(values)
    integral = numeric and bool((values.astype(float) % 1 == 0).all())
    if n <= MAX_CLASSES and (not numeric or integral):
        return "multiclass", f"{n} distinct {'integer' if numeric else 'text'} values"
    if numeric:
        return "regression", f"numbers with {n} distinct values"
    return "multiclass", f"{n} distinct text values (many classes)"


def guess_positive(values: list[Any]) -> Any:
    """The value that most likely means 'positive': 1, true, 'yes', ..., else the last."""
    for word in POSITIVE_WORDS:
        for value in values:
            if str(value).strip().lower() == word:
                return value
    return values[-1]


def looks_sensitive(name: str) -> bool:
    """Whether a column name suggests a protected attribute (token-wise: 'age_band' yes,
    'mileage' no)."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", _snake(name)) if t]
    return any(t in SENSITIVE_TOKENS or t.startswith(SENSITIVE_PREFIXES) for t in tokens)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()


def looks_like_id(name: str, column: pd.Series) -> bool:
    import pandas as pd

    if not ID_NAME.search(_snake(name)):
        return False
    values = column.dropna()
    return len(values) > 0 and values.is_unique and not pd.api.types.is_float_dtype(values)


def looks_like_date(column: pd.Series) -> bool:
    """Whether a column holds dates or timestamps (datetime dtype, or ISO-8601 text)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    sample = column.dropna().astype(str).head(200)
    if sample.empty or not sample.str.contains(r"^\d{4}-\d{2}-\d{2}", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, format="ISO8601", errors="coerce")
    return bool(parsed.notna().mean() > 0.95)


def spec_name(stem: str) -> str:
    """A valid spec name from a file stem."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:80]
    return name if name and name[0].isalnum() else "model"


def _flow(mapping: dict[str, Any]) -> str:
    """A one-line flow mapping, quoted as flow context requires (commas, colons)."""
    import yaml

    from auditor.spec.yamlio import SpecDumper

    return yaml.dump(
        mapping,
        Dumper=SpecDumper,
        default_flow_style=True,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
    ).strip()


def starter_spec(
    frame: pd.DataFrame,
    *,
    target: str,
    data_path: str,
    name: str,
    schema_ref: str | None = None,
    source_label: str | None = None,
    encoding: str | None = None,
) -> str:
    """YAML text of a starter spec for ``frame`` that ``auditor validate`` accepts.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (all rows; only the target and the column names are inspected).
    target : str
        Column to predict.
    data_path : str
        How the spec refers to the data file (relative to the spec's folder).
    name : str
        The spec's name (must match the schema's name pattern).
    schema_ref : str, optional
        Path or URL of the schema for the ``yaml-language-server`` comment.
    source_label : str, optional
        How the header comment names the data file (defaults to ``data_path``).
    encoding : str, optional
        The text encoding the data file was read in, written as ``data.encoding`` when it is
        not the default.

    Raises
    ------
    DataError
        The target is not a column, or has fewer than two values.
    """
    columns = [str(c) for c in frame.columns]
    values = _target_values(frame, columns, target, source_label or data_path)
    task, reason = infer_task(frame[target])
    id_column, sensitive, dates, features = _column_roles(frame, columns, target)
    lines: list[str] = []
    add = lines.append
    if schema_ref:
        add(f"# yaml-language-server: $schema={schema_ref}")
    add(
        f"# Starter spec written by `auditor init` from {source_label or data_path} "
        f"({len(frame):,} rows, {len(columns)} columns)."
    )
    add("# Review every value (the acceptance bounds especially), then run `auditor validate`.")
    add("version: 1")
    add(f"name: {scalar_text(name)}")
    lines += _objective_lines(task, reason, target, values)
    lines += _data_lines(data_path, id_column, features, dates, sensitive, task)
    lines[lines.index("data:") + 1 : lines.index("data:") + 1] = _encoding_lines(encoding)
    lines += _model_and_training_lines()
    lines += _acceptance_lines(task, sensitive)
    add("report:")
    add(f"  title: {scalar_text(f'{name} model')}")
    add("  owner: ''  # TODO: the team accountable for the model")
    add("  approvers: []  # TODO: who signs the report")
    return "\n".join(lines) + "\n"


def _target_values(frame: pd.DataFrame, columns: list[str], target: str, file: str) -> pd.Series:
    """The target's non-missing values; DataError unless it is a column with two values."""
    if target not in columns:
        raise DataError(
            MSG_NO_TARGET.format(target=target, hint=did_you_mean(target, columns)),
            Location(file=file),
        )
    values = frame[target].dropna()
    if values.empty:
        raise DataError(MSG_TARGET_EMPTY.format(target=target), Location(file=file))
    if values.nunique() < 2:
        value = scalar_text(plain(values.iloc[0]))
        raise DataError(MSG_ONE_VALUE.format(target=target, value=value), Location(file=file))
    return values


def _column_roles(
    frame: pd.DataFrame, columns: list[str], target: str
) -> tuple[str | None, list[str], list[str], list[str]]:
    """(id column, sensitive-looking columns, date columns, features) of the data."""
    id_column = next((c for c in columns if c != target and looks_like_id(c, frame[c])), None)
    others = [c for c in columns if c not in (target, id_column)]
    sensitive = [c for c in others if looks_sensitive(c)]
    dates = [c for c in others if c not in sensitive and looks_like_date(frame[c])]
    features = [c for c in others if c not in sensitive and c not in dates]
    return id_column, sensitive, dates, features


def _objective_lines(task: str, reason: str, target: str, values: pd.Series) -> list[str]:
    """The ``objective`` section: the inferred task, the target, its positive value."""
    lines = [
        "objective:",
        f"  task: {task}  # inferred from '{target}': {reason}",
        f"  target: {scalar_text(target)}",
    ]
    if task == "binary":
        ordered = sorted_plain(values.unique())
        positive = guess_positive(ordered)
        shown = ", ".join(scalar_text(v) for v in ordered)
        lines.append(
            f"  positive: {scalar_text(positive)}  # the outcome that counts as positive "
            f"(values: {shown})"
        )
    lines.append("  purpose: ''  # TODO: one plain sentence on what the model is for")
    return lines


def _data_lines(
    data_path: str,
    id_column: str | None,
    features: list[str],
    dates: list[str],
    sensitive: list[str],
    task: str,
) -> list[str]:
    """The ``data`` section: file, features, date and sensitive hints, split, preprocessing."""
    lines = [
        "data:",
        f"  train: {scalar_text(data_path)}",
        "  # holdout: client_data.csv  # the client's own data, evaluated as a split of its own",
    ]
    add = lines.append
    if id_column:
        add(f"  id_column: {scalar_text(id_column)}")
    add("  include:")
    for c in features:
        add(f"    - {scalar_text(c)}")
    if not features:
        lines[-1] = "  include: []"
    if dates:
        add(
            "  # Dates are left out of the features: "
            + ", ".join(scalar_text(c) for c in dates)
            + "."
        )
        add("  # To train on the past and test on the future, use")
        add(f"  # split: {{strategy: time, time_column: {scalar_text(dates[0])}}}")
    if sensitive:
        add("  # Columns that look sensitive; they are left out of the features above.")
        add("  # Uncomment to measure fairness across their groups (and see acceptance below):")
        add("  # sensitive: [" + ", ".join(scalar_text(c) for c in sensitive) + "]")
    else:
        add("  sensitive: []  # protected attributes to measure fairness across, if any")
    strategy = "random" if task == "regression" else "stratified"
    split = {
        "strategy": strategy,
        "validation": schema_default("data", "split", "validation"),
        "test": schema_default("data", "split", "test"),
        "seed": schema_default("data", "split", "seed"),
    }
    add(f"  split: {_flow(split)}")
    prep = {
        k: schema_default("data", "preprocessing", k)
        for k in ("missing", "outliers", "scaling", "categorical")
    }
    add(f"  preprocessing: {_flow(prep)}")
    return lines


def _encoding_lines(encoding: str | None) -> list[str]:
    """``  encoding: latin-1`` when the file is not in the default encoding, else nothing."""
    from auditor.data.sources import DEFAULT_ENCODING

    if not encoding or encoding.lower().replace("_", "-") == DEFAULT_ENCODING:
        return []
    return [f"  encoding: {scalar_text(encoding)}  # how the text files are encoded"]


def _model_and_training_lines() -> list[str]:
    """The ``model``, ``training`` and ``evaluation`` sections, from the schema's defaults."""
    lines = ["model:"]
    add = lines.append
    add(f"  architecture: {schema_default('model', 'architecture')}")
    add(f"  hidden: [{', '.join(str(h) for h in schema_default('model', 'hidden'))}]")
    add(f"  dropout: {scalar_text(schema_default('model', 'dropout'))}")
    add("training:")
    for key in ("optimizer", "learning_rate", "batch_size", "epochs", "device", "seed"):
        add(f"  {key}: {scalar_text(schema_default('training', key))}")
    patience = schema_default("training", "early_stopping", "patience")
    add(f"  early_stopping: {_flow({'patience': patience})}")
    add("evaluation:")
    add(f"  confidence: {scalar_text(schema_default('evaluation', 'confidence'))}")
    add(f"  bootstrap: {scalar_text(schema_default('evaluation', 'bootstrap'))}")
    return lines


def _acceptance_lines(task: str, sensitive: list[str]) -> list[str]:
    """The ``acceptance`` section: the task's criteria, fairness ones as comments."""
    lines = ["acceptance:"]
    for criterion in CRITERIA[task]:
        lines.append(f"  - {_flow(criterion)}")
    if sensitive and task != "regression":
        metric = "demographic_parity_difference" if task == "binary" else "worst_group_accuracy"
        for c in sensitive:
            bound = {"at_most": FAIRNESS_BOUND} if task == "binary" else {"at_least": 0.5}
            lines.append(f"  # - {_flow({'metric': metric, 'sensitive': c, **bound})}")
    return lines


# --------------------------------------------------------------------------- audit-only
#: A model file's suffix -> the vendor format that reads it.
MODEL_SUFFIXES = {
    ".onnx": "onnx",
    ".pt": "torchscript",
    ".pth": "torchscript",
    ".ts": "torchscript",
    ".skops": "skops",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
    ".csv": "predictions",
    ".tsv": "predictions",
    ".parquet": "predictions",
    ".pq": "predictions",
    ".jsonl": "predictions",
    ".ndjson": "predictions",
}
SCORE_WORDS = ("score", "probability", "proba", "prob", "prediction", "predicted", "p")
MSG_MODEL_SUFFIX = (
    "cannot tell the format of model file {file} from its name; known endings: {known}"
)
MSG_PREDICTIONS_NEED_ID = (
    "a predictions file is joined to the data by an id column, and none was found in {file} "
    "(a column named id, *_id, uuid or key with a distinct value per row)"
)
AUDIT_CHECKS_NEEDING_TRAINING = frozenset({"generalization_gap"})


def model_format(path: str) -> str:
    """The vendor format of a model file, from its name (DataError when unknown)."""
    from pathlib import PurePath

    suffix = PurePath(path).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        known = ", ".join(sorted(MODEL_SUFFIXES))
        raise DataError(MSG_MODEL_SUFFIX.format(file=path, known=known), Location(file=path))
    return MODEL_SUFFIXES[suffix]


def _score_column(header: list[str], id_column: str | None) -> tuple[str | None, str | None]:
    """(score column, label column) a predictions file's header most likely holds."""
    names = [c for c in header if c != id_column]
    for word in SCORE_WORDS:
        for c in names:
            if c.lower() == word or c.lower().startswith(f"{word}_"):
                return c, None
    labels = [c for c in names if c.lower() in ("label", "prediction_label", "class", "decision")]
    return (None, labels[0]) if labels else (names[0] if names else "score", None)


def _vendor_lines(model_path: str, fmt: str, header: list[str] | None, id_column) -> list[str]:
    lines = ["model:", "  vendor:", f"    format: {fmt}", f"    path: {scalar_text(model_path)}"]
    if fmt == "predictions":
        score, label = _score_column(header or [], id_column)
        if score:
            lines.append(f"    score_column: {scalar_text(score)}  # the positive-class score")
        else:
            lines.append("    score_column: null")
            lines.append(f"    label_column: {scalar_text(label)}  # labels only: no scores")
    else:
        lines.append(
            "    input: raw  # the model reads the raw columns ('preprocessed': this spec's)"
        )
    if fmt == "skops":
        lines.append("    trusted_types: []  # `auditor validate` lists the types the file needs")
    if fmt == "pickle":
        lines.append(
            "    allow_pickle: false  # unpickling runs the file's code: true only if you "
            "trust it completely (better: ask for skops, ONNX or a predictions file)"
        )
    return lines


def starter_audit_spec(
    frame: pd.DataFrame,
    *,
    target: str,
    data_path: str,
    model_path: str,
    name: str,
    predictions_header: list[str] | None = None,
    reference_path: str | None = None,
    schema_ref: str | None = None,
    source_label: str | None = None,
    encoding: str | None = None,
) -> str:
    """YAML text of a starter audit-only spec: a vendor's model on the client's file.

    The file is audited as it is (``data.audit``, no split, nothing trained); the model's
    format comes from its file name; with ``reference_path`` the development data are
    declared, so the drift checks compare the client's rows with them.

    Raises
    ------
    DataError
        The target is not a column or has one value; the model file's format is unknown; a
        predictions file but no id column to join it by.
    """
    columns = [str(c) for c in frame.columns]
    values = _target_values(frame, columns, target, source_label or data_path)
    task, reason = infer_task(frame[target])
    id_column, sensitive, dates, features = _column_roles(frame, columns, target)
    fmt = model_format(model_path)
    if fmt == "predictions" and id_column is None:
        raise DataError(
            MSG_PREDICTIONS_NEED_ID.format(file=source_label or data_path),
            Location(file=source_label or data_path),
        )
    lines: list[str] = [f"# yaml-language-server: $schema={schema_ref}"] if schema_ref else []
    lines.append(
        f"# Starter audit-only spec written by `auditor init` from {source_label or data_path} "
        f"({len(frame):,} rows) and the model {model_path}."
    )
    lines.append(
        "# Review every value (the acceptance bounds especially), then run `auditor validate`."
    )
    lines += ["version: 1", f"name: {scalar_text(name)}"]
    lines += _objective_lines(task, reason, target, values)
    lines += ["data:", *_encoding_lines(encoding)]
    lines.append("  audit:  # audited as it is: no split, nothing is trained")
    lines.append(f"    - {{path: {scalar_text(data_path)}, label: client data}}")
    if reference_path:
        lines.append(
            f"  reference: {{path: {scalar_text(reference_path)}, label: development data}}"
        )
    else:
        lines.append(
            "  # reference: {path: vendor_development.csv}  # the rows the model was built on"
        )
    if id_column:
        lines.append(f"  id_column: {scalar_text(id_column)}")
    lines.append("  include: [" + ", ".join(scalar_text(c) for c in features) + "]")
    if dates:
        lines.append("  # Dates are left out of the features: " + ", ".join(dates) + ".")
    if sensitive:
        lines.append("  # Columns that look sensitive; uncomment to measure fairness across them:")
        lines.append("  # sensitive: [" + ", ".join(scalar_text(c) for c in sensitive) + "]")
    else:
        lines.append("  sensitive: []  # protected attributes to measure fairness across, if any")
    lines += _vendor_lines(model_path, fmt, predictions_header, id_column)
    lines += [
        "evaluation:",
        f"  bootstrap: {scalar_text(schema_default('evaluation', 'bootstrap'))}",
    ]
    if task == "binary":
        lines.append(
            "  # threshold: {strategy: best_f1, chosen_on: {fraction: 0.2}}  # rows set aside"
        )
    lines.append("acceptance:")
    for criterion in CRITERIA[task]:
        if criterion.get("check") not in AUDIT_CHECKS_NEEDING_TRAINING:
            lines.append(f"  - {_flow(criterion)}")
    if reference_path:
        lines.append(
            "  - "
            + _flow(
                {
                    "check": "domain_classifier",
                    "at_most": 0.65,
                    "severity": "advisory",
                    "rationale": "The client's rows should resemble the development rows.",
                }
            )
        )
    lines += [
        "report:",
        f"  title: {scalar_text(f'{name} model on the client data')}",
        "  owner: ''  # TODO: the team accountable for the audit",
        "  approvers: []  # TODO: who signs the report",
    ]
    return "\n".join(lines) + "\n"
