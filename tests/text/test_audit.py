"""The generated-text audit: spec validation, the bundled example's planted truth, a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("sacrebleu")
pytest.importorskip("rouge_score")

from auditor.checks import run_checks  # noqa: E402
from auditor.errors import ExitCode, SpecError  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from auditor.text import example  # noqa: E402
from auditor.text.audit import read_text_data, text_evaluation  # noqa: E402

SPEC = Path(__file__).resolve().parents[2] / "specs" / "support-assistant.yaml"


def text_findings(spec, dataset):
    """The findings of every check that applies to generated text (the checks stage)."""
    return run_checks(spec, dataset, text_evaluation(spec))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """The bundled spec copied to a fresh folder, with its data generated there."""
    folder = tmp_path_factory.mktemp("support")
    shutil.copy(SPEC, folder / SPEC.name)
    load_spec(folder / SPEC.name)  # generates the example data on first use
    return folder / SPEC.name


def _variant(path: Path, edit) -> Path:
    values = yaml.safe_load(path.read_text())
    edit(values)
    out = path.with_name("variant.yaml")
    out.write_text(yaml.safe_dump(values, sort_keys=False))
    return out


def _errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    return str(err.value).splitlines()


def test_generator_plants_known_hallucinations_more_in_the_app_channel():
    df = example.support(np.random.default_rng(0), 20000)
    rates = df.groupby("channel")["planted_hallucination"].mean()
    assert rates["app"] == pytest.approx(example.APP_HALLUCINATION_RATE, abs=0.02)
    assert rates["chat"] == pytest.approx(example.HALLUCINATION_RATE, abs=0.02)
    assert df["planted_hallucination"].mean() == pytest.approx(example.planted_rate(), abs=0.01)


def test_planted_share_lies_in_the_groundedness_interval_and_the_segment_is_worse(bundled):
    spec = load_spec(bundled)
    findings = {f.id: f for f in text_findings(spec, read_text_data(spec))}
    grounded = findings["text.groundedness.pass_rate.q4"]
    low, high = grounded.ci
    # the share of rows with a planted hallucination is the share failing the threshold
    assert low <= 1 - example.planted_rate() <= high
    app = findings["text.groundedness.pass_rate.q4.channel.app"]
    for other in ("chat", "email"):
        rest = findings[f"text.groundedness.pass_rate.q4.channel.{other}"]
        assert app.ci[1] < rest.value
    assert findings["text.groundedness.q4"].details["heuristic"] is True
    worst = findings["text.groundedness.q4"].details["worst_rows"]
    assert worst and all(row["score"] < 4 for row in worst)
    # each segment against the reference group (the largest, chat): the app channel's
    # planted excess of hallucinations is inside the gap's interval, email's gap is not clear
    assert findings["text.groundedness.pass_rate.q4.channel.chat"].details["reference_group"] == (
        "chat"
    )
    planted = example.APP_HALLUCINATION_RATE - example.HALLUCINATION_RATE
    gap_low, gap_high = app.details["gap_ci"]
    assert gap_high < 0 and gap_low <= -planted <= gap_high
    assert "below chat (the largest group" in app.summary and app.summary.endswith("worse.")
    # the figure's own chart is its distribution over rows, with the per-row threshold
    spread = findings["text.groundedness.q4"].chart
    assert spread["kind"] == "histogram" and spread["bound"] == 4.0
    assert sum(spread["counts"]) == grounded.n
    below = sum(c for c, e in zip(spread["counts"], spread["edges"], strict=False) if e < 4.0)
    assert below / grounded.n == pytest.approx(1 - grounded.value, abs=1e-9)
    # a 0/1 rate has its segments as its chart instead
    assert findings["text.refusal_rate.q4"].chart["kind"] == "group_bars"
    # no judge is declared: the judge's check says nothing at all (no skipped row)
    assert not [f for f in findings.values() if f.check == "judge_agreement"]


def test_the_bundled_example_runs_to_a_report_with_a_verdict(bundled, tmp_path):
    from auditor.pipeline import run

    outcome = run(bundled, out=tmp_path / "run", quiet=True)
    assert outcome.exit_code == ExitCode.NOT_READY
    results = outcome.results
    assert results["verdict"]["status"] == "NOT READY"
    statuses = [c["status"] for c in results["criteria"]]
    assert statuses[:2] == ["fail", "fail"] and "error" not in statuses
    assert results["model"]["kind"] == "vendor:responses"
    assert (tmp_path / "run" / "report.pdf").stat().st_size > 10_000
    import json

    import jsonschema

    schema = json.loads((SPEC.parents[1] / "schemas" / "results.schema.json").read_text())
    jsonschema.validate(results, schema)


def test_a_missing_text_column_is_located_with_a_suggestion(bundled):
    def edit(v):
        v["data"]["text"]["context"] = "contxt"

    lines = _errors(_variant(bundled, edit))
    assert any(
        "variant.yaml:" in line
        and "data.text.context: column 'contxt' is not in the audit file" in line
        and "did you mean 'context'?" in line
        for line in lines
    ), lines


def test_an_unknown_metric_gets_a_suggestion(bundled):
    def edit(v):
        v["acceptance"] = [{"metric": "groundednes", "at_least": 0.5}]

    text = "\n".join(_errors(_variant(bundled, edit)))
    assert "acceptance[0].metric" in text and "did you mean 'groundedness'?" in text


def test_criteria_must_name_text_metrics_their_columns_allow(bundled):
    def edit(v):
        v["data"]["text"]["reference"] = None
        v["acceptance"] = [
            {"metric": "f1", "at_least": 0.5},
            {"metric": "rouge_l", "at_least": 0.5},
            {"metric": "groundedness", "pass_at": 7, "at_least": 0.5},
            {"metric": "groundedness", "sensitive": "chanel", "at_least": 0.5},
        ]

    text = "\n".join(_errors(_variant(bundled, edit)))
    assert "acceptance[0].metric: metric f1 does not apply to a generation objective" in text
    assert "rouge_l needs the reference column: set data.text.reference" in text
    assert "pass_at must lie within groundedness's range 1.0 to 5.0, got 7" in text
    assert "'chanel' is not listed in data.sensitive" in text


def test_generation_needs_text_columns_and_text_columns_need_generation(bundled):
    def no_text(v):
        del v["data"]["text"]

    assert any("needs data.text" in line for line in _errors(_variant(bundled, no_text)))

    def tabular(v):
        v["objective"] = {"task": "binary", "target": "response"}
        v["acceptance"] = []

    assert any(
        "data.text: data.text names the columns of generated text" in line
        for line in _errors(_variant(bundled, tabular))
    )


def test_a_metric_whose_extra_is_missing_is_refused_where_the_criterion_names_it(
    bundled, monkeypatch
):
    import importlib.util

    from auditor.spec import text_rules

    real = importlib.util.find_spec
    monkeypatch.setattr(
        text_rules.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "rouge_score" else real(name, *a),
    )
    lines = _errors(bundled)
    assert any(
        "acceptance[4].metric: rouge_l needs rouge-score, which is not installed: "
        "pip install 'auditor[text]'" in line
        for line in lines
    ), lines


def test_a_segment_too_small_to_judge_is_shown_but_does_not_decide(bundled):
    from auditor.verdict import decide

    spec = load_spec(bundled)
    dataset = read_text_data(spec)
    frame = dataset.frames["q4"]
    groups = dataset.groups["q4"].copy()
    groups.loc[frame.index[:5], "channel"] = "fax"  # five rows: below min_group_size
    dataset.groups["q4"] = groups
    findings = text_findings(spec, dataset)
    fax = next(f for f in findings if f.id == "text.groundedness.pass_rate.q4.channel.fax")
    assert fax.status == "inconclusive" and "too few to judge" in fax.summary
    outcomes, _ = decide(spec, findings)
    assert outcomes[1].finding_id == "text.groundedness.pass_rate.q4.channel.app"


def test_next_steps_address_the_vendor_of_the_responses(bundled):
    from auditor.verdict import decide

    spec = load_spec(bundled)
    _, verdict = decide(spec, text_findings(spec, read_text_data(spec)))
    assert verdict.next_steps[0].startswith("Ask the vendor")
    assert not any("more training data" in step for step in verdict.next_steps)
