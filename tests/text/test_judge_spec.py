"""The judge in a spec: its rules, a calibrated criterion, the responder, and a CLI run."""
# ruff: noqa: F811 - the chat_server fixture is imported, then requested by name

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

pytest.importorskip("httpx")
pytest.importorskip("sacrebleu")
pytest.importorskip("rouge_score")

from auditor.criteria import Criterion  # noqa: E402
from auditor.errors import ExitCode, SpecError  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from auditor.text import rated_example  # noqa: E402
from auditor.text.judging import calibration  # noqa: E402
from auditor.types import Finding  # noqa: E402
from tests.text.chat_server import ChatServer, ServerKnobs, chat_server  # noqa: E402, F401

SPEC = Path(__file__).resolve().parents[2] / "specs" / "support-assistant-judge.yaml"
KEY = "sk-test-0123456789abcdef"


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """The judged spec copied to a fresh folder, its data generated there."""
    folder = tmp_path_factory.mktemp("judged")
    shutil.copy(SPEC, folder / SPEC.name)
    load_spec(folder / SPEC.name)
    return folder / SPEC.name


def _variant(path: Path, edit, name: str = "variant.yaml") -> Path:
    values = yaml.safe_load(path.read_text())
    edit(values)
    out = path.with_name(name)
    out.write_text(yaml.safe_dump(values, sort_keys=False))
    return out


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.exit_code == ExitCode.INVALID_INPUT
    return str(err.value)


def test_the_generator_plants_ratings_for_some_rows_and_a_second_answer():
    from auditor.data.examples import generate

    df = generate("support_rated", 4000, 0)
    rated = df["rated_groundedness"].notna()
    assert rated.mean() == pytest.approx(rated_example.RATED_SHARE, abs=0.03)
    bad = df["planted_hallucination"] & rated
    assert (df.loc[bad, "rated_groundedness"] <= 3).all()
    assert (df.loc[rated & ~df["planted_hallucination"], "rated_groundedness"] >= 4).all()
    assert df["previous_response"].str.len().gt(0).all()


@pytest.mark.parametrize(
    "edit, where, words",
    [
        (lambda v: v["judge"].pop("url") and v["judge"].pop("url_env"), "judge", "judge.url"),
        (
            lambda v: v["data"]["text"]["ratings"].update(relevanc="rated_groundedness"),
            "data.text.ratings",
            "relevanc",
        ),
        (
            lambda v: v["data"]["text"]["ratings"].update(groundedness="rated_groundednes"),
            "data.text.ratings.groundedness",
            "column 'rated_groundednes' is not in the audit file",
        ),
        (
            lambda v: (
                v["judge"]["metrics"].append("similarity") or v["data"]["text"].pop("reference")
            ),
            "judge.metrics[2]",
            "needs the reference column",
        ),
        (
            lambda v: v["acceptance"][1].update(metric="relevance"),
            "acceptance[1].metric",
            "people's ratings of relevance",
        ),
        (lambda v: v.pop("judge"), "data.text.ratings", "declare a judge section"),
        (
            lambda v: v.update(responder={"url": "http://x/v1", "checkpoint": "ckpt"}),
            "responder.checkpoint",
            "not both",
        ),
        (
            lambda v: v.update(responder={"url": "http://x/v1"}),
            "responder",
            "responder.model",
        ),
    ],
)
def test_judge_rules_refuse_on_one_located_line(bundled, edit, where, words):
    message = _error(_variant(bundled, edit))
    assert "variant.yaml:" in message and where in message and words in message, message


def test_ratings_of_a_metric_the_judge_does_not_score_are_refused(bundled):
    def edit(v):
        v["judge"]["metrics"] = ["groundedness", "relevance"]
        v["data"]["text"]["ratings"] = {"groundedness": "rated_groundedness", "relevance": "x"}
        v["judge"]["metrics"] = ["groundedness"]

    message = _error(_variant(bundled, edit))
    assert "which the judge does not score" in message


def test_a_criterion_counts_as_advisory_while_the_judge_is_uncalibrated():
    criterion = Criterion(
        metric="groundedness",
        check=None,
        split="q4",
        sensitive=None,
        at_least=0.85,
        at_most=None,
        severity="blocking",
        require="point",
        rationale="",
        waiver=None,
        pass_at=4.0,
        calibrated_judge=True,
    )

    def finding(judge):
        return Finding(
            id="text.groundedness.pass_rate.q4",
            check="text",
            category="text",
            status="pass",
            title="Groundedness",
            summary="",
            details={"judge": judge} if judge else {},
        )

    low = {"rated": 80, "kappa": 0.4, "kappa_ci": [0.3, 0.5]}
    assert calibration(low, 0.6, 30)["why"] == (
        "the judge's agreement with people is kappa 0.40 (interval 0.30 to 0.50), not clearly "
        "at least judge.min_kappa 0.60: the interval's lower bound is below it"
    )
    assert criterion.uncalibrated_judge(finding(calibration(low, 0.6, 30))).startswith(
        "the judge's agreement with people is kappa 0.40"
    )
    few = calibration({"rated": 12, "kappa": 0.9, "kappa_ci": [0.8, 0.95]}, 0.6, 30)
    assert "only 12 rows were rated" in criterion.uncalibrated_judge(finding(few))
    good = {"rated": 80, "kappa": 0.8, "kappa_ci": [0.7, 0.88]}
    assert criterion.uncalibrated_judge(finding(calibration(good, 0.6, 30))) is None
    # the interval decides, not the point: a kappa of 0.8 whose interval reaches 0.5 is
    # not shown to be at least 0.6; without an interval it is not shown either
    wide = calibration({"rated": 80, "kappa": 0.8, "kappa_ci": [0.5, 0.95]}, 0.6, 30)
    assert not wide["calibrated"] and "interval 0.50 to 0.95" in wide["why"]
    point = calibration({"rated": 80, "kappa": 0.8, "kappa_ci": None}, 0.6, 30)
    assert not point["calibrated"] and "without an interval" in point["why"]
    edge = calibration({"rated": 80, "kappa": 0.7, "kappa_ci": [0.6, 0.8]}, 0.6, 30)
    assert edge["calibrated"]  # at least: the bound itself is enough
    assert "no judge scored" in criterion.uncalibrated_judge(finding(None))


def test_the_judged_spec_runs_through_the_cli_to_a_pdf_with_judged_findings(
    bundled, tmp_path, monkeypatch, capsys
):
    from auditor.cli import main

    server = ChatServer(ServerKnobs(api_key=KEY, disagree=0.1, garbled=0.03)).start()
    try:
        monkeypatch.setenv("JUDGE_URL", server.url)
        monkeypatch.setenv("JUDGE_API_KEY", KEY)
        code = main(["run", str(bundled), "--out", str(tmp_path / "run"), "--quiet"])
    finally:
        server.stop()
    # the fake judge is not calibrated against the raters: its groundedness criterion is
    # advisory, the judge_agreement criterion blocks
    assert code == ExitCode.NOT_READY
    out = tmp_path / "run"
    assert (out / "report.pdf").stat().st_size > 10_000
    text = (out / "results.json").read_text()
    assert KEY not in text and KEY not in (out / "report.html").read_text()
    results = json.loads(text)
    findings = {f["id"]: f for f in results["findings"]}
    judged = findings["text.groundedness.pass_rate.q4"]
    assert judged["details"]["judge"]["model"] == "judge-small"
    assert judged["details"]["offline"]["label"].startswith("Groundedness (lexical")
    assert "Scored by the judge judge-small on 150 rows" in judged["summary"]
    agreement = findings["text.judge_agreement.groundedness.q4"]
    assert agreement["ci"] is not None and agreement["details"]["people"]["rated"] > 30
    assert agreement["details"]["repeat_agreement"]["alpha_level"] == "interval"
    assert findings["text.judge_agreement.pairwise.q4"]["details"]["position_consistency"]
    first, second = results["criteria"][:2]
    assert first["severity"] == "advisory" and "advisory, not blocking" in first["reason"]
    assert first["description"].startswith("Share of rows with Groundedness (LLM judge) at least 4")
    assert second["status"] == "fail" and second["severity"] == "blocking"
    notes = results["evaluation"]["notes"]["judge"]
    assert set(notes["prompt_sha256"]) == {"groundedness", "relevance", "pairwise"}
    assert notes["tokens"] > 0 and notes["splits"]["q4"]["budget"]["tokens_used"] <= 400_000
    assert notes["splits"]["q4"]["metrics"]["groundedness"]["unjudged"] == 150
    headers = [r["headers"] for r in server.knobs.requests]
    assert all(
        {k.lower(): v for k, v in h.items()}["authorization"] == f"Bearer {KEY}" for h in headers
    )
    import jsonschema

    schema = json.loads((SPEC.parents[1] / "schemas" / "results.schema.json").read_text())
    jsonschema.validate(results, schema)


def test_an_unreachable_judge_ends_the_run_with_one_line(bundled, tmp_path, monkeypatch, capsys):
    import socket

    from auditor.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("JUDGE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("JUDGE_API_KEY", KEY)

    def faster(v):
        v["judge"]["retries"] = 0

    spec = _variant(bundled, faster, "unreachable.yaml")
    code = main(["run", str(spec), "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_INPUT
    assert "cannot reach the judge endpoint" in err and "Traceback" not in err
    assert KEY not in err


def test_responses_generated_by_an_endpoint_responder_are_audited(
    bundled, chat_server, monkeypatch
):
    from auditor.checks import run_checks
    from auditor.text.audit import ResponsesFile, read_text_data, text_evaluation

    def edit(v):
        v.pop("judge")
        v["data"]["text"].pop("ratings")
        v["data"]["text"].pop("compare")
        v["acceptance"] = [{"metric": "personal_data_rate", "at_most": 0.05}]
        v["responder"] = {
            "url_env": "RESPONDER_URL",
            "model": "vendor-bot",
            "seed": 5,
            "max_tokens": 64,
        }

    chat_server.knobs.answer = lambda prompt: "Refunds take 5 days. " + prompt.split("\n")[1][:40]
    monkeypatch.setenv("RESPONDER_URL", chat_server.url)
    spec = load_spec(_variant(bundled, edit, "responder.yaml"))
    dataset = read_text_data(spec)
    frame = dataset.frames["q4"]
    assert frame["response"].str.startswith("Refunds take 5 days.").all()
    bodies = [r["body"] for r in chat_server.knobs.requests]
    assert len(bodies) == len(frame) and {b["seed"] for b in bodies} == {5}
    assert bodies[0]["messages"][0]["role"] == "system"
    assert "Passage:\n" in bodies[0]["messages"][1]["content"]
    info = ResponsesFile(dataset).info
    assert info["responder"]["model"] == "vendor-bot" and info["responder"]["max_tokens"] == 64
    assert info["responder"]["usage"]["requests"] == len(frame)
    findings = run_checks(spec, dataset, text_evaluation(spec, dataset))
    assert any(f.id == "text.personal_data_rate.q4" for f in findings)


@pytest.mark.parametrize("section", ["judge", "responder"])
def test_a_judge_or_responder_on_a_tabular_spec_is_refused(tmp_path, section):
    from auditor.spec import parse_spec_text
    from tests.spec.specdata import BASE

    body = {
        "judge": "{url: 'http://x/v1', model: m}",
        "responder": "{url: 'http://x/v1', model: m}",
    }
    text = BASE + f"{section}: {body[section]}\n"
    with pytest.raises(SpecError) as err:
        parse_spec_text(text, path=tmp_path / "spec.yaml", check_data=False)
    assert "spec.yaml:11:" in str(err.value)
    assert f"{section} applies to generated text; it needs objective.task: generation" in str(
        err.value
    )
