"""Defaults, applied in one explicit step after validation, read from the schema only.

No default lives in code: a property's ``default`` in ``schemas/spec.schema.json`` is the
only place a default is decided. Some defaults depend on other fields, which a schema
cannot say; the schema's descriptions state them and :func:`derived_defaults` applies them
in the same step:

- an audit file's ``name`` is its file name's stem, made a valid split name, and its
  ``label`` is its name;
- a criterion's ``split`` is ``test`` when the data are split (``data.train``), else the
  first audit file's name;
- a threshold's ``chosen_on.split`` (when no ``path`` is given) is the first audit file's;
- a search's ``tuning.metric`` is the early-stopping metric, and its ``direction`` the
  metric's own (left null for a name no catalogue knows: a rule says so).
"""

from __future__ import annotations

import copy
from typing import Any

from auditor.spec.schema import load_schema, resolve_ref


def apply_defaults(values: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``values`` with every missing optional field set to its schema default.

    Walks the schema: a property with a ``default`` that the document lacks gets it (a
    deep copy); objects present (or defaulted to an object) are filled recursively, array
    items through ``items`` (acceptance criteria), and ``$ref`` is followed. ``values``
    must already be valid against the schema.
    """
    root = schema if schema is not None else load_schema()
    return derived_defaults(_fill(copy.deepcopy(values), root, root))


def split_name_for(path: str) -> str:
    """A valid split name from a file path: 'data/Client Q3.csv' -> 'client_q3'."""
    import re
    from pathlib import PurePath

    stem = re.sub(r"[^a-z0-9]+", "_", PurePath(path).stem.lower()).strip("_")
    if not stem or not stem[0].isalpha():
        stem = f"audit_{stem}".rstrip("_")
    return stem[:40]


def derived_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults that depend on other fields (see the module docstring), in place."""
    _tuning_defaults(values)
    data = values.get("data")
    if not isinstance(data, dict):
        return values
    audit = [a for a in data.get("audit") or [] if isinstance(a, dict)]
    for entry in audit:
        if entry.get("name") is None and isinstance(entry.get("path"), str):
            entry["name"] = split_name_for(entry["path"])
        if entry.get("label") is None:
            entry["label"] = entry.get("name")
    first_audit = audit[0].get("name") if audit else None
    main = "test" if data.get("train") or not first_audit else first_audit
    for criterion in values.get("acceptance") or []:
        if isinstance(criterion, dict) and criterion.get("split") is None:
            criterion["split"] = main
    threshold = (values.get("evaluation") or {}).get("threshold") or {}
    chosen = threshold.get("chosen_on") if isinstance(threshold, dict) else None
    if isinstance(chosen, dict) and chosen.get("path") is None and chosen.get("split") is None:
        chosen["split"] = first_audit
    return values


def _tuning_defaults(values: dict[str, Any]) -> None:
    """A search's metric (early stopping's) and direction (the metric's), in place."""
    tuning = values.get("tuning")
    if not isinstance(tuning, dict):
        return
    if tuning.get("metric") is None:
        stopping = (values.get("training") or {}).get("early_stopping") or {}
        tuning["metric"] = stopping.get("metric")
    if tuning.get("direction") is None and isinstance(tuning.get("metric"), str):
        from auditor.tuning.catalogue import direction_of

        tuning["direction"] = direction_of(tuning["metric"])


def section_defaults(path: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of one section's ``values`` (``("data", "preprocessing")``; ``"[]"`` for the
    items of a list) with its missing fields set to their schema defaults."""
    root = load_schema()
    node = root
    for key in path:
        node = resolve_ref(node, root)
        node = node["items"] if key == "[]" else node["properties"][key]
    return _fill(copy.deepcopy(values), node, root)


def _fill(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    schema = resolve_ref(schema, root)
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            sub = resolve_ref(sub, root)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = _fill(value[key], sub, root)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            known = schema.get("properties", {})
            for key in value:
                if key not in known:
                    value[key] = _fill(value[key], extra, root)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [_fill(item, items, root) for item in value]
    return value


def iter_defaults(schema: dict[str, Any] | None = None):
    """Yield (dotted path, subschema, default) for every default in the schema (for tests)."""
    root = schema if schema is not None else load_schema()

    def walk(node: dict, where: str, depth: int):
        node = resolve_ref(node, root)
        if depth > 12:  # pragma: no cover - the schema is not recursive
            return
        if "default" in node and where:
            yield where, node, node["default"]
        for key, sub in node.get("properties", {}).items():
            yield from walk(sub, f"{where}.{key}" if where else key, depth + 1)
        if isinstance(node.get("items"), dict):
            yield from walk(node["items"], f"{where}[]", depth + 1)
        for name, sub in node.get("$defs", {}).items():
            yield from walk(sub, f"$defs.{name}", depth + 1)

    yield from walk(root, "", 0)
