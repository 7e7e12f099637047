"""The typed spec has exactly the schema's fields, and is built from every bundled spec."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from auditor.spec import load_schema, load_spec
from auditor.spec.schema import resolve_ref
from auditor.spec.typed import SECTIONS, section, typed_spec

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema()


def _node(path: tuple[str, ...]) -> dict:
    node = SCHEMA
    for key in path:
        node = resolve_ref(node, SCHEMA)
        node = node["items"] if key == "[]" else node["properties"][key]
    return resolve_ref(node, SCHEMA)


def _objects(node=SCHEMA, where=()):
    """Every schema object with properties, as a path of property names ("[]": items)."""
    node = resolve_ref(node, SCHEMA)
    if "properties" in node:
        yield where
        for key, sub in node["properties"].items():
            yield from _objects(sub, (*where, key))
    if isinstance(node.get("items"), dict):
        yield from _objects(node["items"], (*where, "[]"))


def test_every_schema_object_has_a_dataclass_and_no_more():
    assert set(_objects()) == set(SECTIONS)


@pytest.mark.parametrize("path", list(SECTIONS), ids=[".".join(p) or "spec" for p in SECTIONS])
def test_dataclass_fields_are_exactly_the_schema_properties(path):
    fields = [f.name for f in dataclasses.fields(SECTIONS[path])]
    assert fields == list(_node(path)["properties"])


@pytest.mark.parametrize("spec_file", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_spec_types_and_is_frozen(spec_file):
    spec = load_spec(spec_file, check_data=False)
    typed = typed_spec(spec.values)
    assert typed == spec.typed
    with pytest.raises(dataclasses.FrozenInstanceError):
        typed.training.seed = 1  # type: ignore[misc]
    assert isinstance(typed.acceptance, tuple) and isinstance(typed.data.sensitive, tuple)
    with pytest.raises(TypeError):
        typed.data.types["x"] = "numeric"  # type: ignore[index]


def test_a_section_takes_its_defaults_from_the_schema():
    prep = section(("data", "preprocessing"), outliers="drop")
    assert prep.outliers == "drop"
    assert prep.missing == _node(("data", "preprocessing"))["properties"]["missing"]["default"]
