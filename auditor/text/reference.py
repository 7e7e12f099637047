"""Reference metrics, per row, computed by the libraries (and the script) that define them.

- exact match and token F1: the SQuAD v1.1 evaluation script's answer normalisation
  (lower case, punctuation and the articles a/an/the removed, whitespace collapsed);
- BLEU and chrF: sacrebleu. Corpus BLEU and chrF are not means of sentence scores: each row
  yields its sufficient statistics (n-gram matches and totals, lengths), and the corpus score
  is recomputed from their sum, which is how sacrebleu's own paired bootstrap resamples
  (``sacrebleu.significance._bootstrap_resample``);
- ROUGE-L: rouge-score's ``RougeScorer(['rougeL'])`` F-measure (Porter stemming on).

Speed (issue 12's benchmark, 10,000 rows under 5 s on 2 cores): the figures are the
libraries' exactly, computed faster. ROUGE-L tokenises as rouge-score does (lower case,
runs of ``[a-z0-9]``, its own Porter stemmer on words over 3 characters, each word stemmed
once) and finds the longest common subsequence with a bit-parallel algorithm (Hyyrö 2004:
one machine-word step per response token, Python integers as bit vectors) instead of the
quadratic table; chrF's per-row statistics (character 1- to 6-grams without whitespace,
sacrebleu's defaults) are counted for all rows at once with numpy (each position's 6-character
window packed into a 64-bit key with the row and sorted once, every order read off it, matched
with ``searchsorted``), falling back to sacrebleu where a
batch's alphabet is too large to pack; SQuAD normalisation deletes punctuation with one
``str.translate``. ``tests/text/test_metrics.py`` asserts equality with the libraries on
thousands of random and realistic pairs.

Each library's figure keeps its own scale: BLEU and chrF 0-100 as sacrebleu prints them,
the others 0-1. :func:`signature` says how a figure was made, as sacrebleu's does.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np

from auditor.text.extra import require

_DELETE_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


@lru_cache(maxsize=65536)
def squad_normalize(text: str) -> str:
    """The SQuAD v1.1 script's ``normalize_answer``."""
    text = text.lower().translate(_DELETE_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """1.0 where the normalised response equals the normalised reference, else 0.0."""
    return np.array(
        [
            float(squad_normalize(r) == squad_normalize(t))
            for r, t in zip(responses, references, strict=True)
        ]
    )


def _token_f1(response: str, reference: str) -> float:
    got, want = squad_normalize(response).split(), squad_normalize(reference).split()
    same = sum((Counter(got) & Counter(want)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(got), same / len(want)
    return 2 * precision * recall / (precision + recall)


def token_f1(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """The SQuAD script's ``f1_score`` per row."""
    return np.array([_token_f1(r, t) for r, t in zip(responses, references, strict=True)])


@cache
def _sacrebleu_metric(name: str, sentence: bool):
    metrics = require("sacrebleu.metrics", "sacrebleu", what=f"the {name} metric")
    if name == "bleu":
        return metrics.BLEU(effective_order=sentence)
    return metrics.CHRF()


#: chrF's defaults in sacrebleu (``CHRF()``): character 6-grams, no word n-grams.
CHRF_CHAR_ORDER = 6


#: BLEU's defaults in sacrebleu (``BLEU()``): word 1- to 4-grams.
BLEU_MAX_ORDER = 4


def distinct_pairs(
    responses: Sequence[str], references: Sequence[str]
) -> tuple[list[str], list[str], np.ndarray]:
    """The distinct (response, reference) pairs, in first-seen order, and each row's pair."""
    index: dict[tuple[str, str], int] = {}
    rows = np.fromiter(
        (index.setdefault(pair, len(index)) for pair in zip(responses, references, strict=True)),
        dtype=np.int64,
        count=len(responses),
    )
    pairs = list(index)
    return [p[0] for p in pairs], [p[1] for p in pairs], rows


def corpus_stats(name: str, responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-row sufficient statistics of sacrebleu's ``bleu`` or ``chrf``: (rows, k), each
    distinct (response, reference) pair computed once."""
    if len(responses) != len(references):
        raise ValueError("responses and references differ in length")
    how = {"chrf": chrf_stats, "bleu": bleu_stats}.get(name)
    if how is None:
        return _library_stats(name, responses, references)
    hyps, refs, rows = distinct_pairs(responses, references)
    return how(hyps, refs)[rows] if len(hyps) < len(responses) else how(responses, references)


def _library_stats(name: str, responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """sacrebleu's own per-row statistics (the definition the fast paths are tested against)."""
    metric = _sacrebleu_metric(name, False)
    stats = metric._extract_corpus_statistics(list(responses), [list(references)])
    return np.asarray(stats, dtype=np.float64).reshape(len(responses), -1)


#: sacrebleu 13a's first rule, ``([\{-\~\[-\`\ -\&\(-\+\:-\@\/])`` -> `` \1 ``: one
#: character of these ranges at a time, so a translation table does it exactly.
_13A_SPACED = "".join(
    chr(c)
    for lo, hi in (("{", "~"), ("[", "`"), (" ", "&"), ("(", "+"), (":", "@"), ("/", "/"))
    for c in range(ord(lo), ord(hi) + 1)
)
_13A_FIRST = str.maketrans({ch: f" {ch} " for ch in _13A_SPACED})


class _Tokens13a:
    """sacrebleu's 13a tokenisation of a BLEU metric, its first (single-character) rule as
    one ``str.translate`` instead of a regex substitution per character matched (most of
    the library's time: every space is a match), the other rules the library's own
    compiled patterns. Falls back to the library when its tokenizer is not the 13a this
    was written against (tested equal on random and realistic text)."""

    def __init__(self, metric):
        self.metric = metric
        tokenizer = metric.tokenizer
        post = getattr(tokenizer, "_post_tokenizer", None)
        rules = getattr(post, "_re", None)
        self.rules = None
        if tokenizer.signature() == "13a" and rules and len(rules) == 4:
            first = rules[0][0].pattern
            if first == r"([\{-\~\[-\` -\&\(-\+\:-\@\/])" and rules[0][1] == r" \1 ":
                self.rules = [(pattern.sub, repl) for pattern, repl in rules[1:]]

    def __call__(self, text: str) -> list[str]:
        if self.rules is None or self.metric.lowercase:
            return self.metric._preprocess_segment(text).split()
        line = text.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
        if "&" in line:
            line = line.replace("&quot;", '"').replace("&amp;", "&")
            line = line.replace("&lt;", "<").replace("&gt;", ">")
        line = f" {line} ".translate(_13A_FIRST)
        for sub, repl in self.rules:
            line = sub(repl, line)
        return line.split()


def bleu_stats(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """sacrebleu ``BLEU()``'s per-row statistics, (rows, 10): response length, reference
    length, matched n-grams (clipped by the reference's counts) and response n-grams for
    orders 1-4, over sacrebleu's own tokenisation (13a)."""
    metric = _sacrebleu_metric("bleu", False)
    tokens = _Tokens13a(metric)
    vocab: dict[str, int] = {}
    sides = []
    for texts in (responses, references):
        lengths, ids = [], []
        for text in texts:
            words = tokens(text)
            lengths.append(len(words))
            ids += [vocab.setdefault(w, len(vocab)) for w in words]
        sides.append((np.array(ids, dtype=np.int64), np.array(lengths, dtype=np.int64)))
    (h_ids, h_len), (r_ids, r_len) = sides
    out = np.zeros((len(responses), 2 + 2 * BLEU_MAX_ORDER), dtype=np.float64)
    out[:, 0], out[:, 1] = h_len, r_len
    grams = _SharedGrams(h_ids, h_len, r_ids, r_len, len(vocab))
    for n in range(1, BLEU_MAX_ORDER + 1):
        out[:, 1 + n] = grams.matches(n)
        out[:, 1 + BLEU_MAX_ORDER + n] = np.maximum(h_len - n + 1, 0)
    return out


class _SharedGrams:
    """n-grams of responses and references in one id space, matched per row.

    Order-n gram ids are the distinct (order n-1 gram id, next token) pairs, numbered with
    ``np.unique``, so any vocabulary size works; :meth:`matches` counts, per row, the
    response's n-grams clipped by the reference's counts (sacrebleu's match statistic).
    """

    def __init__(self, h_ids, h_len, r_ids, r_len, vocabulary: int):
        self.rows = len(h_len)
        self.tokens = np.concatenate([h_ids, r_ids]).astype(np.int64)
        lengths = np.concatenate([h_len, r_len]).astype(np.int64)
        segment = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.left = np.repeat(starts + lengths, lengths) - np.arange(len(self.tokens))
        self.segment = segment
        self.vocabulary = max(vocabulary, 1)
        self.gram = self.tokens.copy()
        self.order = 1

    def matches(self, n: int) -> np.ndarray:
        """Per row, the shared order-``n`` grams counted at the smaller side's count."""
        while self.order < n:
            nxt = np.zeros_like(self.tokens)
            nxt[: len(nxt) - self.order] = self.tokens[self.order :]
            pairs = self.gram * self.vocabulary + nxt
            _, self.gram = np.unique(pairs, return_inverse=True)
            self.gram = self.gram.reshape(-1).astype(np.int64)
            self.order += 1
        valid = self.left >= n
        seg, gram = self.segment[valid], self.gram[valid]
        side = seg >= self.rows
        key = (seg % self.rows) * (int(gram.max(initial=0)) + 1) + gram
        hk, hc = _counted(key[~side])
        rk, rc = _counted(key[side])
        out = np.zeros(self.rows, dtype=np.float64)
        if len(hk) and len(rk):
            at = np.minimum(np.searchsorted(rk, hk), len(rk) - 1)
            shared = rk[at] == hk
            rows = hk[shared] // (int(gram.max(initial=0)) + 1)
            out = np.bincount(
                rows, weights=np.minimum(hc[shared], rc[at[shared]]), minlength=self.rows
            )
        return out


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and how often each occurs."""
    keys = np.sort(keys)
    if not len(keys):
        return keys, np.zeros(0, dtype=np.float64)
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[first], np.diff(np.append(first, len(keys))).astype(np.float64)


def chrf_stats(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """sacrebleu ``CHRF()``'s per-row statistics, (rows, 18): per character order 1-6, the
    response's n-grams (0 when the reference has none), the reference's, and the matches
    (the smaller of the two counts of each shared n-gram, summed)."""
    if len(responses) != len(references):
        raise ValueError("responses and references differ in length")
    hyps = ["".join(r.split()) for r in responses]
    refs = ["".join(t.split()) for t in references]
    codes = np.frombuffer("".join(hyps + refs).encode("utf-32-le"), dtype=np.uint32)
    alphabet, ids = np.unique(codes, return_inverse=True)
    bits = max(1, int(len(alphabet)).bit_length())  # ids + 1 never 0
    row_bits = 64 - CHRF_CHAR_ORDER * bits
    if row_bits < 1 or len(hyps) >= 2**row_bits:  # too many symbols to pack in 64 bits
        return _chrf_shared(ids, [len(h) for h in hyps], [len(r) for r in refs], len(alphabet))
    ids = ids.astype(np.uint64) + np.uint64(1)
    h_len = np.array([len(h) for h in hyps], dtype=np.int64)
    r_len = np.array([len(r) for r in refs], dtype=np.int64)
    h_ids, r_ids = ids[: h_len.sum()], ids[h_len.sum() :]
    out = np.zeros((len(hyps), 3 * CHRF_CHAR_ORDER), dtype=np.float64)
    h_sorted = _sorted_windows(h_ids, h_len, bits)
    r_sorted = _sorted_windows(r_ids, r_len, bits)
    low = np.uint64((1 << bits) - 1)
    for n in range(1, CHRF_CHAR_ORDER + 1):
        drop = np.uint64((CHRF_CHAR_ORDER - n) * bits)  # the window's last 6 - n characters
        hk, hc = _run_counts(h_sorted >> drop, low)
        rk, rc = _run_counts(r_sorted >> drop, low)
        n_hyp = np.maximum(h_len - n + 1, 0)
        n_ref = np.maximum(r_len - n + 1, 0)
        matches = np.zeros(len(hyps), dtype=np.float64)
        if len(hk) and len(rk):
            at = np.minimum(np.searchsorted(rk, hk), len(rk) - 1)
            shared = rk[at] == hk
            rows = (hk[shared] >> np.uint64(n * bits)).astype(np.int64)
            both = np.minimum(hc[shared], rc[at[shared]])
            matches = np.bincount(rows, weights=both, minlength=len(hyps))
        out[:, 3 * (n - 1)] = np.where(n_ref > 0, n_hyp, 0)
        out[:, 3 * (n - 1) + 1] = n_ref
        out[:, 3 * (n - 1) + 2] = matches
    return out


def _sorted_windows(ids: np.ndarray, lengths: np.ndarray, bits: int) -> np.ndarray:
    """Every position's 6-character window as one sorted 64-bit key: the row in the high
    bits, then the characters' ids (``bits`` each, 0 past the row's end).

    Sorted once for all orders: a window's first n characters are its key shifted right by
    ``(6 - n) * bits``, which keeps the order, so the order-n grams are read off the same
    sorted array (a position has an order-n gram when its n-th character is not 0).
    """
    n_chars = len(ids)
    row = np.repeat(np.arange(len(lengths), dtype=np.uint64), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    left = np.repeat(starts + lengths, lengths) - np.arange(n_chars)  # chars to row end
    code = np.zeros(n_chars, dtype=np.uint64)
    width = np.uint64(bits)
    for k in range(CHRF_CHAR_ORDER):
        nxt = np.zeros(n_chars, dtype=np.uint64)
        nxt[: n_chars - k] = ids[k:]
        nxt[left <= k] = 0  # past the row's end
        code = (code << width) | nxt
    return np.sort((row << np.uint64(CHRF_CHAR_ORDER * bits)) | code)


def _run_counts(keys: np.ndarray, low: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys of a sorted array whose last character is not 0, and their counts."""
    keys = keys[(keys & low) != 0]
    if not len(keys):
        return keys, np.zeros(0, dtype=np.float64)
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[first], np.diff(np.append(first, len(keys))).astype(np.float64)


def _chrf_shared(ids, h_len, r_len, alphabet: int) -> np.ndarray:
    """chrF's statistics through :class:`_SharedGrams` (any alphabet size)."""
    h_len, r_len = np.asarray(h_len, dtype=np.int64), np.asarray(r_len, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    grams = _SharedGrams(ids[: h_len.sum()], h_len, ids[h_len.sum() :], r_len, alphabet)
    out = np.zeros((len(h_len), 3 * CHRF_CHAR_ORDER), dtype=np.float64)
    for n in range(1, CHRF_CHAR_ORDER + 1):
        n_hyp, n_ref = np.maximum(h_len - n + 1, 0), np.maximum(r_len - n + 1, 0)
        out[:, 3 * (n - 1)] = np.where(n_ref > 0, n_hyp, 0)
        out[:, 3 * (n - 1) + 1] = n_ref
        out[:, 3 * (n - 1) + 2] = grams.matches(n)
    return out


def corpus_score(name: str, stats: np.ndarray) -> float:
    """The corpus score from summed statistics (sacrebleu's ``_compute_score_from_stats``)."""
    metric = _sacrebleu_metric(name, False)
    return float(metric._compute_score_from_stats(np.asarray(stats, dtype=np.float64)).score)


def sentence_scores(name: str, stats: np.ndarray) -> np.ndarray:
    """Each row's sentence score from its statistics (BLEU with effective order, as
    sacrebleu's ``sentence_score`` does)."""
    metric = _sacrebleu_metric(name, True)
    stats = np.asarray(stats, dtype=np.float64)
    if not len(stats):
        return np.zeros(0, dtype=np.float64)
    found, rows = np.unique(stats, axis=0, return_inverse=True)  # each distinct row once
    scores = np.array([metric._compute_score_from_stats(row.copy()).score for row in found])
    return scores[rows.reshape(-1)]


@lru_cache(maxsize=1)
def _rouge_scorer():
    scorer = require("rouge_score.rouge_scorer", "rouge-score", what="the rouge_l metric")
    return scorer.RougeScorer(["rougeL"], use_stemmer=True)


_ROUGE_WORD = re.compile(r"[a-z0-9]+")


class _RougeTokens:
    """rouge-score's tokenizer (``rouge_score.tokenize.tokenize`` with its Porter stemmer),
    each distinct word stemmed once, the tokens as integer ids."""

    def __init__(self):
        self.stemmer = _rouge_scorer()._tokenizer._stemmer
        self.ids: dict[str, int] = {}

    def __call__(self, text: str) -> list[int]:
        ids = self.ids
        out = []
        for word in _ROUGE_WORD.findall(text.lower()):
            token = ids.get(word)
            if token is None:
                stem = self.stemmer.stem(word) if len(word) > 3 else word
                # rouge-score keeps only tokens that are still [a-z0-9]+ after stemming
                token = ids[word] = -1 if not _ROUGE_WORD.fullmatch(stem) else self._id(stem)
            if token >= 0:
                out.append(token)
        return out

    def _id(self, stem: str) -> int:
        key = "\0" + stem  # stems share the table with words, apart
        if key not in self.ids:
            self.ids[key] = len(self.ids)
        return self.ids[key]


def lcs_length(a: Sequence[int], b: Sequence[int]) -> int:
    """The length of the longest common subsequence of two token sequences.

    Bit-parallel (H. Hyyrö, 2004): a bit vector over ``a``'s positions, one step of integer
    arithmetic per token of ``b``; equal to the dynamic-programming table's last cell.
    """
    if not a or not b:
        return 0
    masks: dict[int, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(responses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """rouge-score's ROUGE-L F-measure per row (target: the reference), each distinct
    pair once."""
    hyps, refs, rows = distinct_pairs(responses, references)
    tokens = _RougeTokens()
    out = np.zeros(len(hyps), dtype=np.float64)
    for i, (r, t) in enumerate(zip(hyps, refs, strict=True)):
        prediction, target = tokens(r), tokens(t)
        if not prediction or not target:
            continue
        common = lcs_length(target, prediction)
        precision, recall = common / len(prediction), common / len(target)
        # rouge_score.scoring.fmeasure
        out[i] = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return out[rows]


def signature(name: str) -> str:
    """How a reference figure was made: the library, its version and settings."""
    if name in ("bleu", "chrf"):
        metric = _sacrebleu_metric(name, False)
        metric.num_refs = 1  # one reference per row (set by sacrebleu when it reads them)
        return str(metric.get_signature())
    if name == "rouge_l":
        import importlib.metadata as md

        return f"rouge-score {md.version('rouge-score')}, rougeL F-measure, Porter stemmer"
    return "SQuAD v1.1 normalisation (lower case, no punctuation or articles)"
