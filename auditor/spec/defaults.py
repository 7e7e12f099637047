"""Defaults, applied in one explicit step after validation, read from the schema only.

No default lives in code: a property's ``default`` in ``schemas/spec.schema.json`` is the
only place a default is decided.
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
    return _fill(copy.deepcopy(values), root, root)


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
