"""The language-model corpus: reading, exact and near-duplicate removal, seeded splits.

Every corpus is generated here with planted duplicates whose counts are known.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from auditor.data.corpus import (
    cross_split_overlap,
    deduplicate,
    jaccard,
    normalise,
    read_documents,
    shingles,
    split_documents,
)
from auditor.errors import DataError

WORDS = [f"w{i}" for i in range(5000)]


def random_docs(n: int, seed: int, length: int = 80) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=length)) for _ in range(n)]


def planted_corpus(seed: int = 3):
    """40 distinct documents, 6 exact duplicates (case/punctuation changed), 5 near ones."""
    base = random_docs(40, seed)
    rng = np.random.default_rng(seed + 1)
    exact = [base[i].upper().replace(" ", ",  ") + "!" for i in (1, 5, 9, 13, 17, 21)]
    near = []
    for i in (2, 6, 10, 14, 18):
        words = base[i].split()
        words[int(rng.integers(10, 70))] = "changed"  # one word of 80: Jaccard about 0.9
        near.append(" ".join(words))
    return base, exact, near


def test_normalised_hash_ignores_case_punctuation_and_spacing():
    assert normalise("Hello,  World!") == normalise("hello world")
    assert normalise("Hello world") != normalise("Hello there world")


def test_planted_exact_and_near_duplicates_are_removed_with_their_counts():
    base, exact, near = planted_corpus()
    docs = base + exact + near
    dedup = deduplicate(docs, threshold=0.8, shingle_words=5, permutations=128, seed=1)
    assert dedup.exact_removed == len(exact)
    assert dedup.near_removed == len(near)
    assert dedup.kept.tolist() == list(range(len(base)))  # the originals, first in file order
    kinds = {e["kind"] for e in dedup.examples}
    assert kinds == {"exact", "near"}
    near_examples = [e for e in dedup.examples if e["kind"] == "near"]
    assert all(e["similarity"] >= 0.8 for e in near_examples)
    assert {e["kept"] for e in near_examples} <= {2, 6, 10, 14, 18}


def test_a_corpus_without_duplicates_loses_nothing():
    docs = random_docs(60, seed=9)
    dedup = deduplicate(docs, threshold=0.8, seed=1)
    assert (dedup.exact_removed, dedup.near_removed) == (0, 0)
    assert dedup.kept.size == 60


def test_near_duplicates_below_the_threshold_stay():
    base = random_docs(1, seed=4)[0].split()
    half = base[:40] + [f"x{i}" for i in range(40)]  # shares half its words: Jaccard < 0.5
    dedup = deduplicate([" ".join(base), " ".join(half)], threshold=0.8, seed=1)
    assert dedup.near_removed == 0
    assert jaccard(shingles(" ".join(base), 5), shingles(" ".join(half), 5)) < 0.5


def test_switched_off_deduplication_leaves_duplicates_that_cross_the_splits():
    base, exact, near = planted_corpus()
    docs = base + exact + near
    dedup = deduplicate(docs, exact=False, near=False)
    assert dedup.kept.size == len(docs)
    parts = split_documents(len(docs), validation=0.25, test=0.25, seed=7)
    split_docs = {k: [docs[i] for i in v] for k, v in parts.items()}
    overlap = cross_split_overlap(split_docs, threshold=0.8, shingle_words=5, seed=1)
    # ground truth: each duplicate pair whose members fell in train and a held-out split
    truth = {"validation": 0, "test": 0}
    dup_of = {40 + k: i for k, i in enumerate((1, 5, 9, 13, 17, 21))}
    dup_of.update({46 + k: i for k, i in enumerate((2, 6, 10, 14, 18))})
    where = {int(i): k for k, v in parts.items() for i in v}
    for copy, original in dup_of.items():
        a, b = where[copy], where[original]
        if {a, b} & {"train"} and a != b:
            truth[b if a == "train" else a] += 1
    for split in ("validation", "test"):
        found = overlap[split]["exact"] + overlap[split]["near"]
        assert found == truth[split], (split, overlap, truth)
    assert sum(truth.values()) > 0  # the seed puts some pairs across the splits


def test_splits_are_seeded_disjoint_and_complete():
    a = split_documents(100, validation=0.2, test=0.2, seed=5)
    b = split_documents(100, validation=0.2, test=0.2, seed=5)
    c = split_documents(100, validation=0.2, test=0.2, seed=6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["test"], c["test"])
    joined = np.concatenate(list(a.values()))
    assert sorted(joined.tolist()) == list(range(100))
    assert [len(a[k]) for k in ("train", "validation", "test")] == [60, 20, 20]


def test_reading_lines_and_jsonl(tmp_path):
    lines = tmp_path / "c.txt"
    lines.write_text("first doc\n\n  second doc  \n", encoding="utf-8")
    assert read_documents(lines) == ["first doc", "second doc"]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"body": t}) for t in ["one", "two"]) + "\n", encoding="utf-8"
    )
    assert read_documents(jsonl, fmt="jsonl", field="body") == ["one", "two"]


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ('{"text": "a"}\n{"other": 1}\n', "jsonl", "line 2 has no text field 'text'"),
        ("{broken\n", "jsonl", "line 1 is not a JSON object"),
        ("\n\n", "lines", "holds no document"),
    ],
)
def test_bad_corpus_files_are_located_one_line_errors(tmp_path, content, fmt, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_documents(path, fmt=fmt)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_corpus_file(tmp_path):
    with pytest.raises(DataError, match="corpus file not found"):
        read_documents(tmp_path / "absent.txt")


def test_the_spec_sets_what_counts_as_a_near_duplicate(tmp_path):
    """A pair at Jaccard about 0.9 is a near-duplicate at jaccard 0.8, not at 0.95."""
    from auditor.data.corpus import build_corpus_dataset
    from auditor.spec.defaults import apply_defaults
    from auditor.types import Spec

    base, exact, near = planted_corpus()
    (tmp_path / "corpus.txt").write_text("\n".join(base + exact + near) + "\n", encoding="utf-8")

    def dataset(deduplicate: dict):
        values = {
            "version": 1,
            "name": "corpus",
            "objective": {"task": "language_model"},
            "data": {
                "corpus": {"path": "corpus.txt"},
                "split": {"validation": 0.2, "test": 0.2, "seed": 4},
                "text_processing": {"deduplicate": deduplicate},
            },
            "model": {"architecture": "transformer_lm"},
        }
        return build_corpus_dataset(Spec(path=tmp_path / "s.yaml", values=apply_defaults(values)))

    loose = dataset({"jaccard": 0.8, "shingle_words": 5, "permutations": 64})
    strict = dataset({"jaccard": 0.95, "shingle_words": 5, "permutations": 64})
    exact_only = dataset({"exact": True, "near": False})
    assert loose.split_info["corpus"]["near_duplicates_removed"] == len(near)
    assert strict.split_info["corpus"]["near_duplicates_removed"] == 0
    assert exact_only.split_info["corpus"]["near_duplicates_removed"] == 0
    for d in (loose, strict, exact_only):
        assert d.split_info["corpus"]["exact_duplicates_removed"] == len(exact)
    sizes = loose.split_info["sizes"]
    assert sum(sizes.values()) == len(base) and sizes["test"] == 8
    assert loose.sources[0]["role"] == "corpus" and len(loose.sources[0]["sha256"]) == 64
    # no held-out document of the deduplicated corpus has a duplicate in train
    assert all(o["exact"] + o["near"] == 0 for o in loose.split_info["overlap"].values())


def test_instruction_response_pairs_become_documents_through_the_template(tmp_path):
    from auditor.data.corpus import template_fields

    pairs = [
        {"instruction": "Name a colour.", "response": "Blue.", "id": 1},
        {"instruction": "Say hello.", "response": "Hello!", "id": 2},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in pairs) + "\n", encoding="utf-8")
    template = "Instruction: {instruction}\nResponse: {response} {{done}}"
    assert template_fields(template) == ["instruction", "response"]
    docs = read_documents(path, fmt="jsonl", template=template)
    assert docs == [
        "Instruction: Name a colour.\nResponse: Blue. {done}",
        "Instruction: Say hello.\nResponse: Hello! {done}",
    ]
    with pytest.raises(DataError, match="line 1 has no text field 'answer'"):
        read_documents(path, fmt="jsonl", template="Q: {instruction} A: {answer}")
    with pytest.raises(ValueError, match="must be a name"):
        template_fields("Q: {} A: {0}")
