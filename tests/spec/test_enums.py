"""The schema's enums equal the catalogues that define the names (equality, in order)."""

from __future__ import annotations

import pytest

from auditor.spec.enums import ENUMS, generated, node_at
from auditor.spec.schema import load_schema

SCHEMA = load_schema()


@pytest.mark.parametrize("path", list(ENUMS), ids=[".".join(p) for p in ENUMS])
def test_schema_enum_equals_its_catalogue(path):
    written = node_at(SCHEMA, path)["enum"]
    assert written == ENUMS[path](), f"run `make schema`: {'.'.join(path)} is out of date"


def test_generating_the_schema_changes_nothing():
    assert generated(SCHEMA) == SCHEMA, "run `make schema`"


def _enums(node, where=()):
    """Paths of the enums below ``node`` ($defs are walked on their own, refs not followed)."""
    if "enum" in node:
        yield where
    for key, sub in node.get("properties", {}).items():
        yield from _enums(sub, (*where, "properties", key))
    if isinstance(node.get("items"), dict):
        yield from _enums(node["items"], (*where, "items"))
    if isinstance(node.get("additionalProperties"), dict):
        yield from _enums(node["additionalProperties"], (*where, "additionalProperties"))


#: enums that are choices of the schema itself, not names a catalogue defines
SCHEMA_OWN_CHOICES = {
    ("properties", "data", "properties", "preprocessing", "properties", name)
    for name in ("missing", "outliers", "scaling", "categorical", "imbalance")
} | {
    ("properties", "data", "properties", "types", "additionalProperties"),
    ("properties", "model", "properties", "vendor", "properties", "input"),
    ("properties", "model", "properties", "vendor", "properties", "output"),
    ("properties", "evaluation", "properties", "threshold", "properties", "strategy"),
    ("properties", "report", "properties", "page_size"),
    ("properties", "tuning", "properties", "direction"),
    ("$defs", "criterion", "properties", "severity"),
    ("$defs", "criterion", "properties", "require"),
    ("properties", "data", "properties", "text_processing", "properties", "truncation"),
    ("properties", "model", "properties", "pretrained", "properties", "fine_tune"),
}


def test_every_name_list_in_the_schema_is_catalogued_or_the_schemas_own():
    found = set(_enums(SCHEMA)) | {
        ("$defs", name, *rest) for name, node in SCHEMA["$defs"].items() for rest in _enums(node)
    }
    assert found == set(ENUMS) | SCHEMA_OWN_CHOICES
