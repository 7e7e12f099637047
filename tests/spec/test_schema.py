"""The schema itself, its defaults, the bundled specs, and the resolved-spec round trip."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from auditor.spec import (
    SCHEMA_PATH,
    apply_defaults,
    dump_spec,
    load_schema,
    load_spec,
    schema_ref_for,
)
from auditor.spec.defaults import iter_defaults
from auditor.spec.schema import resolve_ref, schema_default
from auditor.spec.yamlio import parse_yaml
from tests.spec.specdata import BASE

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "specs").glob("*.yaml"))


def test_schema_file_is_found_from_the_package():
    # the package's schemas/ links to the top-level schemas/ (and ships inside the wheel)
    assert SCHEMA_PATH.resolve() == (REPO / "schemas" / "spec.schema.json").resolve()
    assert SCHEMA_PATH.parent.parent == REPO / "auditor"
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(load_schema())


def test_load_schema_returns_a_fresh_copy():
    first = load_schema()
    first["properties"].clear()
    assert load_schema()["properties"]


DEFAULTS = list(iter_defaults())


@pytest.mark.parametrize("where, subschema, default", DEFAULTS, ids=[d[0] for d in DEFAULTS])
def test_each_default_validates_against_its_own_subschema(where, subschema, default):
    root = load_schema()
    standalone = {**subschema, "$defs": root["$defs"]}
    errors = list(Draft202012Validator(standalone).iter_errors(default))
    assert not errors, f"{where}: default {default!r} is invalid: {errors[0].message}"


def _walk_properties(schema, root, where=""):
    schema = resolve_ref(schema, root)
    any_of_keys = set()
    for part in schema.get("allOf", []):
        for option in part.get("anyOf", []):
            any_of_keys.update(option.get("required", []))
    for key, sub in schema.get("properties", {}).items():
        yield (
            f"{where}.{key}" if where else key,
            resolve_ref(sub, root),
            (key in schema.get("required", []) or key in any_of_keys),
        )
        yield from _walk_properties(sub, root, f"{where}.{key}" if where else key)
    if isinstance(schema.get("items"), dict):
        yield from _walk_properties(schema["items"], root, f"{where}[]")


PROPERTIES = list(_walk_properties(load_schema(), load_schema()))


@pytest.mark.parametrize("where, subschema, required", PROPERTIES, ids=[p[0] for p in PROPERTIES])
def test_every_field_is_documented_and_every_optional_one_has_aschema_default(
    where, subschema, required
):
    assert subschema.get("description"), f"{where} has no description"
    if not required:
        assert "default" in subschema, f"optional field {where} has no default"


def test_every_object_refuses_unknown_keys():
    root = load_schema()
    assert root["additionalProperties"] is False
    for where, subschema, _ in PROPERTIES:
        if "properties" in subschema:
            assert subschema.get("additionalProperties") is False, where


def test_bundled_specs_exist():
    assert SPECS, "specs/ must hold at least one example spec"


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_every_bundled_spec_validates_with_its_data(path: Path):
    spec = load_spec(path, check_data=True)
    assert spec.values["version"] == 1
    assert spec.positions[("objective", "task")][0] > 0


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_resolved_spec_round_trips(path: Path, tmp_path: Path):
    resolved = load_spec(path, check_data=False).values
    text = dump_spec(resolved)
    assert text.startswith("# yaml-language-server: $schema=")
    copy_path = tmp_path / path.name
    copy_path.write_text(text, encoding="utf-8")
    again = load_spec(copy_path, check_data=False).values
    assert again == resolved
    assert dump_spec(again) == text


def test_resolved_minimal_spec_round_trips(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE, encoding="utf-8")
    resolved = load_spec(path, check_data=False).values
    path.write_text(dump_spec(resolved, schema_ref=schema_ref_for(path)), encoding="utf-8")
    assert load_spec(path, check_data=False).values == resolved


def test_schema_ref_for_points_at_the_schema(tmp_path: Path):
    spec = REPO / "specs" / "x.yaml"
    assert schema_ref_for(spec) == "../schemas/spec.schema.json"
    assert (spec.parent / schema_ref_for(spec)).resolve() == SCHEMA_PATH.resolve()


def test_dump_follows_the_schema_order():
    values = apply_defaults(parse_yaml(BASE).values)
    shuffled = dict(reversed(list(values.items())))
    text = dump_spec(shuffled)
    top = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert top[:4] == ["version", "name", "objective", "data"]


# --------------------------------------------------------------------------- defaults
def test_defaults_fill_nested_sections_and_criteria():
    values = apply_defaults(parse_yaml(BASE).values)
    assert values["training"]["early_stopping"]["patience"] == schema_default(
        "training", "early_stopping", "patience"
    )
    assert values["data"]["split"]["strategy"] == schema_default("data", "split", "strategy")
    assert values["evaluation"]["threshold"]["value"] == schema_default(
        "evaluation", "threshold", "value"
    )
    criterion = values["acceptance"][0]
    assert criterion["split"] == "test" and criterion["severity"] == "blocking"
    assert criterion["require"] == "point" and criterion["waiver"] is None
    assert "at_most" not in criterion  # no default: the criterion has only its own bound
    assert values["model"]["vendor"] is None
    assert values["data"]["generate"] is None
    errors = list(Draft202012Validator(load_schema()).iter_errors(values))
    assert not errors, errors[0].message


def test_defaults_recurse_into_objects_given_by_the_user():
    raw = parse_yaml(BASE + "model:\n  vendor: {format: onnx, path: m.onnx}\n").values
    raw["data"]["generate"] = {"example": "loan"}
    values = apply_defaults(raw)
    assert values["model"]["vendor"]["input"] == "raw"
    assert values["model"]["vendor"]["allow_pickle"] is False
    assert values["data"]["generate"] == {"example": "loan", "rows": 6000, "seed": 7}


def test_defaults_never_override_and_are_idempotent():
    raw = parse_yaml(BASE + "training: {epochs: 3, early_stopping: {patience: 9}}\n").values
    before = copy.deepcopy(raw)
    values = apply_defaults(raw)
    assert raw == before  # the input is not modified
    assert values["training"]["epochs"] == 3
    assert values["training"]["early_stopping"]["patience"] == 9
    assert apply_defaults(values) == values


def test_defaults_are_copies():
    a = apply_defaults(parse_yaml(BASE).values)
    a["data"]["include"].append("x")
    b = apply_defaults(parse_yaml(BASE).values)
    assert b["data"]["include"] == []
