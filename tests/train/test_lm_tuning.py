"""A language model's hyperparameter search: the learning rate and LoRA rank searched on the
train and validation documents, the chosen configuration audited, its gain on the test
documents measured against the spec's own, and the rules of such a search.

Planted ground truth: a learning rate of 1e-5 cannot move a freshly drawn transformer in
three epochs, 0.01 can, so a search over both must choose 0.01, and the gain over a spec
whose own rate is 1e-5 must be positive beyond doubt on documents the search never read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_lm import lm_spec, random_docs, same_weights, with_test_documents_replaced
from test_lm_pretrained import checkpoint, tune_spec  # noqa: F401 - checkpoint is a fixture

from auditor.data import build_dataset
from auditor.errors import SpecError
from auditor.train import train_model
from auditor.tuning import tune

pytest.importorskip("optuna")

REPO = Path(__file__).resolve().parents[2]
SLOW_RATE, GOOD_RATE = 1e-5, 0.01


def rate_search(**tuning):
    return {
        "method": "grid",
        "space": [{"option": "training.learning_rate", "choices": [SLOW_RATE, GOOD_RATE]}],
        **tuning,
    }


def searched_spec(folder, docs, **kw):
    spec = lm_spec(folder, docs, training={"learning_rate": SLOW_RATE, "epochs": 3}, **kw)
    values = {**spec.values, "tuning": _resolved_tuning(spec, rate_search())}
    return type(spec)(path=spec.path, values=values, positions=spec.positions)


def _resolved_tuning(spec, tuning: dict) -> dict:
    """The tuning section with its defaults, as a loaded spec has it."""
    from auditor.spec.defaults import apply_defaults

    return apply_defaults({**spec.values, "tuning": tuning})["tuning"]


def test_the_search_chooses_the_learning_rate_that_learns(tmp_path):
    spec = searched_spec(tmp_path, random_docs(50, seed=6))
    chosen_spec, outcome = tune(spec, build_dataset(spec))
    assert outcome.metric == "loss" and outcome.direction == "minimize"
    assert outcome.counts["run"] == 2  # the whole grid; one point is the spec's own
    assert [
        t.same_as for t in outcome.trials if t.values["training.learning_rate"] == SLOW_RATE
    ] == ["spec"]  # scored once already (the spec's own configuration), not trained again
    assert outcome.chosen["source"] == "trial"
    assert outcome.chosen["values"] == {"training.learning_rate": GOOD_RATE}
    assert outcome.chosen["value"] < outcome.baseline.value - 0.5  # nats per token
    assert chosen_spec.training.learning_rate == GOOD_RATE and chosen_spec.tuning is None
    complete = [t for t in outcome.trials if t.state == "complete"]
    assert all(t.epochs == 3 and t.reported == 3 for t in complete if t.same_as is None)


def test_pruning_reads_the_validation_loss_after_every_epoch(tmp_path):
    # the spec's own rate learns; a trial at the slow rate is worse than the median of the
    # trials before it from the first epoch on, and is stopped there
    spec = lm_spec(tmp_path, random_docs(40, seed=7), training={"epochs": 3})
    tuning = rate_search(pruning="median", warmup_epochs=1, startup_trials=1, seed=0)
    tuning["space"][0]["choices"] = [0.01, 0.02, SLOW_RATE]
    tuning["method"], tuning["trials"] = "random", 4  # seed 0 draws 0.02 first, then 1e-5
    values = {**spec.values, "tuning": _resolved_tuning(spec, tuning)}
    spec = type(spec)(path=spec.path, values=values, positions=spec.positions)
    _, outcome = tune(spec, build_dataset(spec))
    trained = [t for t in outcome.trials if t.same_as is None]
    pruned = [t for t in trained if t.state == "pruned"]
    assert pruned and all(t.values["training.learning_rate"] == SLOW_RATE for t in pruned)
    assert pruned[0].reported == 1  # stopped after the first epoch
    complete = [t for t in trained if t.state == "complete"]
    assert complete and all(t.reported == 3 for t in complete)  # one report per epoch


def test_the_test_documents_never_reach_the_search(tmp_path):
    docs = random_docs(50, seed=6)
    spec = searched_spec(tmp_path, docs)
    first = build_dataset(spec)
    replaced = with_test_documents_replaced(docs, first)
    other = tmp_path / "other"
    other.mkdir()
    spec2 = searched_spec(other, replaced)
    second = build_dataset(spec2)
    assert first.frames["test"]["text"].tolist() != second.frames["test"]["text"].tolist()
    chosen_a, a = tune(spec, first)
    chosen_b, b = tune(spec2, second)
    assert [(t.values, t.value) for t in a.trials] == [(t.values, t.value) for t in b.trials]
    assert a.baseline.value == b.baseline.value and a.chosen == b.chosen
    assert same_weights(train_model(chosen_a, first), train_model(chosen_b, second))


def test_the_tuning_gain_on_the_test_documents_is_paired_and_positive(tmp_path):
    from auditor.checks import run_checks
    from auditor.evaluate import evaluate

    spec = searched_spec(tmp_path, random_docs(60, seed=6))
    dataset = build_dataset(spec)
    chosen, outcome = tune(spec, dataset)
    predictor = train_model(chosen, dataset)
    evaluation = evaluate(chosen, dataset, predictor, tuning=outcome)
    test = evaluation.text["test"]
    assert test["untuned_nll"].shape == test["nll"].shape
    assert (test["untuned_nll"] > test["nll"]).all()  # the slow rate learned nothing
    findings = {f.id: f for f in run_checks(chosen, dataset, evaluation)}
    gain = findings["tuning.tuning_gain.test"]
    assert gain.ci[0] > 0 and gain.value == pytest.approx(
        (test["untuned_nll"].sum() - test["nll"].sum()) / test["tokens"].sum()
    )
    assert "documents the search never read" in gain.summary
    search = findings["tuning.search"]
    assert "on the validation documents" in search.summary
    assert search.chart["kind"] == "optimization_history"


def test_a_search_that_keeps_the_spec_s_own_values_gains_exactly_nothing(tmp_path):
    from auditor.checks import run_checks
    from auditor.evaluate import evaluate

    spec = lm_spec(tmp_path, random_docs(50, seed=6), training={"learning_rate": GOOD_RATE})
    values = {**spec.values, "tuning": _resolved_tuning(spec, rate_search())}
    spec = type(spec)(path=spec.path, values=values, positions=spec.positions)
    dataset = build_dataset(spec)
    chosen, outcome = tune(spec, dataset)
    assert outcome.chosen["source"] == "spec"
    evaluation = evaluate(chosen, dataset, train_model(chosen, dataset), tuning=outcome)
    assert "untuned_nll" not in evaluation.text["test"]  # the same model: nothing retrained
    gain = {f.id: f for f in run_checks(chosen, dataset, evaluation)}["tuning.tuning_gain.test"]
    assert gain.value == 0.0 and gain.status == "warn"


def test_the_lora_rank_is_searched_and_the_chosen_adapter_has_that_rank(tmp_path, checkpoint):  # noqa: F811
    spec = tune_spec(
        tmp_path,
        checkpoint,
        pretrained={"fine_tune": "lora", "lora": {"rank": 2, "target_modules": ["c_attn"]}},
        training={"learning_rate": 0.05},
    )
    tuning = {
        "method": "grid",
        "space": [
            {"option": "model.pretrained.lora.rank", "choices": [2, 8]},
            {"option": "training.learning_rate", "choices": [0.05, 0.2]},
        ],
    }
    values = {**spec.values, "tuning": _resolved_tuning(spec, tuning)}
    spec = type(spec)(path=spec.path, values=values, positions=spec.positions)
    dataset = build_dataset(spec)
    chosen, outcome = tune(spec, dataset)
    tried = sorted(
        (t.values["model.pretrained.lora.rank"], t.values["training.learning_rate"])
        for t in outcome.trials
        if t.same_as is None
    )
    assert tried == [(2, 0.2), (8, 0.05), (8, 0.2)]  # (2, 0.05) is the spec's own
    rank = chosen.model.pretrained.lora.rank
    assert (
        rank
        == {**{"model.pretrained.lora.rank": 2}, **outcome.chosen["values"]}[
            "model.pretrained.lora.rank"
        ]
    )
    model = train_model(chosen, dataset)
    a = [p for n, p in model.model.named_parameters() if p.requires_grad and "lora_A" in n]
    assert a and all(p.shape[0] == rank for p in a)


# ------------------------------------------------------------------ rules
SPEC = """\
version: 1
name: lm-search
objective: {{task: language_model}}
data:
  corpus: {{path: corpus.txt}}
  text_processing: {{vocabulary_size: 300, max_length: 30}}
model:
  architecture: transformer_lm
  transformer: {{layers: 1, width: 32, heads: 2, context_length: 32}}
training: {{epochs: 2}}
evaluation:
  extraction: {{prefix_tokens: 4, verbatim_tokens: 8}}
tuning:
  method: grid
  {extra}
  space:
    - {entry}
acceptance:
  - {criterion}
"""


def load(tmp_path, entry="{option: training.learning_rate, choices: [0.01, 0.1]}", **kw):
    from auditor.spec import load_spec

    (tmp_path / "corpus.txt").write_text("\n".join(random_docs(30, seed=1)) + "\n")
    fields = {
        "extra": "seed: 0",
        "entry": entry,
        "criterion": "{check: perplexity, split: test, at_most: 100}",
        **kw,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(**fields), encoding="utf-8")
    return load_spec(path)


def test_a_valid_language_model_search_loads(tmp_path):
    spec = load(tmp_path, criterion="{check: tuning_gain, split: test, at_least: 0}")
    assert spec.tuning.space[0].option == "training.learning_rate"


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"extra": "metric: accuracy"}, 15, "tuning.metric must be loss, got 'accuracy'"),
        ({"extra": "cv: {folds: 3}"}, 15, "cross-validation over documents is not available"),
        ({"extra": "retrain: train_and_validation"}, 15, "tuning.retrain must be train"),
        (
            {"entry": "{option: model.hidden, choices: [[8]]}"},
            17,
            "transformer_lm does not read 'model.hidden'",
        ),
        (
            {"entry": "{option: model.pretrained.lora.rank, choices: [2, 4]}"},
            17,
            "transformer_lm does not read 'model.pretrained.lora.rank'",
        ),
        (
            {"entry": "{option: model.transformer.context_length, choices: [16, 32]}"},
            17,
            "trials with different lengths would not compare",
        ),
        (
            {"entry": "{option: model.transformer.heads, low: 1, high: 4, step: 1}"},
            17,
            "list 'model.transformer.heads' as choices, not a range",
        ),
        (
            {"entry": "{option: model.transformer.heads, choices: [2, 3]}"},
            17,
            "width 32 is not a multiple of heads 3",
        ),
        (
            {"criterion": "{check: tuning_gain, split: validation, at_least: 0}"},
            19,
            "use split test, not 'validation'",
        ),
    ],
)
def test_language_model_search_rules_are_located_one_line_errors(tmp_path, fields, line, message):
    with pytest.raises(SpecError) as err:
        load(tmp_path, **fields)
    text = str(err.value)
    assert message in text
    assert f"spec.yaml:{line}:" in text
    assert "Traceback" not in text


def test_a_tuning_gain_criterion_needs_a_search(tmp_path):
    from auditor.spec import load_spec

    path = tmp_path / "spec.yaml"
    load(tmp_path)  # writes the corpus
    text = SPEC.format(extra="seed: 0", entry="{}", criterion="{}")
    text = text.split("tuning:")[0] + (
        "acceptance:\n  - {check: tuning_gain, split: test, at_least: 0}\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "tuning_gain compares the chosen configuration with the spec's own" in str(err.value)


def test_lora_options_are_searched_only_where_lora_is_used(tmp_path, checkpoint):  # noqa: F811
    import yaml

    from auditor.spec import load_spec

    spec = tune_spec(tmp_path, checkpoint, pretrained={"fine_tune": "full"})
    space = [{"option": "model.pretrained.lora.rank", "choices": [2, 4]}]
    path = tmp_path / "full.yaml"
    doc = {**spec.values, "tuning": {"method": "grid", "space": space}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "is read with model.pretrained.fine_tune: lora only" in str(err.value)
    assert "the spec fine-tunes full" in str(err.value)
    # drawn only in the trials that fine-tune with LoRA: accepted
    doc["tuning"]["space"] = [
        {"option": "model.pretrained.fine_tune", "choices": ["full", "lora"]},
        {**space[0], "when": {"model.pretrained.fine_tune": "lora"}},
    ]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert load_spec(path).tuning.space[1].when


# ------------------------------------------------------------------ the bundled example
def test_the_bundled_lora_search_runs_end_to_end_to_a_report_with_its_trials(tmp_path):
    """specs/reviews-lora-tuning.yaml, with fewer trials and epochs: the search, its gain
    on the test documents, a verdict and the search's section in the report."""
    import yaml

    from auditor.pipeline import run
    from auditor.spec import load_spec

    example = REPO / "specs" / "reviews-lora-tuning.yaml"
    assert load_spec(example).tuning.space[1].option == "model.pretrained.lora.rank"
    values = yaml.safe_load(example.read_text(encoding="utf-8"))
    for key in ("corpus",):
        values["data"][key]["path"] = str(REPO / "specs" / values["data"][key]["path"])
    values["model"]["pretrained"]["path"] = str(REPO / "specs" / "models" / "news-tiny")
    values["evaluation"]["base_comparison"]["general"] = str(REPO / "specs" / "corpora" / "lee.cor")
    values["evaluation"].update(bootstrap=200, learning_curve={"enabled": False})
    values["training"]["epochs"] = 3
    values["tuning"]["trials"] = 2
    spec_path = tmp_path / "reviews-lora-tuning.yaml"
    spec_path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    outcome = run(spec_path, out=tmp_path / "out", quiet=True)
    results = outcome.results
    assert results["verdict"]["status"] in ("READY", "CONDITIONAL", "NOT READY")
    assert results["tuning"]["metric"] == "loss" and results["tuning"]["counts"]["run"] == 2
    findings = {f["id"]: f for f in results["findings"]}
    assert {"tuning.search", "tuning.importance"} <= set(findings)
    gain = findings["tuning.tuning_gain.test"]
    criterion = next(c for c in results["criteria"] if c["finding_id"] == gain["id"])
    assert criterion["value"] == pytest.approx(gain["value"])
    # its answers to the test reviews, judged by the exact-match criterion
    exact = next(c for c in results["criteria"] if c["finding_id"] == "text.exact_match.test")
    assert exact["status"] in ("pass", "fail") and exact["ci"] is not None
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="sec-tuning"' in html and "Hyperparameter search" in html
    assert "The model&#39;s answer" in html and "Sentiment:" in html
    assert (tmp_path / "out" / "report.pdf").stat().st_size > 10_000
