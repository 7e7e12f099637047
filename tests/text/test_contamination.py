"""Contamination and memorization through the spec, the checks stage and the verdict.

The audited rows are generated with known truth: questions copied verbatim from corpus
lines in a planted share of rows (contaminated, and answered perfectly there: a score
that is too good to be true), responses that copy a 30-word corpus span in another
planted share (memorized), everything else in words the corpus cannot contain.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("sacrebleu")
pytest.importorskip("rouge_score")

from auditor.checks import run_checks  # noqa: E402
from auditor.errors import SpecError  # noqa: E402
from auditor.spec import load_spec  # noqa: E402
from auditor.text import memorization as mz  # noqa: E402
from auditor.text.aggregate import aggregate  # noqa: E402
from auditor.text.audit import read_text_data, text_evaluation  # noqa: E402
from auditor.verdict import decide  # noqa: E402

ROWS = 400
CONTAMINATED = 0.2
MEMORIZED = 0.1


@functools.cache
def _own_words() -> np.ndarray:
    return mz.synthetic_vocabulary(3000, seed=99)  # other made-up words than the corpus's


def _rows(lines: list[str], rng: np.random.Generator, *, memorized: float) -> pd.DataFrame:
    own = _own_words()
    dirty = rng.random(ROWS) < CONTAMINATED
    copied = rng.random(ROWS) < memorized
    out = []
    for i in range(ROWS):
        if dirty[i]:
            doc = lines[int(rng.integers(0, len(lines)))].split()
            at = int(rng.integers(0, len(doc) - 14))
            question = " ".join(doc[at : at + 14])
        else:
            question = " ".join(rng.choice(own, size=14))
        reference = " ".join(rng.choice(own, size=12))
        if dirty[i]:  # seen in training: answered word for word
            response = reference
        else:
            response = " ".join([*reference.split()[:5], *rng.choice(own, size=7)])
        if copied[i]:
            doc = lines[int(rng.integers(0, len(lines)))].split()
            at = int(rng.integers(0, len(doc) - 30))
            response += " " + " ".join(doc[at : at + 30])
        out.append((f"T{i:04d}", question, response, reference, "web"))
    frame = pd.DataFrame(out, columns=["id", "question", "response", "reference", "channel"])
    frame["planted_dirty"], frame["planted_copied"] = dirty, copied
    return frame


def _spec(folder, *, memorized: float, criteria: list[dict], seed: int = 0, **memorization):
    corpus = folder / "corpus.txt"
    if not corpus.exists():
        mz.write_synthetic_corpus(corpus, target_bytes=300_000, seed=5)
    lines = corpus.read_text(encoding="utf-8").splitlines()
    frame = _rows(lines, np.random.default_rng(seed), memorized=memorized)
    frame.to_csv(folder / "answers.csv", index=False)
    spec = {
        "version": 1,
        "name": "memorization-audit",
        "objective": {"task": "generation", "purpose": "Audit a vendor's answers."},
        "data": {
            "audit": [{"path": "answers.csv", "name": "q4"}],
            "text": {"question": "question", "response": "response", "reference": "reference"},
            "corpus": {"path": "corpus.txt"},
            "id_column": "id",
        },
        "evaluation": {"bootstrap": 300, "memorization": memorization},
        "acceptance": criteria,
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path, frame


def _run(path):
    spec = load_spec(path)
    dataset = read_text_data(spec)
    findings = run_checks(spec, dataset, text_evaluation(spec))
    return spec, dataset, {f.id: f for f in findings}, findings


def test_planted_contamination_and_memorization_are_found_and_decide(tmp_path):
    criteria = [
        {"check": "memorization", "at_most": 0.02},
        {"check": "contamination", "at_most": 0.05, "severity": "advisory"},
    ]
    path, frame = _spec(tmp_path, memorized=MEMORIZED, criteria=criteria)
    spec, dataset, by_id, findings = _run(path)
    memorized = by_id["text.memorization.q4"]
    assert memorized.value == pytest.approx(frame["planted_copied"].mean())
    assert memorized.ci[0] < memorized.value < memorized.ci[1]  # truth's coverage: below
    assert memorized.details["longest_span"] >= 30 and memorized.status == "warn"
    worst = memorized.details["worst_rows"]
    assert worst and all("[[" in row["response"] and row["span_words"] >= 30 for row in worst)
    assert memorized.chart["kind"] == "histogram" and memorized.chart["bound"] == 20
    dirty = by_id["text.contamination.q4"]
    assert dirty.value == pytest.approx(frame["planted_dirty"].mean())
    assert dirty.ci[0] < dirty.value < dirty.ci[1]
    compared = dirty.details["comparison"]
    assert compared["metric"] == "rouge_l"
    assert compared["contaminated"]["value"] > 0.9 > compared["clean"]["value"]
    assert compared["difference_ci"][0] > 0 and "too good to be true" in dirty.summary
    assert dirty.chart["kind"] == "metric_intervals"
    assert {s["role"] for s in dataset.sources} == {"audit", "corpus"}
    outcomes, verdict = decide(spec, findings)
    assert [o.status for o in outcomes] == ["fail", "fail"]
    assert verdict.status == "NOT READY"


def test_clean_responses_pass_and_the_verdict_follows(tmp_path):
    criteria = [{"check": "memorization", "at_most": 0.02}]
    path, frame = _spec(tmp_path, memorized=0.0, criteria=criteria, seed=1)
    spec, _, by_id, findings = _run(path)
    assert by_id["text.memorization.q4"].value == 0.0
    assert by_id["text.memorization.q4"].details["worst_rows"] == []
    outcomes, _ = decide(spec, findings)
    assert outcomes[0].status == "pass"


def test_the_memorization_rate_interval_covers_the_planted_share(tmp_path):
    """Across seeded samples, the 95% interval of the share memorized covers the truth."""
    corpus = tmp_path / "c.txt"
    mz.write_synthetic_corpus(corpus, target_bytes=200_000, seed=8)
    lines = corpus.read_text(encoding="utf-8").splitlines()
    index = mz.build_index(corpus, ngram=8)
    covered, trials = 0, 60
    for t in range(trials):
        rng = np.random.default_rng(100 + t)
        frame = _rows(lines, rng, memorized=0.15)
        hits = mz.scan(index, frame["response"].tolist()).longest >= 20
        np.testing.assert_array_equal(hits, frame["planted_copied"].to_numpy())
        est = aggregate(hits.astype(float), resamples=300, seed=t, confidence=0.95)
        covered += est.low <= 0.15 <= est.high
    assert covered / trials >= 0.88


def test_corpus_and_memorization_settings_are_checked_with_located_errors(tmp_path):
    criteria = [{"check": "memorization", "at_most": 0.02}]
    path, _ = _spec(tmp_path, memorized=0.0, criteria=criteria, memorized_words=5)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "memorized_words (5) is shorter than ngram (8)" in str(err.value)
    assert "spec.yaml" in str(err.value)
    values = yaml.safe_load(path.read_text())
    values["evaluation"]["memorization"] = {"metric": "rouge_k"}
    values["data"]["corpus"] = {"path": "nowhere.txt"}
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = str(err.value)
    assert "did you mean 'rouge_l'" in text.lower() and "corpus file not found" in text
    (tmp_path / "docs.jsonl").write_text('{"body": "some words here"}\n')
    values["evaluation"]["memorization"] = {}
    values["data"]["corpus"] = {"path": "docs.jsonl"}
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    with pytest.raises(SpecError, match="line 1 of docs.jsonl has no text field 'text'"):
        load_spec(path)
    (tmp_path / "empty.txt").write_text("\n...\n")
    values["data"]["corpus"] = {"path": "empty.txt"}
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    with pytest.raises(SpecError, match="holds no word"):
        load_spec(path)
    del values["data"]["corpus"]
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    lines = str(err.value).splitlines()
    assert any("check 'memorization' needs data.corpus" in line for line in lines)


def test_the_memorized_share_per_segment_has_its_interval_and_small_ones_are_inconclusive(
    tmp_path,
):
    """Two channels with planted memorization rates (5% and 40%) and a tiny third: each
    segment's finding is its planted share, inside its interval; the tiny one is shown as
    inconclusive; the split's finding lists them in its segment table."""
    path, _ = _spec(tmp_path, memorized=0.0, criteria=[])
    lines = (tmp_path / "corpus.txt").read_text(encoding="utf-8").splitlines()
    parts = []
    for channel, share, seed, rows in (
        ("web", 0.05, 1, ROWS),
        ("app", 0.4, 2, ROWS),
        ("fax", 0.5, 3, 12),
    ):
        frame = _rows(lines, np.random.default_rng(seed), memorized=share).iloc[:rows]
        parts.append(frame.assign(channel=channel, id=[f"{channel}{i}" for i in range(rows)]))
    frame = pd.concat(parts, ignore_index=True)
    frame.to_csv(tmp_path / "answers.csv", index=False)
    values = yaml.safe_load(path.read_text())
    values["data"]["sensitive"] = ["channel"]
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    _, _, by_id, _ = _run(path)
    for channel in ("web", "app"):
        f = by_id[f"text.memorization.q4.channel.{channel}"]
        truth = frame.loc[frame["channel"] == channel, "planted_copied"].mean()
        assert f.value == pytest.approx(truth) and f.n == ROWS and f.sensitive == "channel"
        assert f.ci[0] < f.value < f.ci[1] and f.status in ("pass", "warn")
    assert (
        by_id["text.memorization.q4.channel.app"].ci[0]
        > by_id["text.memorization.q4.channel.web"].ci[1]
    )
    tiny = by_id["text.memorization.q4.channel.fax"]
    assert tiny.status == "inconclusive" and "too few to judge" in tiny.summary
    table = by_id["text.memorization.q4"].details["segments"]
    assert [(r["group"], r["n"]) for r in table] == [("app", ROWS), ("fax", 12), ("web", ROWS)]


def test_the_checks_only_read_what_the_evaluate_stage_scanned(tmp_path, monkeypatch):
    """The corpus is indexed in the evaluate stage; the checks neither index nor open it
    (they run with the index builder and the corpus file gone), and an evaluation without
    the scan gives a skipped finding saying so."""
    criteria = [{"check": "memorization", "at_most": 0.02}]
    path, frame = _spec(tmp_path, memorized=MEMORIZED, criteria=criteria)
    spec = load_spec(path)
    dataset = read_text_data(spec)
    evaluation = text_evaluation(spec, dataset)
    assert evaluation.notes["corpus"]["ngram"] == 8 and evaluation.notes["corpus"]["corpus_bytes"]
    (tmp_path / "corpus.txt").unlink()

    def no_index(*args, **kwargs):
        raise AssertionError("a check indexed the corpus")

    monkeypatch.setattr(mz, "build_index", no_index)
    by_id = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    memorized = by_id["text.memorization.q4"]
    assert memorized.value == pytest.approx(frame["planted_copied"].mean())
    worst = memorized.details["worst_rows"]
    assert worst and all(row["corpus"] and row["corpus_line"] >= 1 for row in worst)
    dirty = by_id["text.contamination.q4"]
    assert dirty.details["worst_rows"] and all(r["corpus"] for r in dirty.details["worst_rows"])
    # an evaluation without the scan: both checks say so, neither measures
    del evaluation.text["q4"]["corpus"]
    by_id = {f.id: f for f in run_checks(spec, dataset, evaluation)}
    for check in ("memorization", "contamination"):
        skipped = by_id[f"text.{check}.q4"]
        assert skipped.status == "skipped" and "was not scanned" in skipped.summary


def test_a_memorization_criterion_judges_the_split_or_the_segments_it_names(tmp_path):
    """Without ``sensitive`` the criterion reads the split-wide share (not its worst
    segment); with ``sensitive: channel`` the worst segment of that column."""
    criteria = [
        {"check": "memorization", "at_most": 0.45},
        {"check": "memorization", "sensitive": "channel", "at_most": 0.45},
    ]
    path, _ = _spec(tmp_path, memorized=0.0, criteria=criteria)
    lines = (tmp_path / "corpus.txt").read_text(encoding="utf-8").splitlines()
    parts = [
        _rows(lines, np.random.default_rng(seed), memorized=share).assign(channel=channel)
        for channel, share, seed in (("web", 0.05, 1), ("app", 0.6, 2))
    ]
    frame = pd.concat(parts, ignore_index=True).assign(id=lambda f: [f"r{i}" for i in f.index])
    frame.to_csv(tmp_path / "answers.csv", index=False)
    values = yaml.safe_load(path.read_text())
    values["data"]["sensitive"] = ["channel"]
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    spec, _, by_id, findings = _run(path)
    outcomes, _ = decide(spec, findings)
    whole, segment = outcomes
    assert (
        by_id["text.memorization.q4"].value
        < 0.4
        < 0.5
        < by_id["text.memorization.q4.channel.app"].value
    )
    assert whole.finding_id == "text.memorization.q4" and whole.status == "pass"
    assert segment.finding_id == "text.memorization.q4.channel.app" and segment.status == "fail"
