"""A language model's answers to held-out prompts, scored by the generated-text metrics.

Planted ground truth: fifty documents open with the same sentence (test_lm_fit's
memorizing corpus), thirty are random. A model that learned the sentence completes its
first tokens with the rest of it, so on the held-out documents that open with it the answer
equals the reference continuation, and on the random ones it does not. Pairs: the prompt is
the template's prompt and the reference its response.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from auditor.errors import SpecError
from auditor.spec.defaults import apply_defaults
from auditor.types import Spec
from auditor.verdict import decide
from tests.checks.test_lm_fit import SENTENCE, audit, lm_spec, memorizing_corpus, random_docs

pytest.importorskip("sacrebleu")

SETTINGS = {"prompt_tokens": 6, "max_new_tokens": 12, "splits": ["validation", "test"]}


def test_answers_to_planted_prompts_reproduce_their_continuation(tmp_path):
    spec = lm_spec(
        tmp_path,
        memorizing_corpus(),
        evaluation={"generations": SETTINGS},
        acceptance=[{"metric": "exact_match", "split": "test", "at_least": 0.3}],
    )
    dataset, predictor, evaluation, found = audit(spec)
    for split in ("validation", "test"):
        rows = evaluation.text[split]["generations"]
        frame = dataset.frames[split]
        assert len(rows["question"]) == len(frame)  # 100 prompts asked, fewer documents
        by_id = dict(zip(frame["position"].astype(str), frame["text"], strict=True))
        planted = np.array([by_id[i].startswith(SENTENCE) for i in rows["id"]])
        same = np.array(
            [
                a.strip() == r.strip()
                for a, r in zip(rows["response"], rows["reference"], strict=True)
            ]
        )
        assert planted.any() and (~planted).any()
        assert same[planted].mean() >= 0.9  # the sentence's continuation, written back
        assert not same[~planted].any()  # random text cannot be guessed
        # the prompt is the document's start, the reference what follows it
        for q, r, i in zip(rows["question"], rows["reference"], rows["id"], strict=True):
            assert by_id[i].startswith((q + r).strip()[:20])
    exact = found["text.exact_match.test"]
    rows = evaluation.text["test"]["generations"]
    truth = np.mean(
        [a.strip() == r.strip() for a, r in zip(rows["response"], rows["reference"], strict=True)]
    )
    assert exact.value == pytest.approx(truth) and exact.ci[0] <= exact.value <= exact.ci[1]
    assert exact.n == len(rows["response"]) and exact.ci[0] > 0
    assert {"text.rouge_l.test", "text.chrf.validation", "text.refusal_rate.test"} <= set(found)
    worst = found["text.rouge_l.test"].details["worst_rows"]
    assert worst and set(worst[0]) >= {"id", "question", "response", "reference", "score"}
    outcomes, verdict = decide(spec, list(found.values()))
    assert outcomes[0].finding_id == "text.exact_match.test" and outcomes[0].status == "pass"


def test_a_random_corpus_answers_nothing_right_and_fails_its_criterion(tmp_path):
    spec = lm_spec(
        tmp_path,
        random_docs(80, seed=13, length=40),
        training={"epochs": 4},
        evaluation={"generations": SETTINGS},
        acceptance=[{"metric": "exact_match", "split": "test", "at_least": 0.3}],
    )
    _, _, _, found = audit(spec)
    assert found["text.exact_match.test"].value == 0.0
    outcomes, verdict = decide(spec, list(found.values()))
    assert outcomes[0].status == "fail" and verdict.status == "NOT READY"


def test_generations_switched_off_give_no_text_findings(tmp_path):
    spec = lm_spec(
        tmp_path,
        random_docs(40, seed=4),
        training={"epochs": 1},
        evaluation={"generations": {"enabled": False}},
    )
    _, _, evaluation, found = audit(spec)
    assert not any(i.startswith("text.") for i in found)
    assert "text_metrics" not in evaluation.notes
    assert all("generations" not in m for m in evaluation.text.values())


def test_pairs_are_prompted_with_their_prompt_and_judged_on_their_response(tmp_path):
    from auditor.data import build_dataset
    from auditor.train.lm import train_language_model
    from auditor.train.lm_generations import held_out_generations

    rng = np.random.default_rng(3)
    words = random_docs(60, seed=3, length=3)
    pairs = [{"word": w, "label": str(rng.choice(["yes", "no"]))} for w in words]
    (tmp_path / "pairs.jsonl").write_text(
        "\n".join(json.dumps(p) for p in pairs) + "\n", encoding="utf-8"
    )
    spec = lm_spec(tmp_path, ["unused"], training={"epochs": 2})
    values = dict(spec.values)
    values["data"] = {
        **values["data"],
        "corpus": {"path": "pairs.jsonl", "format": "jsonl", "field": "text"},
        "text_processing": {
            **values["data"]["text_processing"],
            "template": "Word: {word}\nAnswer: {label}",
            "response_field": "label",
            "packing": False,
            "max_length": 40,
        },
    }
    values["evaluation"] = {**values["evaluation"], "generations": {"max_new_tokens": 4}}
    spec = Spec(path=spec.path, values=apply_defaults(values))
    dataset = build_dataset(spec)
    predictor = train_language_model(spec, dataset)
    rows = held_out_generations(spec, dataset, predictor, "test")
    frame = dataset.frames["test"]
    texts = dict(zip(frame["position"].astype(str), frame["text"], strict=True))
    assert len(rows["id"]) == len(frame)
    for q, ref, i in zip(rows["question"], rows["reference"], rows["id"], strict=True):
        assert q.startswith("Word: ") and q.endswith("Answer:")
        assert ref.strip() in ("yes", "no") and texts[i] == f"{q}{ref}"
    assert all(len(predictor.tokenizer(a)["input_ids"]) <= 4 for a in rows["response"])


def test_two_runs_write_the_same_answers(tmp_path):
    from auditor.data import build_dataset
    from auditor.train.lm import train_language_model
    from auditor.train.lm_generations import lm_generations

    spec = lm_spec(tmp_path, random_docs(40, seed=4), training={"epochs": 2})
    dataset = build_dataset(spec)
    a = lm_generations(spec, dataset, train_language_model(spec, dataset))
    b = lm_generations(spec, dataset, train_language_model(spec, dataset))
    assert a == b and list(a) == ["test"]


# ------------------------------------------------------------------ rules
SPEC = """\
version: 1
name: lm-answers
objective: {{task: language_model}}
data:
  corpus: {{path: corpus.txt}}
  text_processing: {{vocabulary_size: 300, max_length: 30}}
model:
  architecture: transformer_lm
  transformer: {{layers: 1, width: 32, heads: 2, context_length: 32}}
evaluation:
  extraction: {{prefix_tokens: 4, verbatim_tokens: 8}}
  generations: {generations}
acceptance:
  - {criterion}
{extra}"""


def load(tmp_path, **kw):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    fields = {
        "generations": "{max_new_tokens: 8}",
        "criterion": "{metric: rouge_l, split: test, at_least: 0.1}",
        "extra": "",
        **kw,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(**fields), encoding="utf-8")
    return load_spec(path)


def test_a_criterion_on_a_text_metric_of_the_answers_loads(tmp_path):
    spec = load(tmp_path, criterion="{metric: chrf, split: test, at_least: 20, pass_at: 40}")
    assert spec.acceptance[0].metric == "chrf" and spec.evaluation.generations.enabled


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        (
            {"generations": "{enabled: false}"},
            14,
            "rouge_l scores the model's answers to held-out prompts: set "
            "evaluation.generations.enabled: true",
        ),
        (
            {"criterion": "{metric: rouge_l, split: validation, at_least: 0.1}"},
            14,
            "answers are written on test (evaluation.generations.splits); 'validation' is not one",
        ),
        (
            {"criterion": "{metric: groundedness, split: test, at_least: 3}"},
            14,
            "groundedness needs a context; a language model's answers have a prompt",
        ),
        (
            {"criterion": "{metric: rouge_l, split: test, at_least: 0.1, pass_at: 2}"},
            14,
            "pass_at must lie within rouge_l's range 0.0 to 1.0, got 2",
        ),
        (
            {"criterion": "{metric: rouge_l, split: test, at_least: 0.1, sensitive: group}"},
            14,
            "a language model's answers have no segments",
        ),
        ({"generations": "{max_new_tokens: 32}"}, 12, "leaves no room for a prompt"),
        (
            {"criterion": "{metric: similarity, split: test, at_least: 3}"},
            14,
            "similarity needs a local sentence-embedding model",
        ),
        (
            {"criterion": "{metric: roc_auc, split: test, at_least: 0.7}"},
            14,
            "metric roc_auc does not apply to a language_model objective",
        ),
    ],
)
def test_answer_criteria_rules_are_located_one_line_errors(tmp_path, fields, line, message):
    with pytest.raises(SpecError) as err:
        load(tmp_path, **fields)
    text = str(err.value)
    assert message in text
    assert f"spec.yaml:{line}:" in text
    assert "Traceback" not in text


def test_text_models_serve_a_language_models_answers(tmp_path):
    pytest.importorskip("sentence_transformers")
    spec = load(
        tmp_path,
        criterion="{metric: similarity, split: test, at_least: 2}",
        extra="text_models: {}\n",
    )
    assert spec.typed.text_models is not None


def test_generations_are_refused_for_a_tabular_spec():
    from pathlib import Path

    from auditor.spec.load import parse_spec_text

    spec = Path(__file__).resolve().parents[2] / "specs" / "loan-approval.yaml"
    text = spec.read_text(encoding="utf-8").replace(
        "\nevaluation:\n", "\nevaluation:\n  generations: {prompts: 5}\n", 1
    )
    assert "generations: {prompts: 5}" in text
    with pytest.raises(SpecError) as err:
        parse_spec_text(text, path=spec, check_data=False)
    line = text.splitlines().index("  generations: {prompts: 5}") + 1
    assert "evaluation.generations applies to objective.task: language_model only" in str(err.value)
    assert f"loan-approval.yaml:{line}:" in str(err.value)
