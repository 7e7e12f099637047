"""Data-aware spec checks: the files exist and parse, and hold what the spec names.

Files are read lazily and only as far as needed: the header for column names (CSV header
line, Parquet schema), then only the target column for the class checks. Every error
points at the spec field that names the file or column and says which file is at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.data.sources import DEFAULT_ENCODING, MSG_UNKNOWN_ENCODING, encoding_known
from auditor.errors import AuditorError, DataError, Location, SpecError
from auditor.in_memory import MEMORY_FORMAT, MSG_MODEL_NOT_HELD, held_frame, held_model
from auditor.spec.rules import RuleContext, spec_rule
from auditor.spec.schema import fmt_value, sorted_plain
from auditor.spec.suggest import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from auditor.spec.typed import Vendor

MSG_FILE = "{file}: {message}"
MSG_BINARY_FILE = "not a text {fmt} file (it contains NUL bytes)"
MSG_GENERATE_FAILED = "cannot create the example data: {reason}"
MSG_NO_COLUMN = "column '{column}' is not in the {role} file {file}{hint}"
MSG_HOLDOUT_LACKS = "the {role} file {file} lacks feature column(s) of the train file: {names}"
MSG_NO_TARGET_VALUES = "target column '{target}' has no values in {file}"
MSG_ONE_CLASS = (
    "target '{target}' has only one class ({value}) in {file}; classification needs at least two"
)
MSG_BINARY_MANY = (
    "task is binary but target '{target}' has {n} classes ({values}) in {file}; "
    "use task: multiclass"
)
MSG_REGRESSION_NOT_NUMERIC = (
    "task is regression but target '{target}' is not numeric in {file} (values such as {values})"
)
MSG_POSITIVE_ABSENT = (
    "positive class {positive} is not a value of target '{target}' in {file} "
    "(values: {values}){hint}"
)
MSG_MODEL_NOT_ZIP = "not a {fmt} file (it is not a zip archive, which {fmt} files are)"
MSG_PREDICTIONS_NO_ID = "the predictions file {file} has no id column '{column}'{hint}"
MSG_PREDICTIONS_NO_COLUMN = "the predictions file {file} has no {what} column '{column}'{hint}"
ZIP_FORMATS = {"skops": "skops", "torchscript": "TorchScript"}

_SNIFF = 8192


class DataProbe:
    """A lazy, cached view of the spec's data files for the data-aware checks."""

    def __init__(self, ctx: RuleContext):
        self.ctx = ctx
        self.data = ctx.spec.data
        self.encoding = self.data.encoding or DEFAULT_ENCODING
        self.file_errors: list[SpecError] = []
        self.rows: dict[str, int] = {}
        self._headers: dict[str, list[str] | None] = {}
        self._frames: dict[str, pd.DataFrame] = {}
        self._generated = False

    # ----------------------------------------------------------------- files
    def files(self) -> dict[str, tuple[str, tuple]]:
        """Every data file the spec names: key -> (path as written, its spec field)."""
        data = self.data
        out: dict[str, tuple[str, tuple]] = {}
        if data.train:
            out["train"] = (data.train, ("data", "train"))
        if data.holdout:
            out["holdout"] = (data.holdout, ("data", "holdout"))
        for i, entry in enumerate(data.audit):
            out.setdefault(entry.name, (entry.path, ("data", "audit", i, "path")))
        chosen = self.ctx.spec.evaluation.threshold.chosen_on
        if chosen is not None and chosen.path:
            out["threshold"] = (chosen.path, ("evaluation", "threshold", "chosen_on", "path"))
        if data.reference is not None:
            out["reference"] = (data.reference.path, ("data", "reference", "path"))
        return out

    def main(self) -> str | None:
        """The file the features are taken from: train, else the first audit file."""
        keys = [k for k in self.files() if k not in ("holdout", "threshold", "reference")]
        return keys[0] if keys else None

    def path(self, role: str) -> Path | None:
        entry = self.files().get(role)
        return self.ctx.resolve_path(entry[0]) if entry else None

    def shown(self, role: str) -> str:
        path = self.path(role)
        return path.name if held_frame(path) is not None else str(path)  # <DataFrame train>

    def _file_error(self, role: str, exc: AuditorError) -> None:
        where = self.files().get(role, (None, ("data", role)))[1]
        self.file_errors.append(
            self.ctx.error(where, MSG_FILE.format(message=exc.message, file=self.shown(role)))
        )

    def ensure_generated(self) -> None:
        """Create missing example files when the spec asks for generated data."""
        if self._generated:
            return
        self._generated = True
        if self.data.generate is None:
            return
        from auditor.data.examples import ensure_example_data

        try:
            ensure_example_data(self.ctx.spec, self.ctx.base_dir)
        except (AuditorError, OSError) as exc:
            reason = exc.message if isinstance(exc, AuditorError) else exc.strerror or exc
            self.file_errors.append(
                self.ctx.error(("data", "generate"), MSG_GENERATE_FAILED.format(reason=reason))
            )

    def columns(self, role: str) -> list[str] | None:
        """Column names of a data file, or None when it is absent or unreadable."""
        if role in self._headers:
            return self._headers[role]
        self.ensure_generated()
        path = self.path(role)
        header = None
        if path is not None and encoding_known(self.encoding):  # else check_encoding says it
            try:
                header = _read_header(path, self.data.format, self.encoding)
            except AuditorError as exc:
                self._file_error(role, exc)
        self._headers[role] = header
        return header

    def check_decodes(self, role: str) -> None:
        """Record a file error when a text file does not decode in ``data.encoding``.

        Reading some columns does not decode the others, so the whole file is scanned
        (in chunks); the error names the offset of the first byte that does not decode.
        """
        from auditor.data.sources import TEXT_FORMATS, decode_error, detect_format

        path = self.path(role)
        if path is None:
            return
        try:
            kind = detect_format(path, self.data.format)
            error = decode_error(path, kind, self.encoding) if kind in TEXT_FORMATS else None
        except (AuditorError, OSError):  # reported by columns() and read() already
            return
        if error is not None:
            self._file_error(role, error)

    def read(self, role: str, columns: list[str]) -> pd.DataFrame | None:
        """Only ``columns`` of a data file (all present), or None when it cannot be read."""
        if self.columns(role) is None:
            return None
        key = f"{role}:{','.join(columns)}"
        if key not in self._frames:
            from auditor.data.sources import read_table

            try:
                frame = read_table(
                    self.path(role), self.data.format, columns=list(columns), encoding=self.encoding
                )
            except AuditorError as exc:
                self._file_error(role, exc)
                self._headers[role] = None
                return None
            self._frames[key] = frame
            self.rows[role] = len(frame)
        return self._frames[key]


def _read_header(path: Path, fmt: str, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """Column names from the header alone where the format allows it.

    Parameters
    ----------
    path : Path
        A data (or predictions) file.
    fmt : str
        ``data.format``: ``"auto"`` decides from the extension.
    encoding : str
        ``data.encoding``, for CSV and JSON Lines files.

    Returns
    -------
    list of str
        The column names. Anything unusual falls through to ``read_table``, which raises
        the located DataError.
    """
    from auditor.data.sources import detect_format, read_table

    if path.is_file():
        kind = detect_format(path, fmt)
        if kind in ("csv", "jsonl") and not _wide_encoding(encoding):
            with open(path, "rb") as handle:
                head = handle.read(_SNIFF)
            if b"\x00" in head:
                raise DataError(
                    MSG_BINARY_FILE.format(fmt=kind.upper() if kind == "csv" else "JSON Lines"),
                    Location(file=str(path)),
                )
        try:
            if kind == "csv" and path.stat().st_size > 0:
                import pandas as pd

                sep = "\t" if path.suffix.lower() == ".tsv" else ","
                names = pd.read_csv(path, sep=sep, nrows=0, encoding=encoding).columns
                return [str(c) for c in names]
            if kind == "parquet":
                import pyarrow.parquet as pq

                names = pq.read_schema(path).names
                return [n for n in names if not n.startswith("__index_level_")]
        except Exception:  # noqa: BLE001 - read_table below gives the one-line reason
            pass
    return list(read_table(path, fmt, encoding=encoding).columns)


def _wide_encoding(encoding: str) -> bool:
    """Whether text in ``encoding`` holds NUL bytes as a matter of course (UTF-16, UTF-32)."""
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("utf-16", "utf-32"))


# --------------------------------------------------------------------------- checks
@spec_rule("data_encoding_known", applies="any")
def check_encoding(ctx: RuleContext) -> list[SpecError]:
    """``data.encoding`` names a codec Python knows (the data files are read in it)."""
    encoding = ctx.spec.data.encoding or DEFAULT_ENCODING
    if encoding_known(encoding):
        return []
    return [ctx.error(("data", "encoding"), MSG_UNKNOWN_ENCODING.format(encoding=encoding))]


@spec_rule("data_files_readable", needs_data=True, applies="any")
def check_files(ctx: RuleContext) -> list[SpecError]:
    probe = ctx.probe
    target = ctx.spec.objective.target
    for role in probe.files():
        cols = probe.columns(role)
        if cols:  # reading the target column proves the rows parse, and counts them
            frame = probe.read(role, [target] if target in cols else [cols[0]])
            if frame is not None:  # the other columns must decode too
                probe.check_decodes(role)
    return list(probe.file_errors)


def _named_columns(ctx: RuleContext) -> list[tuple[tuple, str, bool]]:
    """(spec path, column, point at the key) for every column the spec names."""
    data = ctx.spec.data
    named: list[tuple[tuple, str, bool]] = [
        (("objective", "target"), ctx.spec.objective.target, False)
    ]
    for i, name in enumerate(data.sensitive):
        named.append((("data", "sensitive", i), name, False))
    if data.id_column:
        named.append((("data", "id_column"), data.id_column, False))
    for key in ("group_column", "time_column"):
        if getattr(data.split, key):
            named.append((("data", "split", key), getattr(data.split, key), False))
    for field_name in ("include", "exclude"):
        for i, name in enumerate(getattr(data, field_name)):
            named.append((("data", field_name, i), name, False))
    for name in data.types:
        named.append((("data", "types", name), name, True))
    tuning = ctx.spec.tuning
    if tuning is not None and tuning.cv is not None and tuning.cv.group_column:
        named.append((("tuning", "cv", "group_column"), tuning.cv.group_column, False))
    folds = ctx.spec.evaluation.cross_validation
    if folds is not None and folds.group_column:
        named.append(
            (("evaluation", "cross_validation", "group_column"), folds.group_column, False)
        )
    for i, c in enumerate(ctx.spec.acceptance):  # a check on drivers names its feature
        if getattr(c, "feature", None):
            named.append((("acceptance", i, "feature"), c.feature, False))
    return named


def missing_column(
    ctx: RuleContext, path: tuple, column: str, role: str, file: str, columns, *, key=False
) -> SpecError:
    """The located refusal of a column the spec names and file ``file`` lacks."""
    probe = ctx.probe
    message = MSG_NO_COLUMN.format(
        column=column, role=role, file=probe.shown(file), hint=did_you_mean(column, columns)
    )
    return ctx.error(path, message, key=key)


@spec_rule("data_columns_exist", needs_data=True)
def check_columns(ctx: RuleContext) -> list[SpecError]:
    probe = ctx.probe
    errors: list[SpecError] = []
    main = probe.main()
    train = probe.columns(main) if main else None
    if train is not None:
        for path, column, key in _named_columns(ctx):
            if column not in train:
                role = "train" if main == "train" else "audit"
                errors.append(missing_column(ctx, path, column, role, main, train, key=key))
    for other in probe.files():
        if other not in (main, "reference"):
            errors += _other_file_errors(ctx, other, train)
    return errors


def _other_file_errors(ctx: RuleContext, name: str, train: list[str] | None) -> list[SpecError]:
    """A file audited beside the main one holds its target, sensitive and feature columns."""
    probe = ctx.probe
    errors: list[SpecError] = []
    holdout = probe.columns(name)
    role = "holdout" if name == "holdout" else "audit" if name != "threshold" else "threshold"
    if holdout is not None:
        data = ctx.spec.data
        wanted = [
            p
            for p in _named_columns(ctx)
            if p[0][:2] in (("objective", "target"), ("data", "sensitive"), ("data", "include"))
        ]
        for path, column, key in wanted:
            if column not in holdout:
                errors.append(missing_column(ctx, path, column, role, name, holdout, key=key))
        if not data.include and train is not None:
            dropped = {ctx.spec.objective.target, data.id_column, *data.exclude, *data.sensitive}
            lacking = [c for c in train if c not in dropped and c not in holdout]
            if lacking:
                errors.append(
                    ctx.error(
                        probe.files()[name][1],
                        MSG_HOLDOUT_LACKS.format(
                            role=role,
                            file=probe.shown(name),
                            names=", ".join(f"'{c}'" for c in lacking),
                        ),
                    )
                )
    return errors


def _sample(values: list[Any], limit: int = 6) -> str:
    shown = ", ".join(fmt_value(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _class_target_errors(ctx: RuleContext, values: list[Any], file: str) -> list[SpecError]:
    """A classification target needs two classes, and exactly two when the task is binary."""
    objective = ctx.spec.objective
    target, task = objective.target, objective.task
    if len(values) < 2:
        return [
            ctx.error(
                ("objective", "target"),
                MSG_ONE_CLASS.format(target=target, value=fmt_value(values[0]), file=file),
            )
        ]
    if task == "binary" and len(values) > 2:
        return [
            ctx.error(
                ("objective", "task"),
                MSG_BINARY_MANY.format(
                    target=target, n=len(values), values=_sample(values), file=file
                ),
            )
        ]
    return []


def _regression_target_errors(
    ctx: RuleContext, column: pd.Series, values: list[Any], file: str
) -> list[SpecError]:
    """A regression target must be numeric (and not boolean)."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return [
            ctx.error(
                ("objective", "task"),
                MSG_REGRESSION_NOT_NUMERIC.format(
                    target=ctx.spec.objective.target, values=_sample(values, 3), file=file
                ),
            )
        ]
    return []


def _positive_errors(ctx: RuleContext, values: list[Any], file: str) -> list[SpecError]:
    """The positive class, when named, must be one of the target's values."""
    objective = ctx.spec.objective
    positive = objective.positive
    if objective.task == "regression" or positive is None or positive_matches(positive, values):
        return []
    return [
        ctx.error(
            ("objective", "positive"),
            MSG_POSITIVE_ABSENT.format(
                positive=fmt_value(positive),
                target=objective.target,
                file=file,
                values=_sample(values),
                hint=did_you_mean(str(positive), [str(v) for v in values]),
            ),
        )
    ]


@spec_rule("data_target_values", needs_data=True)
def check_target(ctx: RuleContext) -> list[SpecError]:
    probe = ctx.probe
    objective = ctx.spec.objective
    target, task = objective.target, objective.task
    main = probe.main()
    cols = probe.columns(main) if main else None
    if cols is None or target not in cols:
        return []
    frame = probe.read(main, [target])
    if frame is None:
        return []
    column = frame[target]
    file = probe.shown(main)
    values = sorted_plain(column.dropna().unique())
    if not values:
        return [
            ctx.error(
                ("objective", "target"), MSG_NO_TARGET_VALUES.format(target=target, file=file)
            )
        ]
    if task in ("binary", "multiclass"):
        errors = _class_target_errors(ctx, values, file)
    else:
        errors = _regression_target_errors(ctx, column, values, file)
    return errors or _positive_errors(ctx, values, file)


def positive_matches(positive: Any, values: list[Any]) -> bool:
    """Whether the spec's positive class is one of the target's values, by the same rule
    the data stage encodes the target with (so validate and run never disagree)."""
    from auditor.data.columns import same_value

    return any(same_value(value, positive) for value in values)


@spec_rule("model_file_exists", needs_data=True)
def check_model_file(ctx: RuleContext) -> list[SpecError]:
    """The vendor's file exists and, as far as is cheap to tell, is what its format says.

    skops and TorchScript files are zip archives (checked with the standard library); a
    predictions file's header must hold the id column and the score or label column.
    ONNX is only parsed at run time (onnxruntime is heavy).
    """
    vendor = ctx.spec.model.vendor
    if vendor is None or vendor.format == MEMORY_FORMAT:  # held in memory: model_held says
        return []
    from auditor.vendor_models.files import check_readable

    ctx.probe.ensure_generated()  # bundled vendor examples create their model file too
    path = ctx.resolve_path(vendor.path)
    where = ("model", "vendor", "path")
    try:
        check_readable(path)  # the vendor stage's own check: missing, not a file, empty
    except AuditorError as exc:
        return [ctx.error(where, MSG_FILE.format(file=path, message=exc.message))]
    fmt = vendor.format
    if fmt in ZIP_FORMATS:
        import zipfile

        if not zipfile.is_zipfile(path):
            return [
                ctx.error(
                    where,
                    MSG_FILE.format(
                        file=path, message=MSG_MODEL_NOT_ZIP.format(fmt=ZIP_FORMATS[fmt])
                    ),
                )
            ]
    if fmt == "predictions":
        return _predictions_header_errors(ctx, vendor, path)
    return []


@spec_rule("model_held_in_memory")
def check_model_held(ctx: RuleContext) -> list[SpecError]:
    """Format ``python`` is a model the Python API holds (``auditor.run(model=...)``); a spec
    file alone cannot name it."""
    vendor = ctx.spec.model.vendor
    if vendor is None or vendor.format != MEMORY_FORMAT:
        return []
    if held_model(ctx.resolve_path(vendor.path)) is not None:
        return []
    return [ctx.error(("model", "vendor", "format"), MSG_MODEL_NOT_HELD)]


def _predictions_header_errors(ctx: RuleContext, vendor: Vendor, path: Path) -> list[SpecError]:
    encoding = ctx.spec.data.encoding or DEFAULT_ENCODING
    if not encoding_known(encoding):  # check_encoding says so, once
        return []
    try:
        header = _read_header(path, "auto", encoding)
    except AuditorError as exc:
        return [
            ctx.error(("model", "vendor", "path"), MSG_FILE.format(file=path, message=exc.message))
        ]
    errors = []
    id_column = ctx.spec.data.id_column
    if id_column and id_column not in header:
        errors.append(
            ctx.error(
                ("data", "id_column"),
                MSG_PREDICTIONS_NO_ID.format(
                    file=path, column=id_column, hint=did_you_mean(id_column, header)
                ),
            )
        )
    score, label = vendor.score_column, vendor.label_column
    task = ctx.task
    if task == "multiclass":  # one column per class: '<score_column><class>'
        has_scores = score is not None and any(c.startswith(score) for c in header)
    else:
        has_scores = score is not None and score in header
    has_labels = task != "regression" and label is not None and label in header
    if not has_scores and not has_labels:
        if score is not None or label is None or task == "regression":
            column = score if task != "multiclass" else f"{score}<class>"
            errors.append(
                ctx.error(
                    ("model", "vendor", "score_column"),
                    MSG_PREDICTIONS_NO_COLUMN.format(
                        file=path,
                        what="score",
                        column=column,
                        hint=did_you_mean(str(score), header),
                    ),
                )
            )
        else:
            errors.append(
                ctx.error(
                    ("model", "vendor", "label_column"),
                    MSG_PREDICTIONS_NO_COLUMN.format(
                        file=path, what="label", column=label, hint=did_you_mean(label, header)
                    ),
                )
            )
    return errors


# --------------------------------------------------------------------------- reference groups
MSG_REFERENCE_KEY = (
    "{name!r} is not in data.sensitive ({listed}){hint}: a reference group is named for a "
    "sensitive feature or an intersection of them ('sex&age_band')"
)
MSG_REFERENCE_ABSENT = (
    "reference group {group!r} of '{key}' is not a group in the {role} file {file} "
    "(groups: {groups}){hint}"
)
MSG_REFERENCE_PARTS = (
    "reference group {group!r} of '{key}' must join {n} values with ' & ', one per feature "
    "in the key's order"
)


def _reference_keys(ctx: RuleContext):
    """(key, its features) of every ``data.reference_groups`` entry."""
    for key, group in ctx.spec.data.reference_groups.items():
        yield key, [p.strip() for p in str(key).split("&")], str(group)


@spec_rule("reference_groups_features")
def check_reference_features(ctx: RuleContext) -> list[SpecError]:
    """Each key of ``data.reference_groups`` names sensitive features, each group its parts."""
    from auditor.spec.rules import listed

    sensitive = list(ctx.spec.data.sensitive)
    errors = []
    for key, features, group in _reference_keys(ctx):
        where = ("data", "reference_groups", key)
        wrong = [f for f in features if f not in sensitive]
        if wrong:
            hint = did_you_mean(wrong[0], sensitive)
            message = MSG_REFERENCE_KEY.format(name=wrong[0], listed=listed(sensitive), hint=hint)
            errors.append(ctx.error(where, message, key=True))
        elif len(group.split("&")) != len(features):
            message = MSG_REFERENCE_PARTS.format(group=group, key=key, n=len(features))
            errors.append(ctx.error(where, message))
    return errors


@spec_rule("reference_groups_exist", needs_data=True)
def check_reference_groups(ctx: RuleContext) -> list[SpecError]:
    """Each reference group is a group of the data (read from the main file)."""
    probe = ctx.probe
    main = probe.main()
    cols = probe.columns(main) if main else None
    sensitive = set(ctx.spec.data.sensitive)
    errors = []
    for key, features, group in _reference_keys(ctx):
        parts = [p.strip() for p in group.split("&")]
        if cols is None or not set(features) <= sensitive & set(cols):
            continue  # the key's own errors, or the missing columns, are reported elsewhere
        if len(parts) != len(features):
            continue
        frame = probe.read(main, sorted(set(features)))
        if frame is None:
            continue
        present = sorted({" & ".join(map(str, row)) for row in frame[features].itertuples(False)})
        if " & ".join(parts) in present:
            continue
        shown = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "")
        message = MSG_REFERENCE_ABSENT.format(
            group=group,
            key=key,
            role="train" if main == "train" else "audit",
            file=probe.shown(main),
            groups=shown,
            hint=did_you_mean(" & ".join(parts), present),
        )
        errors.append(ctx.error(("data", "reference_groups", key), message))
    return errors
