"""A text corpus for a language model: documents read, deduplicated, then split.

    data.corpus (path, format, field) --read_documents--> documents
    documents --deduplicate--> exact duplicates (hash of the normalised text) and
               near-duplicates (MinHash over word shingles, Jaccard >= a declared threshold,
               verified on the shingle sets) removed, the first of each cluster kept
    kept documents --split_documents--> train / validation / test (seeded, recorded)

Duplicates are removed *before* splitting, so the same text cannot be trained on and then
judged as unseen. :func:`cross_split_overlap` measures what would still cross the splits
(the text form of train/test overlap): zero after deduplication, the leak itself when it
is switched off. Everything here is numpy; no MinHash library is needed.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.errors import DataError, Location
from auditor.in_memory import FRAME_FORMAT, held_frame

if TYPE_CHECKING:  # pragma: no cover
    from auditor.types import Dataset, Spec

#: Corpus formats: one document a line, or JSON Lines with a text field.
CORPUS_FORMATS: tuple[str, ...] = ("lines", "jsonl")
#: The column of a corpus split's frame that holds the document text.
TEXT_COLUMN = "text"
#: The splits a corpus is cut into, and those held out from training.
CORPUS_SPLITS = ("train", "validation", "test")
HELD_OUT_SPLITS = CORPUS_SPLITS[1:]
#: With data.text_processing.response_field: the characters of each document's prompt (the
#: text before the response, given to the model but not learned).
PROMPT_COLUMN = "prompt_chars"
_MERSENNE = np.uint64((1 << 31) - 1)  # prime modulus of the permutation hashes
_WORD = re.compile(r"\w+", re.UNICODE)

MSG_NO_FILE = "corpus file not found"
MSG_UNREADABLE = "corpus file cannot be read: {reason}"
MSG_BAD_JSON = "line {line} is not a JSON object: {reason}"
MSG_NO_FIELD = "line {line} has no text field {field!r}"
MSG_NO_COLUMN = "the DataFrame has no text field {field!r} as a column (columns: {columns})"
MSG_EMPTY = "the corpus holds no document with text"
MSG_TOO_FEW = (
    "{n} documents are left after removing duplicates; a corpus needs at least {minimum} "
    "to give train, validation and test documents"
)
MIN_DOCUMENTS = 10


def detect_corpus_format(path: Path, fmt: str | None = "auto") -> str:
    """``fmt`` unless it is ``auto`` (or None): JSON Lines for .jsonl/.ndjson, else lines.

    A DataFrame given to the Python API in place of the corpus file is JSON Lines whatever
    ``fmt`` says: each row is one object, its columns the fields (:func:`read_corpus`).
    """
    if held_frame(path) is not None:
        return "jsonl"
    if fmt and fmt != "auto":
        return fmt
    return "jsonl" if Path(path).suffix.lower() in (".jsonl", ".ndjson") else "lines"


def template_fields(template: str) -> list[str]:
    """The field names a document template fills, in order (ValueError when malformed)."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    bad = [n for n in names if not n or not n.isidentifier()]
    if bad:
        raise ValueError(f"a field in braces must be a name, got {{{bad[0]}}}")
    return list(dict.fromkeys(names))


def fill_template(template: str, record: dict[str, Any]) -> str:
    """The document of one JSON Lines record: ``template`` with the record's fields."""
    return template.format_map({k: "" if v is None else str(v) for k, v in record.items()})


def prompt_template(template: str, response_field: str) -> str:
    """The part of ``template`` before ``{response_field}`` (ValueError when the field is
    not the template's last one)."""
    names = template_fields(template)
    if not names or names[-1] != response_field:
        last = names[-1] if names else None
        raise ValueError(
            f"the response field {response_field!r} must be the template's last field"
            + (f" (the last is {last!r})" if last else "")
        )
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name == response_field:
            break
        if name is not None:
            out.append(
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
    return "".join(out)


def read_documents(
    path: Path,
    *,
    fmt: str = "lines",
    field: str = "text",
    encoding: str = "utf-8",
    template: str | None = None,
) -> list[str]:
    """The corpus's documents, in file order (blank documents left out); see
    :func:`read_corpus`."""
    return read_corpus(path, fmt=fmt, field=field, encoding=encoding, template=template)[0]


def read_corpus(
    path: Path,
    *,
    fmt: str = "lines",
    field: str = "text",
    encoding: str = "utf-8",
    template: str | None = None,
    response_field: str | None = None,
) -> tuple[list[str], list[int] | None]:
    """The corpus's documents, in file order (blank documents left out), and with
    ``response_field`` the characters of each one's prompt (None without).

    With ``template`` (JSON Lines only), each document is the template filled with the
    fields of its line (instruction/response pairs), instead of the line's ``field``.

    Raises
    ------
    DataError
        The file is missing or unreadable, a JSON line is not an object with ``field``
        (or with every field the template names), or no document has text; located at
        the file (and line).
    """
    wanted = template_fields(template) if template else [field]
    prompt = prompt_template(template, response_field) if template and response_field else None
    prompts: list[int] = []
    path = Path(path)
    held = held_frame(path)
    if held is not None:  # a DataFrame: its rows as the JSON Lines file they would be
        path = Path(path.name)  # located by its name, <DataFrame corpus>
        absent = [name for name in wanted if name not in held.frame.columns]
        if absent:
            columns = ", ".join(repr(str(c)) for c in held.frame.columns[:12])
            message = MSG_NO_COLUMN.format(field=absent[0], columns=columns)
            raise DataError(message, Location(file=str(path)))
        raw = held.frame.to_json(orient="records", lines=True, force_ascii=False)
        fmt = "jsonl"
    try:
        raw = raw if held is not None else path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise DataError(MSG_NO_FILE, Location(file=str(path))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(MSG_UNREADABLE.format(reason=exc), Location(file=str(path))) from None
    docs: list[str] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        if fmt == "jsonl":
            where = Location(file=str(path), line=number)
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DataError(MSG_BAD_JSON.format(line=number, reason=exc), where) from None
            if not isinstance(record, dict):
                raise DataError(MSG_BAD_JSON.format(line=number, reason="not an object"), where)
            missing = [name for name in wanted if name not in record]
            if missing:
                raise DataError(MSG_NO_FIELD.format(line=number, field=missing[0]), where)
            text = fill_template(template, record) if template else str(record[field] or "")
        else:
            text = line
        if text.strip():
            docs.append(text.strip())
            if prompt is not None:
                # the prompt's trailing spaces go with the response (tokenizers join a
                # word's leading space to it: " positive", not " " and "positive")
                given = fill_template(prompt, record).lstrip().rstrip(" ")
                prompts.append(min(len(given), len(docs[-1])))
    if not docs:
        raise DataError(MSG_EMPTY, Location(file=str(path)))
    return docs, (prompts if prompt is not None else None)


def normalise(text: str) -> str:
    """The text compared for exact duplicates: NFKC, case-folded, words joined by spaces."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def text_hash(text: str) -> str:
    """SHA-256 of the normalised text (two documents that differ only in case,
    punctuation or spacing share it)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int) -> np.ndarray:
    """The distinct word ``size``-shingles of the normalised text, as uint32 hashes (crc32).

    A document shorter than ``size`` words is one shingle of all its words.
    """
    words = normalise(text).split()
    if not words:
        return np.zeros(0, dtype=np.uint64)
    grams = (
        [" ".join(words)]
        if len(words) < size
        else [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    )
    return np.unique(np.array([zlib.crc32(g.encode("utf-8")) for g in grams], dtype=np.uint64))


def minhash_signatures(
    shingle_sets: Sequence[np.ndarray], *, permutations: int, seed: int
) -> np.ndarray:
    """(documents, permutations) MinHash signatures: min over shingles of (a x + b) mod p.

    ``a`` and ``b`` are drawn from ``seed``; with x < 2**32 and a < 2**31 every product
    fits in 64 bits, so the hashes are exact in numpy's uint64.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_MERSENNE), size=permutations, dtype=np.uint64)
    b = rng.integers(0, int(_MERSENNE), size=permutations, dtype=np.uint64)
    out = np.full((len(shingle_sets), permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(shingle_sets):
        if s.size:
            out[i] = ((s[:, None] * a[None, :] + b[None, :]) % _MERSENNE).min(axis=0)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle sets (sorted unique arrays)."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def near_pairs(
    shingle_sets: Sequence[np.ndarray],
    *,
    threshold: float,
    permutations: int = 128,
    bands: int = 32,
    seed: int = 0,
) -> list[tuple[int, int, float]]:
    """Pairs (i < j, Jaccard) of documents whose shingle sets' Jaccard is >= ``threshold``.

    Candidates share a band of their MinHash signatures (locality-sensitive hashing); each
    candidate is then verified on the exact shingle sets, so an estimate never decides.
    """
    n = len(shingle_sets)
    if n < 2:
        return []
    sig = minhash_signatures(shingle_sets, permutations=permutations, seed=seed)
    rows = max(1, permutations // bands)
    candidates: set[tuple[int, int]] = set()
    for band in range(bands):
        part = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
        if part.shape[1] == 0:
            break
        keys = part.view(np.dtype((np.void, part.dtype.itemsize * part.shape[1]))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        for bucket in np.flatnonzero(counts > 1):
            members = np.flatnonzero(inverse == bucket)
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    candidates.add((int(members[x]), int(members[y])))
    pairs = []
    for i, j in sorted(candidates):
        similarity = jaccard(shingle_sets[i], shingle_sets[j])
        if similarity >= threshold:
            pairs.append((i, j, float(similarity)))
    return pairs


@dataclass
class Dedup:
    """What deduplication kept and removed (positions into the documents as read)."""

    kept: np.ndarray  # positions of the documents kept, in file order
    exact_removed: int = 0
    near_removed: int = 0
    # [{removed, kept, kind, similarity}] for the report (first few)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def info(self, total: int) -> dict[str, Any]:
        """The counts for results.json (``data.corpus_info`` in the split info)."""
        return {
            "documents": int(total),
            "exact_duplicates_removed": int(self.exact_removed),
            "near_duplicates_removed": int(self.near_removed),
            "kept": int(self.kept.size),
            "examples": self.examples,
        }


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def deduplicate(
    docs: Sequence[str],
    *,
    exact: bool = True,
    near: bool = True,
    threshold: float = 0.8,
    shingle_words: int = 5,
    permutations: int = 128,
    seed: int = 0,
    max_examples: int = 5,
) -> Dedup:
    """Remove exact duplicates (normalised-text hash), then near-duplicates (MinHash).

    The first document of every duplicate cluster (in file order) is kept.
    """
    n = len(docs)
    keep = np.ones(n, dtype=bool)
    examples: list[dict[str, Any]] = []
    exact_removed = near_removed = 0
    if exact:
        first: dict[str, int] = {}
        for i, d in enumerate(docs):
            h = text_hash(d)
            if h in first:
                keep[i] = False
                exact_removed += 1
                if len(examples) < max_examples:
                    examples.append({"removed": i, "kept": first[h], "kind": "exact"})
            else:
                first[h] = i
    if near:
        alive = np.flatnonzero(keep)
        sets = [shingles(docs[i], shingle_words) for i in alive]
        parent = list(range(len(alive)))
        best: dict[int, tuple[int, float]] = {}
        for x, y, similarity in near_pairs(
            sets, threshold=threshold, permutations=permutations, seed=seed
        ):
            rx, ry = _find(parent, x), _find(parent, y)
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
            best.setdefault(y, (x, similarity))
        for k in range(len(alive)):
            if _find(parent, k) != k:
                keep[alive[k]] = False
                near_removed += 1
                if len(examples) < 2 * max_examples and k in best:
                    x, similarity = best[k]
                    examples.append(
                        {
                            "removed": int(alive[k]),
                            "kept": int(alive[x]),
                            "kind": "near",
                            "similarity": round(similarity, 4),
                        }
                    )
    return Dedup(np.flatnonzero(keep), exact_removed, near_removed, examples)


def split_documents(n: int, *, validation: float, test: float, seed: int) -> dict[str, np.ndarray]:
    """Seeded random split of ``n`` documents into train, validation and test positions."""
    from auditor.data.splits import random_split

    return {
        k: np.sort(v)
        for k, v in random_split(n, validation=validation, test=test, seed=seed).items()
    }


def cross_split_overlap(
    split_docs: dict[str, Sequence[str]], *, threshold: float, shingle_words: int, seed: int
) -> dict[str, dict[str, int]]:
    """Per held-out split: its documents with an exact or near duplicate in the train split.

    Returns ``{split: {documents, exact, near}}`` (a document counted once, as exact when it
    is both).
    """
    train = list(split_docs.get("train", []))
    train_hashes = {text_hash(d) for d in train}
    train_sets = [shingles(d, shingle_words) for d in train]
    out: dict[str, dict[str, int]] = {}
    for split, docs in split_docs.items():
        if split == "train":
            continue
        docs = list(docs)
        exact = [text_hash(d) in train_hashes for d in docs]
        sets = [shingles(d, shingle_words) for d in docs]
        pairs = near_pairs([*train_sets, *sets], threshold=threshold, seed=seed)
        near_hit = {j - len(train) for i, j, _ in pairs if i < len(train) <= j}
        near = sum(1 for k in near_hit if not exact[k])
        out[split] = {"documents": len(docs), "exact": int(sum(exact)), "near": int(near)}
    return out


def build_corpus_dataset(spec: Spec) -> Dataset:
    """The data stage of a language model: the corpus read, deduplicated and split.

    ``frames[split]`` holds one row per document (column ``text``, the position in the file
    as ``position``); ``split_info`` records the strategy, seed, sizes, the deduplication
    counts (``corpus``) and the documents of each held-out split with a duplicate in the
    train split (``overlap``).
    """
    import pandas as pd

    from auditor.data.sources import fingerprinted
    from auditor.types import Dataset

    corpus = spec.data.corpus
    processing = spec.data.text_processing
    dedup_settings = processing.deduplicate
    path = spec.resolve_path(corpus.path)
    fmt = detect_corpus_format(path, corpus.format)
    docs, prompts = read_corpus(
        path,
        fmt=fmt,
        field=corpus.field or TEXT_COLUMN,
        encoding=spec.data.encoding,
        template=processing.template,
        response_field=processing.response_field,
    )
    split = spec.data.split
    dedup = deduplicate(
        docs,
        exact=dedup_settings.exact,
        near=dedup_settings.near,
        threshold=float(dedup_settings.jaccard),
        shingle_words=int(dedup_settings.shingle_words),
        permutations=int(dedup_settings.permutations),
        seed=int(split.seed),
    )
    if dedup.kept.size < MIN_DOCUMENTS:
        raise DataError(
            MSG_TOO_FEW.format(n=dedup.kept.size, minimum=MIN_DOCUMENTS), Location(file=str(path))
        )
    parts = split_documents(
        int(dedup.kept.size), validation=split.validation, test=split.test, seed=int(split.seed)
    )
    frames = {
        name: pd.DataFrame(
            {
                TEXT_COLUMN: [docs[dedup.kept[i]] for i in rows],
                "position": dedup.kept[rows].astype(np.int64),
                **(
                    {PROMPT_COLUMN: [prompts[dedup.kept[i]] for i in rows]}
                    if prompts is not None
                    else {}
                ),
            }
        )
        for name, rows in parts.items()
    }
    overlap = cross_split_overlap(
        {k: f[TEXT_COLUMN].tolist() for k, f in frames.items()},
        threshold=float(dedup_settings.jaccard),
        shingle_words=int(dedup_settings.shingle_words),
        seed=int(split.seed),
    )
    source = {
        "role": "corpus",
        **fingerprinted(path),  # a DataFrame: its name, and what was hashed
        "format": FRAME_FORMAT if held_frame(path) is not None else fmt,
        "rows": len(docs),
        "columns": 1,
    }
    return Dataset(
        task=spec.task,
        target=TEXT_COLUMN,
        frames=frames,
        X={},
        y={},
        groups={k: pd.DataFrame(index=f.index) for k, f in frames.items()},
        feature_columns=[],
        column_types={TEXT_COLUMN: "text"},
        feature_names=[],
        sources=[source],
        split_info={
            "strategy": "random",
            "unit": "documents",
            "seed": int(split.seed),
            "sizes": {k: len(f) for k, f in frames.items()},
            "corpus": dedup.info(len(docs)),
            "overlap": overlap,
        },
        preprocessing_info={"file_encoding": spec.data.encoding},
    )
