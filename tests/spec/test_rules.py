"""Stage two: the cross-field and data-aware checks, on specs that should pass and fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import auditor.data.sources as sources
from auditor.errors import SpecErrors
from auditor.spec import SPEC_RULES, check_spec, load_spec
from auditor.spec import rules as spec_rules
from auditor.spec.data_rules import positive_matches
from auditor.spec.rules import get_spec_rule
from tests.spec.specdata import BASE, ROWS, edit


def _write(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _messages(excinfo) -> list[str]:
    return [str(e) for e in excinfo.value.errors]


def test_base_spec_is_valid_and_counts_rows(spec_dir: Path):
    checked = check_spec(_write(spec_dir, BASE))
    assert checked.rows == {"train": ROWS}
    assert checked.spec.task == "binary"
    assert checked.spec.locate(("acceptance", 0, "at_least")).line == 10
    assert checked.spec.locate(("training", "epochs")).line == 1  # a default: the document


def test_yes_stays_a_string_and_matches_text_classes(spec_dir: Path):
    text = edit(
        "train: data.csv",
        "train: yes_no.csv",
        edit("  target: approved", "  target: approved\n  positive: yes"),
    )
    spec = load_spec(_write(spec_dir, text))
    assert spec.values["objective"]["positive"] == "yes"


def test_parquet_data_is_checked_like_csv(spec_dir: Path):
    spec = check_spec(_write(spec_dir, edit("train: data.csv", "train: data.parquet")))
    assert spec.rows["train"] == ROWS


def test_json_lines_data_is_checked_like_csv(spec_dir: Path):
    spec = check_spec(_write(spec_dir, edit("train: data.csv", "train: data.jsonl")))
    assert spec.rows["train"] == ROWS


def test_data_checks_read_only_the_target_column(spec_dir: Path, monkeypatch):
    calls = []
    real = sources.read_table

    def spy(path, fmt="auto", *, columns=None, **options):
        calls.append(columns)
        return real(path, fmt, columns=columns, **options)

    monkeypatch.setattr(sources, "read_table", spy)
    check_spec(_write(spec_dir, BASE))
    assert calls == [["approved"]]


def test_check_data_false_does_not_touch_the_data(tmp_path: Path):
    spec = load_spec(
        _write(tmp_path, edit("train: data.csv", "train: nowhere.csv")), check_data=False
    )
    assert spec.values["data"]["train"] == "nowhere.csv"


def test_intersections_of_listed_sensitive_columns_are_accepted(spec_dir: Path):
    text = edit(
        "  sensitive: [sex]",
        "  sensitive: [sex, region]",
        edit(
            "{metric: f1, at_least: 0.5}",
            "{metric: demographic_parity_difference, sensitive: sex&region, at_most: 0.2}",
        ),
    )
    load_spec(_write(spec_dir, text))


def test_regression_with_the_default_split_is_valid_but_explicit_stratified_is_not(spec_dir: Path):
    regression = edit(
        "  task: binary",
        "  task: regression",
        edit("{metric: f1, at_least: 0.5}", "{metric: mae, at_most: 0.5}"),
    )
    load_spec(_write(spec_dir, regression))
    with pytest.raises(SpecErrors) as info:
        load_spec(
            _write(
                spec_dir, edit("  sensitive: [sex]", "  split: {strategy: stratified}", regression)
            )
        )
    assert _messages(info) == [
        f"{spec_dir / 'spec.yaml'}:8:21: data.split.strategy: "
        + spec_rules.MSG_STRATIFIED_REGRESSION
    ]


def test_cross_field_and_data_errors_are_reported_together_in_file_order(spec_dir: Path):
    text = edit(
        "target: approved",
        "target: aproved",
        edit("{metric: f1, at_least: 0.5}", "{metric: f1, at_least: 1.5}"),
    )
    with pytest.raises(SpecErrors) as info:
        load_spec(_write(spec_dir, text))
    lines = [e.location.line for e in info.value.errors]
    assert lines == [5, 10]


def test_waiver_with_a_real_date_is_valid(spec_dir: Path):
    text = BASE + (
        "  - {metric: roc_auc, at_least: 0.9, waiver: {reason: pilot, approver: CPO, "
        "expires: 2030-06-30}}\n"
    )
    spec = load_spec(_write(spec_dir, text))
    assert spec.values["acceptance"][1]["waiver"]["expires"] == "2030-06-30"


def test_generated_example_data_is_created_before_the_checks(tmp_path: Path):
    text = edit("train: data.csv", "train: gen/train.csv\n  generate: {example: loan, rows: 300}")
    text = edit("  target: approved", "  target: approved", text)
    checked = check_spec(_write(tmp_path, text))
    assert (tmp_path / "gen" / "train.csv").is_file()
    assert checked.rows["train"] == 300


def test_registry_holds_named_checks_and_explains_unknown_names():
    names = set(SPEC_RULES)
    assert {
        "split_leaves_training",
        "criteria",
        "data_columns_exist",
        "data_target_values",
    } <= names
    assert get_spec_rule("criteria").needs_data is False
    assert get_spec_rule("data_columns_exist").needs_data is True
    with pytest.raises(KeyError, match="did you mean 'criteria'"):
        get_spec_rule("criterias")


def test_every_check_passes_a_valid_spec(spec_dir: Path):
    from auditor.spec import parse_spec_text
    from auditor.spec.defaults import apply_defaults
    from auditor.spec.rules import RuleContext
    from auditor.spec.yamlio import parse_yaml

    doc = parse_yaml(BASE)
    ctx = RuleContext(
        values=apply_defaults(doc.values), doc=doc, file="spec.yaml", base_dir=spec_dir
    )
    for check in SPEC_RULES.values():
        assert check.fn(ctx) == [], check.name
    parse_spec_text(BASE, path=spec_dir / "spec.yaml")


@pytest.mark.parametrize(
    "positive, values, expected",
    [
        (1, [0, 1], True),
        (1, [0.0, 1.0], True),
        ("1", [0, 1], True),
        (1, ["0", "1"], True),
        ("yes", ["no", "yes"], True),
        ("yes", [0, 1], False),
        ("Yes", ["no", "yes"], False),
        (True, [False, True], True),
        (True, ["false", "true"], True),
        (True, [0, 1], False),
        (2, [0, 1], False),
        ("true", [False, True], True),
    ],
)
def test_positive_matching(positive, values, expected):
    assert positive_matches(positive, values) is expected


@pytest.mark.parametrize(
    "model",
    [
        "{vendor: {format: predictions, path: preds.csv}}",
        "{vendor: {format: predictions, path: preds.csv, score_column: null, label_column: label}}",
        "{vendor: {format: pickle, path: data.csv, allow_pickle: true}}",
    ],
    ids=["scores", "labels", "pickle-allowed"],
)
def test_vendor_settings_that_run_also_validate(spec_dir: Path, model: str):
    text = edit("  sensitive: [sex]", "  sensitive: [sex]\n  id_column: applicant_id")
    spec = load_spec(_write(spec_dir, text + f"model: {model}\n"))
    assert spec.values["model"]["vendor"]["path"] in ("preds.csv", "data.csv")


def test_vendor_multiclass_predictions_need_a_column_per_class_prefix(spec_dir: Path):
    text = edit(
        "  sensitive: [sex]",
        "  sensitive: [sex]\n  id_column: applicant_id",
        edit("  task: binary", "  task: multiclass", edit("train: data.csv", "train: three.csv")),
    )
    good = text + "model: {vendor: {format: predictions, path: preds.csv, score_column: sc}}\n"
    load_spec(_write(spec_dir, good))
    bad = text + "model: {vendor: {format: predictions, path: preds.csv, score_column: p_}}\n"
    with pytest.raises(SpecErrors) as excinfo:
        load_spec(_write(spec_dir, bad))
    assert _messages(excinfo) == [
        f"{spec_dir / 'spec.yaml'}:12:70: model.vendor.score_column: the predictions file "
        f"{spec_dir / 'preds.csv'} has no score column 'p_<class>'"
    ]
