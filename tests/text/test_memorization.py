"""Memorization: spans of a generated corpus planted in responses are found, verified."""

from __future__ import annotations

import json

import numpy as np
import pytest

from auditor.errors import DataError
from auditor.text import memorization as mz

NGRAM = 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A seeded corpus of made-up words (about 400 kB), its lines and its index."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    mz.write_synthetic_corpus(path, target_bytes=400_000, seed=3)
    lines = path.read_text(encoding="utf-8").splitlines()
    return path, lines, mz.build_index(path, ngram=NGRAM, chunk_bytes=64_000)


def _planted_responses(lines, rng, n_planted: int, n_clean: int):
    """Responses of English filler around spans copied from corpus lines (the truth:
    span length, line, word position), and clean responses of filler only."""
    filler = "thanks for asking here is what i found about your order today".split()
    rows, truth = [], []
    for k in range(n_planted + n_clean):
        before = list(rng.choice(filler, size=int(rng.integers(0, 6))))
        after = list(rng.choice(filler, size=int(rng.integers(0, 6))))
        if k < n_planted:
            line = int(rng.integers(0, len(lines)))
            doc = lines[line].split()
            length = int(rng.integers(NGRAM, 45))
            at = int(rng.integers(0, len(doc) - length))
            rows.append(" ".join([*before, *doc[at : at + length], *after]).capitalize() + ".")
            truth.append((length, line, at, len(before)))
        else:
            rows.append(" ".join(before + after + list(rng.choice(filler, size=10))))
            truth.append((0, None, None, None))
    return rows, truth


def test_planted_spans_are_found_with_their_length_and_origin(corpus):
    path, lines, index = corpus
    rows, truth = _planted_responses(lines, np.random.default_rng(0), 40, 60)
    found = mz.scan(index, rows)
    for i, (length, line, at, offset) in enumerate(truth):
        assert found.longest[i] == length
        if length:
            span = found.spans[i]
            # the made-up words occur once in a while elsewhere, but a whole n-gram does not
            assert (span.document, span.position, span.start) == (line, at, offset)
        else:
            assert found.spans[i] is None
    assert found.rejected == 0
    assert index.documents_read == len(lines)


def test_hash_collisions_never_make_a_match(corpus, monkeypatch):
    """With a hash of 3 bits nearly every n-gram collides; verification rejects them all."""
    path, lines, _ = corpus
    rows, truth = _planted_responses(lines, np.random.default_rng(1), 10, 30)
    monkeypatch.setattr(mz, "_mix", lambda z: z & np.uint64(7))
    weak = mz.build_index(path, ngram=NGRAM)
    assert len(weak.hashes) <= 8
    found = mz.scan(weak, rows)
    assert found.rejected > 0
    for i, (length, *_rest) in enumerate(truth):
        # collisions only shorten what is verified at the wrong place, never invent a match
        assert found.longest[i] <= length
        if not length:
            assert found.longest[i] == 0


def test_the_numpy_words_equal_the_python_words():
    rng = np.random.default_rng(4)
    alphabet = list("aZ9 ,.'-\téÉ日本\u00a0İß\u2028x") + ["\n"]
    for _ in range(400):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 50))))
        hashes, _ = mz._word_hashes(mz._buffer([text]))
        assert len(hashes) == len(mz.words(text.replace("\n", " ")))
    # equal words hash equally, whatever their case or surroundings
    a, _ = mz._word_hashes(mz._buffer(["Refund, REFUND refund"]))
    assert a[0] == a[1] == a[2]


def test_the_index_does_not_depend_on_the_chunk_size(corpus):
    path, _, index = corpus
    whole = mz.build_index(path, ngram=NGRAM, chunk_bytes=1 << 24)
    np.testing.assert_array_equal(whole.hashes, index.hashes)
    np.testing.assert_array_equal(whole.documents, index.documents)
    np.testing.assert_array_equal(whole.positions, index.positions)


def test_a_span_is_marked_in_its_response_and_shown_from_the_corpus(corpus):
    path, lines, index = corpus
    doc = lines[5].split()
    copied = " ".join(doc[3:23])
    text = f"Sure! {copied.upper()} hope this helps"
    found = mz.scan(index, [text])
    assert found.longest[0] == 20
    marked = mz.marked_excerpt(text, found.spans[0])
    assert f"[[{copied.upper()}]]" in marked
    assert copied in mz.corpus_excerpt(index, found.spans[0])


def test_jsonl_corpora_and_their_errors(tmp_path):
    good = tmp_path / "docs.jsonl"
    words = " ".join(f"w{i}" for i in range(30))
    good.write_text(json.dumps({"body": words}) + "\n\n" + json.dumps({"body": "x y"}) + "\n")
    index = mz.build_index(good, ngram=NGRAM, field="body")
    assert mz.scan(index, [f"see {words} ok"]).longest[0] == 30
    with pytest.raises(DataError, match="no text field 'text'|text field 'text'") as err:
        mz.build_index(good, ngram=NGRAM)
    assert err.value.location.line == 1
    with pytest.raises(DataError, match="not found"):
        mz.build_index(tmp_path / "absent.txt", ngram=NGRAM)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n ... \n\n")
    with pytest.raises(DataError, match="no document with words"):
        mz.build_index(empty, ngram=NGRAM)


def test_a_span_pieced_from_two_documents_counts_whole(tmp_path):
    """Templated corpora repeat themselves: each n-gram verified where it first occurs,
    the span is the whole stretch; the document shown holds its first piece exactly."""
    a = [f"a{i}" for i in range(20)]
    b = [f"b{i}" for i in range(20)]
    path = tmp_path / "two.txt"
    path.write_text(" ".join(a) + "\n" + " ".join(a[10:] + b) + "\n")
    index = mz.build_index(path, ngram=NGRAM)
    found = mz.scan(index, ["well " + " ".join(a + b) + " bye"])
    span = found.spans[0]
    assert found.longest[0] == 40 and (span.start, span.document, span.exact) == (1, 0, 20)
    assert found.share[0] == pytest.approx(33 / 35)  # the n-grams with "well" or "bye": not
