"""A spec given as a Python mapping (the Python API): plain values, located by JSON path.

A YAML file's errors point at a line; a mapping has none, so its errors name the JSON path
alone (``acceptance[2].at_most: must be a number, got 'high'``). :func:`document_from_mapping`
copies the mapping into plain JSON values under the YAML reader's limits (depth, number of
values), and marks every path it holds as written, so the rules tell a field the caller set
from a default exactly as they do for a file. The values are then validated by the same
schema and rules (:func:`auditor.spec.load.validate_document`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from auditor.errors import Location, SpecError
from auditor.spec.yamlio import MAX_DEPTH, MAX_VALUES, MSG_TOO_DEEP, MSG_TOO_MANY_VALUES, Document

#: What a spec mapping's ``spec_file`` fingerprint hashes.
HASHED_MAPPING = "the canonical JSON of the spec mapping as given (sorted keys, UTF-8)"
MSG_BAD_KEY = "keys must be text, got {kind}"
MSG_NOT_PLAIN = (
    "a spec holds plain values (text, numbers, true/false, null, lists, mappings), got {kind}"
)


def document_from_mapping(values: Mapping) -> Document:
    """Plain values of a spec mapping with every path marked as written (no line numbers).

    Raises
    ------
    SpecError
        A key that is not text, a value that is not plain, or the reader's limits exceeded;
        located at its JSON path.
    """
    doc = Document(values=None)
    count = [0]
    doc.values = _plain(values, (), doc, count)
    return doc


def mapping_sha256(values: Any) -> str:
    """Hex SHA-256 of plain spec values as canonical JSON (see :data:`HASHED_MAPPING`)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any, path: tuple, doc: Document, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise SpecError(MSG_TOO_MANY_VALUES.format(limit=MAX_VALUES), Location(path=path))
    if len(path) >= MAX_DEPTH:
        raise SpecError(MSG_TOO_DEEP.format(limit=MAX_DEPTH), Location(path=path))
    doc.positions[path] = (None, None)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                kind = _kind(key)
                raise SpecError(MSG_BAD_KEY.format(kind=kind), Location(path=path + (str(key),)))
            doc.key_positions[path + (key,)] = (None, None)
            out[key] = _plain(item, path + (key,), doc, count)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, path + (i,), doc, count) for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    item = getattr(value, "item", None)  # a numpy scalar: the Python value it holds
    if callable(item) and getattr(value, "shape", None) == ():
        return _plain(item(), path, doc, count)
    raise SpecError(MSG_NOT_PLAIN.format(kind=_kind(value)), Location(path=path))


def _kind(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def set_value(doc: Document, path: tuple, value: Any) -> None:
    """Put plain ``value`` at ``path`` of a parsed document (creating mappings on the way).

    What was under ``path`` is forgotten, positions included, so no rule takes a replaced
    field for a written one; the new value and everything in it count as written, located
    where ``path`` (or its nearest located ancestor) was.
    """
    parent = doc.values
    for i, part in enumerate(path[:-1]):
        if isinstance(parent, dict):
            if not isinstance(parent.get(part), (dict, list)):
                parent[part] = {}
                _mark(doc, path[: i + 1])
            parent = parent[part]
        else:
            parent = parent[part]
    for table in (doc.positions, doc.key_positions):
        for p in [p for p in table if len(p) > len(path) and p[: len(path)] == path]:
            del table[p]
    parent[path[-1]] = value
    _mark(doc, path)
    _mark_within(doc, path, value)


def delete_value(doc: Document, path: tuple) -> None:
    """Remove ``path`` (a mapping key) and its positions, when present."""
    parent = doc.values
    for part in path[:-1]:
        if not isinstance(parent, dict) or part not in parent:
            return
        parent = parent[part]
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    for table in (doc.positions, doc.key_positions):
        for p in [p for p in table if p[: len(path)] == path]:
            del table[p]


def _mark(doc: Document, path: tuple) -> None:
    probe = path
    while probe and probe not in doc.positions:
        probe = probe[:-1]
    doc.positions.setdefault(path, doc.positions.get(probe, (None, None)))
    doc.key_positions.setdefault(path, doc.positions[path])


def _mark_within(doc: Document, path: tuple, value: Any) -> None:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        _mark(doc, path + (key,))
        _mark_within(doc, path + (key,), item)
