"""Memorization and contamination: spans of a declared corpus in responses, prompts, answers.

    data.corpus --build_index--> CorpusIndex (every word n-gram's 64-bit hash, sorted, with
               where it first occurs), built in streaming chunks so memory stays bounded
    responses x CorpusIndex --scan--> per row: the longest reproduced span (words), verified
               word by word against the corpus text, and where in the corpus it came from
    prompts, references x CorpusIndex --scan--> per row: the share of its n-grams found in
               the corpus (contamination: an evaluation item the model may have seen)

Words are the runs of ``[0-9a-z]`` and of non-ASCII characters in the lower-cased text
(:func:`words`); the numpy path hashes them from the UTF-8 bytes with the same rule, so the
two agree (tested). A word's hash is a polynomial over its bytes (from prefix sums), an
n-gram's a polynomial over its words' hashes, each finished with splitmix64; n-grams never
cross documents.

Hashes only propose: a candidate run of matching n-grams is read back from the corpus file
(the document's byte offset is kept) and compared word by word, so a hash collision can
never make a match. A run is verified from the place its first n-gram first occurs in the
corpus, as far as the words agree, then again from the first n-gram not yet verified; the
reproduced span is the longest stretch of a text whose every n-gram is so verified (its
pieces may come from different documents when the corpus repeats itself, as templated
text does; :attr:`Span.exact` says how much of it is contiguous in the document shown).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from auditor.errors import DataError, Location

#: Corpus formats (``data.corpus.format``, ``auto`` resolved from the file name).
CORPUS_FORMATS = ("lines", "jsonl")
#: Bytes of corpus read per chunk while building the index.
CHUNK_BYTES = 4 << 20
#: Pending chunk entries inserted into the sorted index once they outnumber this.
MERGE_ENTRIES = 4_000_000
#: Corpus documents kept in memory once read back to verify a candidate span.
CACHED_DOCUMENTS = 4096

MSG_NO_FILE = "corpus file not found"
MSG_UNREADABLE = "corpus file cannot be read: {reason}"
MSG_BAD_JSON = "line {line} is not a JSON object with a text field {field!r}"
MSG_EMPTY = "the corpus holds no document with words"

_WORD = re.compile(r"[0-9a-z\u0080-\U0010ffff]+")
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_BYTE_BASE = np.uint64(0x100000001B3)
_WORD_BASE = np.uint64(0x9E3779B97F4A7C15)


def words(text: str) -> list[str]:
    """The words of ``text`` as the index sees them: lower case, runs of letters/digits."""
    return _WORD.findall(text.lower())


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character (start, end) of each of :func:`words` in ``text`` (lower-casing that
    changes a text's length maps to the lower-cased text)."""
    return [m.span() for m in _WORD.finditer(text.lower())]


def detect_format(path: Path, fmt: str | None = "auto") -> str:
    """``fmt`` unless ``auto``: jsonl for .jsonl/.ndjson, lines otherwise."""
    if fmt and fmt != "auto":
        return fmt
    return "jsonl" if Path(path).suffix.lower() in (".jsonl", ".ndjson") else "lines"


def corpus_source(spec) -> dict:
    """data.corpus as an entry of the results' data sources (role ``corpus``, SHA-256)."""
    from auditor.data.sources import sha256_file

    corpus = spec.data.corpus
    path = spec.resolve_path(corpus.path)
    return {
        "role": "corpus",
        "path": str(path),
        "format": detect_format(path, corpus.format),
        "sha256": sha256_file(path),
    }


# --------------------------------------------------------------------------- hashing
def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


_IS_WORD = np.zeros(256, dtype=bool)
_IS_WORD[0x80:] = True
_IS_WORD[0x30:0x3A] = True
_IS_WORD[0x61:0x7B] = True
_POWERS: dict[str, np.ndarray] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``B**k`` and ``B**-k`` (mod 2**64) for k < n, cached and grown as needed."""
    if len(_POWERS.get("up", ())) < n:
        size = max(n, 2 * len(_POWERS.get("up", ())))
        up = np.full(size, _BYTE_BASE, dtype=np.uint64)
        down = np.full(size, np.uint64(pow(int(_BYTE_BASE), -1, 2**64)), dtype=np.uint64)
        up[0] = down[0] = 1
        _POWERS["up"], _POWERS["down"] = (
            np.cumprod(up, dtype=np.uint64),
            np.cumprod(down, dtype=np.uint64),
        )
    return _POWERS["up"], _POWERS["down"]


def _word_hashes(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, document) of every word of a lower-cased UTF-8 buffer whose documents are
    separated by newlines; the document is the number of newlines before the word.

    A word's hash is ``sum(byte_i * B**i)`` over its bytes (mod 2**64), taken from prefix
    sums of the whole buffer (``(S[end] - S[start]) * B**-start``), plus its length, mixed.
    """
    edge = np.diff(_IS_WORD[buf].view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    up, down = _powers(len(buf) + 1)
    prefix = np.zeros(len(buf) + 1, dtype=np.uint64)
    np.cumsum((buf.astype(np.uint64) + np.uint64(1)) * up[: len(buf)], out=prefix[1:])
    h = (prefix[ends] - prefix[starts]) * down[starts]
    h += (ends - starts).astype(np.uint64) * _WORD_BASE
    doc = np.searchsorted(np.flatnonzero(buf == 0x0A), starts)
    return _mix(h), doc


def _ngram_hashes(w: np.ndarray, doc: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hash, valid) of the n-gram starting at each word; invalid where it would run past
    the words or across a document boundary."""
    m = len(w) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    h = w[:m].copy()
    for j in range(1, n):
        h = h * _WORD_BASE + w[j : j + m]
    return _mix(h), doc[:m] == doc[n - 1 : n - 1 + m]


def _buffer(texts: Sequence[str]) -> np.ndarray:
    """Texts lower-cased, newlines inside them blanked, one per line, as UTF-8 bytes."""
    joined = "\n".join(t.replace("\n", " ") for t in texts).lower()
    return np.frombuffer(joined.encode("utf-8", errors="replace"), dtype=np.uint8)


# --------------------------------------------------------------------------- the corpus
@dataclass
class CorpusFile:
    """Where a corpus's documents are: the file, its format and field, each line's offset."""

    path: Path
    format: str
    field: str
    encoding: str = "utf-8"
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def document(self, number: int) -> str:
        """The text of document ``number`` (its line), read from the file."""
        with open(self.path, "rb") as f:
            f.seek(int(self.offsets[number]))
            return self._text(f.readline(), number)

    def _text(self, line: bytes, number: int) -> str:
        raw = line.decode(self.encoding, errors="replace")
        if self.format != "jsonl":
            return raw.rstrip("\n")
        if not raw.strip():
            return ""
        try:
            value = json.loads(raw)[self.field]
        except (ValueError, KeyError, TypeError):
            raise DataError(
                MSG_BAD_JSON.format(line=number + 1, field=self.field),
                Location(file=str(self.path), line=number + 1),
            ) from None
        if not isinstance(value, str):
            raise DataError(
                MSG_BAD_JSON.format(line=number + 1, field=self.field),
                Location(file=str(self.path), line=number + 1),
            )
        return value

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, list[str]]]:
        """(first document number, documents) of successive chunks of about ``chunk_bytes``;
        records every line's byte offset on the way."""
        offsets: list[np.ndarray] = []
        position, number = 0, 0
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            raise DataError(MSG_NO_FILE, Location(file=str(self.path))) from None
        except OSError as exc:
            raise DataError(
                MSG_UNREADABLE.format(reason=exc), Location(file=str(self.path))
            ) from None
        with f:
            while lines := f.readlines(chunk_bytes):
                sizes = np.fromiter((len(x) for x in lines), dtype=np.int64, count=len(lines))
                offsets.append(position + np.cumsum(sizes) - sizes)
                position += int(sizes.sum())
                if self.format == "jsonl":
                    docs = [self._text(x, number + i) for i, x in enumerate(lines)]
                else:
                    text = b"".join(lines).decode(self.encoding, errors="replace")
                    docs = text.split("\n")[: len(lines)]
                yield number, docs
                number += len(lines)
        self.offsets = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.int64)


@dataclass
class CorpusIndex:
    """Every n-gram of a corpus: sorted hashes, and the document and word each first
    occurs at."""

    hashes: np.ndarray  # uint64, sorted, distinct
    documents: np.ndarray  # uint32: the document of each hash's first occurrence
    positions: np.ndarray  # uint32: the word within that document
    ngram: int
    source: CorpusFile
    documents_read: int = 0
    words_read: int = 0
    bytes_read: int = 0

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, index into the arrays) for each hash of ``h``."""
        if not len(self.hashes):
            return np.zeros(len(h), dtype=bool), np.zeros(len(h), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.hashes, h), len(self.hashes) - 1)
        return self.hashes[at] == h, at

    _read: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def document_words(self, number: int) -> tuple[str, ...]:
        """The words of document ``number``, read back from the corpus file (the last
        :data:`CACHED_DOCUMENTS` read are kept)."""
        got = self._read.get(number)
        if got is None:
            if len(self._read) >= CACHED_DOCUMENTS:
                self._read.clear()
            got = self._read[number] = tuple(words(self.source.document(number)))
        return got

    @property
    def memory_bytes(self) -> int:
        """Bytes the index's arrays hold."""
        return int(self.hashes.nbytes + self.documents.nbytes + self.positions.nbytes)


def build_index(
    path: Path | str,
    *,
    ngram: int,
    fmt: str = "auto",
    field: str = "text",
    encoding: str = "utf-8",
    chunk_bytes: int = CHUNK_BYTES,
) -> CorpusIndex:
    """The n-gram index of a corpus file, read in chunks of about ``chunk_bytes``.

    Raises
    ------
    DataError
        The file is missing or unreadable, a JSON line lacks the text field, or no
        document has a word; located at the file (and line).
    """
    source = CorpusFile(Path(path), detect_format(Path(path), fmt), field, encoding)
    merged = (np.zeros(0, np.uint64), np.zeros(0, np.uint32), np.zeros(0, np.uint32))
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    waiting = 0
    documents = total_words = 0
    for first, docs in source.chunks(chunk_bytes):
        buf = _buffer(docs)
        w, doc = _word_hashes(buf)
        documents += len(docs)
        total_words += len(w)
        h, valid = _ngram_hashes(w, doc, ngram)
        if not valid.any():
            continue
        start = np.searchsorted(doc, doc[: len(h)])  # each word's document's first word
        position = (np.arange(len(h)) - start)[valid]
        h, d = h[valid], doc[: len(valid)][valid]
        h, keep = np.unique(h, return_index=True)
        pending.append((h, (d[keep] + first).astype(np.uint32), position[keep].astype(np.uint32)))
        waiting += len(h)
        if waiting > MERGE_ENTRIES:
            merged, pending, waiting = _merge(merged, pending), [], 0
    merged = _merge(merged, pending)
    if not total_words:
        raise DataError(MSG_EMPTY, Location(file=str(source.path)))
    return CorpusIndex(
        *merged,
        ngram=ngram,
        source=source,
        documents_read=documents,
        words_read=total_words,
        bytes_read=int(Path(path).stat().st_size),
    )


def _merge(merged, pending):
    """The sorted index with the pending chunks' entries inserted, keeping each hash's
    earliest occurrence (the index's own, then the first pending chunk's). The pending
    entries are made distinct first; only those the index lacks are inserted, so memory
    peaks near twice the index, not at a sort of everything."""
    if not pending:
        return merged
    h = np.concatenate([p[0] for p in pending])
    h, keep = np.unique(h, return_index=True)  # the first of equal hashes: the earliest chunk
    d = np.concatenate([p[1] for p in pending])[keep]
    w = np.concatenate([p[2] for p in pending])[keep]
    old_h, old_d, old_w = merged
    if not len(old_h):
        return h, d, w
    at = np.searchsorted(old_h, h)
    new = (at >= len(old_h)) | (old_h[np.minimum(at, len(old_h) - 1)] != h)
    at = at[new]
    return (
        np.insert(old_h, at, h[new]),
        np.insert(old_d, at, d[new]),
        np.insert(old_w, at, w[new]),
    )


# --------------------------------------------------------------------------- scanning
@dataclass(frozen=True)
class Span:
    """A reproduced span: words ``start``..``start + length`` of a row, every n-gram of
    which is in the corpus word for word; its first ``exact`` words are words
    ``position``.. of corpus document ``document`` (the stretch shown from the corpus)."""

    start: int
    length: int
    document: int
    position: int
    exact: int


@dataclass
class Scan:
    """Per row: the longest verified span (0: none of ``ngram`` words or more), where it
    is, the share of the row's n-grams inside verified spans, and the row's n-grams."""

    longest: np.ndarray  # int, words
    spans: list[Span | None]
    share: np.ndarray  # float, NaN for a row with fewer words than ngram
    ngrams: np.ndarray  # int
    rejected: int  # candidate n-grams whose words differed from the corpus (collisions)


def scan(index: CorpusIndex, texts: Sequence[str]) -> Scan:
    """Each text's longest span of corpus words and its share of n-grams found in the corpus.

    Candidates are the runs of consecutive n-grams whose hashes are in the index; each is
    verified against the corpus text from where its first n-gram first occurs, and what
    does not verify is dropped (a hash collision) or verified from its next n-gram.
    """
    n = index.ngram
    rows = len(texts)
    w, row = _word_hashes(_buffer(texts))
    h, valid = _ngram_hashes(w, row, n)
    found, at = index.lookup(h)
    found &= valid
    first_word = np.searchsorted(row, np.arange(rows))
    counts = np.bincount(row[: len(h)][valid], minlength=rows)
    longest = np.zeros(rows, dtype=np.int64)
    covered = np.zeros(rows, dtype=np.int64)
    spans: list[Span | None] = [None] * rows
    edge = np.diff(np.concatenate(([0], found.view(np.int8), [0])))
    run_starts, run_ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    tokens: dict[int, list[str]] = {}
    rejected = 0
    for s, e in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        r = int(row[s])
        if r not in tokens:
            tokens[r] = words(texts[r])
        mine = tokens[r]
        q, chain = s, None  # chain: (start, first piece) of verified pieces that meet
        while q < e:
            k = int(at[q])
            document, position = int(index.documents[k]), int(index.positions[k])
            theirs = index.document_words(document)
            offset = q - int(first_word[r])
            same = _common_prefix(mine, offset, theirs, position, e - q + n - 1)
            if same < n:  # the hash matched, the words do not: never a match
                rejected += 1
                q, chain = q + 1, None
                continue
            covered[r] += same - n + 1
            if chain is None:
                chain = (offset, document, position, same)
            length = offset + same - chain[0]
            if length > longest[r]:
                longest[r] = length
                spans[r] = Span(chain[0], length, chain[1], chain[2], chain[3])
            q += same - n + 1
    share = np.where(counts > 0, covered / np.maximum(counts, 1), np.nan)
    return Scan(longest, spans, share, counts, rejected)


def _common_prefix(a: Sequence[str], i: int, b: Sequence[str], j: int, limit: int) -> int:
    """How many words ``a[i:]`` and ``b[j:]`` share from the start (at most ``limit``)."""
    k = 0
    limit = min(limit, len(a) - i, len(b) - j)
    while k < limit and a[i + k] == b[j + k]:
        k += 1
    return k


def marked_excerpt(text: str, span: Span | None, *, around: int = 12, mark=("[[", "]]")) -> str:
    """The text around ``span`` with the reproduced words between ``mark``'s two strings
    (``around`` words of context either side, elided with '...')."""
    spans = word_spans(text)
    if span is None or not spans:
        return text[:240]
    base = text if len(text.lower()) == len(text) else text.lower()
    lo, hi = span.start, span.start + span.length - 1
    left = spans[max(0, lo - around)][0]
    right = spans[min(len(spans) - 1, hi + around)][1]
    out = base[left : spans[lo][0]] + mark[0] + base[spans[lo][0] : spans[hi][1]] + mark[1]
    out += base[spans[hi][1] : right]
    return ("..." if left > 0 else "") + out + ("..." if right < len(base) else "")


def corpus_excerpt(index: CorpusIndex, span: Span, *, around: int = 6) -> str:
    """The corpus words the span reproduces, with a little context, for the report."""
    theirs = index.document_words(span.document)
    lo = max(0, span.position - around)
    hi = min(len(theirs), span.position + span.exact + around)
    text = " ".join(theirs[lo:hi])
    return ("..." if lo else "") + text + ("..." if hi < len(theirs) else "")


# --------------------------------------------------------------------------- test corpora
def synthetic_vocabulary(size: int, seed: int) -> np.ndarray:
    """``size`` distinct pronounceable made-up words (seeded), for generated corpora."""
    rng = np.random.default_rng(seed)
    consonants, vowels = list("bcdfghjklmnprstvz"), list("aeiou")
    out: dict[str, None] = {}
    while len(out) < size:
        syllables = int(rng.integers(1, 4))
        out["".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))] = None
    return np.array(list(out))


def write_synthetic_corpus(
    path: Path | str,
    *,
    target_bytes: int,
    seed: int,
    planted: Sequence[str] = (),
    vocabulary: int = 5000,
    words_per_document: tuple[int, int] = (60, 240),
) -> list[int]:
    """Write a seeded corpus of made-up words, one document a line, of about
    ``target_bytes``, with each ``planted`` text inserted verbatim into a document of its
    own choosing; returns the line number (0-based) each planted text went into."""
    rng = np.random.default_rng(seed)
    vocab = synthetic_vocabulary(vocabulary, seed)
    mean_words = sum(words_per_document) / 2
    mean_bytes = float(np.mean([len(w) for w in vocab])) + 1
    documents = max(1, int(target_bytes / (mean_words * mean_bytes)), len(planted))
    where = rng.choice(documents, size=len(planted), replace=False).tolist()
    planted_in = {d: text for d, text in zip(where, planted, strict=True)}
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, documents, 2000):
            count = min(2000, documents - start)
            lengths = rng.integers(*words_per_document, size=count)
            picks = vocab[rng.integers(0, len(vocab), size=int(lengths.sum()))]
            bounds = np.concatenate(([0], np.cumsum(lengths)))
            lines = []
            for k in range(count):
                doc = picks[bounds[k] : bounds[k + 1]].tolist()
                text = planted_in.get(start + k)
                if text is not None:
                    cut = int(rng.integers(0, len(doc) + 1))
                    doc = [*doc[:cut], text, *doc[cut:]]
                lines.append(" ".join(doc))
            f.write("\n".join(lines) + "\n")
    return where
