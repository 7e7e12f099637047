"""The safe YAML reader and writer: YAML 1.2 scalars, positions, limits, round trips."""

from __future__ import annotations

import math
import time

import pytest

from auditor.errors import SpecError
from auditor.spec import yamlio
from auditor.spec.yamlio import (
    MAX_DEPTH,
    MAX_NODES,
    MSG_DUPLICATE,
    MSG_RECURSIVE,
    MSG_TOO_DEEP,
    MSG_TOO_MANY_NODES,
    dump_yaml,
    parse_yaml,
    scalar_text,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("Yes", "Yes"),
        ("NO", "NO"),
        ("true", True),
        ("false", False),
        ("True", True),
        ("FALSE", False),
        ("tRuE", True),
        ("2024-01-31", "2024-01-31"),
        ("2024-01-31 10:00:00", "2024-01-31 10:00:00"),
        ("1", 1),
        ("-7", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("1:20", "1:20"),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
        ("-.inf", -math.inf),
        ("~", None),
        ("null", None),
        ("", None),
        ("'yes'", "yes"),
        ('"1"', "1"),
        ("!!str 1", "1"),
        ("!!int '7'", 7),
        ("!!float 1", 1.0),
        ("!!bool true", True),
    ],
)
def test_yaml_12_core_scalars(text, expected):
    value = parse_yaml(f"key: {text}\n").values["key"]
    assert value == expected and type(value) is type(expected)


def test_nan_is_a_float():
    assert math.isnan(parse_yaml("a: .nan\n").values["a"])


def test_positions_of_keys_and_values():
    text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n"
    doc = parse_yaml(text)
    assert doc.values == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}]}}
    assert doc.positions[("a",)] == (1, 4)
    assert doc.positions[("b",)] == (2, 1)  # a block mapping points at its key
    assert doc.positions[("b", "c")] == (3, 6)  # a flow list points at its '['
    assert doc.positions[("b", "c", 1)] == (3, 10)
    assert doc.positions[("b", "d", 0)] == (5, 7)
    assert doc.positions[("b", "d", 0, "e")] == (5, 10)
    assert doc.key_positions[("b", "d", 0, "e")] == (5, 7)


def test_numeric_keys_are_text():
    assert parse_yaml("types: {2019: numeric, true: categorical}\n").values == {
        "types": {"2019": "numeric", "true": "categorical"}
    }


def test_duplicate_keys_name_both_lines():
    with pytest.raises(SpecError) as info:
        parse_yaml("a: 1\nb:\n  x: 1\n  x: 2\n", file="s.yaml")
    assert str(info.value) == "s.yaml:4:3: b.x: " + MSG_DUPLICATE.format(key="x", first=3, second=4)


def test_merge_keys_are_supported_without_shadowing():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    assert doc.values["d"] == {"y": 3, "x": 1}
    assert doc.positions[("d", "x")] == (1, 14)


def test_alias_bomb_is_counted_not_expanded(monkeypatch):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghijklmnopqrstuvwxyz":  # 9**26 nodes if expanded
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    built: list[tuple] = []
    real_build = yamlio._build

    def spy_build(node, path, doc):
        built.append(path)
        return real_build(node, path, doc)

    monkeypatch.setattr(yamlio, "_build", spy_build)
    cpu_start = time.process_time()  # CPU time of this process, not the wall clock
    with pytest.raises(SpecError) as info:
        parse_yaml("\n".join(lines))
    cpu = time.process_time() - cpu_start
    assert info.value.message == MSG_TOO_MANY_NODES.format(limit=MAX_NODES)
    assert built == [], "counted, never expanded: no value of the document was built"
    assert cpu < 0.5, f"refusing the bomb used {cpu:.3f} s of CPU"  # a few ms in practice


def test_aliases_within_the_limit_are_expanded_as_copies():
    doc = parse_yaml("a: &x {k: [1, 2]}\nb: *x\n")
    assert doc.values["a"] == doc.values["b"]
    assert doc.values["a"] is not doc.values["b"]


def test_recursive_alias():
    with pytest.raises(SpecError) as info:
        parse_yaml("a: &r [1, *r]\n")
    assert info.value.message == MSG_RECURSIVE


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_deep_nesting_is_refused(depth):
    with pytest.raises(SpecError) as info:
        parse_yaml("a: " + "[" * depth + "]" * depth + "\n")
    assert info.value.message == MSG_TOO_DEEP.format(limit=MAX_DEPTH)


def test_nesting_within_the_limit_is_fine():
    depth = MAX_DEPTH - 2
    value = parse_yaml("a: " + "[" * depth + "]" * depth + "\n").values["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_deep_nesting_through_aliases_is_refused():
    inner = "[" * 40 + "]" * 40
    text = f"a: &a {inner}\nb: " + "[" * 40 + "*a" + "]" * 40 + "\n"
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    assert info.value.message == MSG_TOO_DEEP.format(limit=MAX_DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/name:os.system ''\n",
        "a: !!set {x}\n",
        "a: !!omap [{x: 1}]\n",
        "a: !!timestamp 2024-01-01\n",
        "!!python/tuple [1, 2]\n",
        "a: !Ref x\n",
        "? !!python/object:x {}\n: 1\n",
    ],
)
def test_tags_that_build_objects_are_refused(text):
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    assert "is not allowed" in info.value.message


VALUES = {
    "strings": [
        "yes",
        "no",
        "on",
        "off",
        "true",
        "null",
        "~",
        "1e3",
        "0o17",
        "0x1f",
        "1_000",
        "2024-01-31",
        "1:20",
        ".inf",
        "",
        " padded ",
        "a: b",
        "# hash",
        "- dash",
        "multi\nline",
        "'quoted'",
        "ünïcödé",
        "@at",
        "`tick`",
        "%pct",
    ],
    "numbers": [0, -1, 10**12, 0.5, 1e-05, 1.0, -0.0, 123456.789, math.inf],
    "others": [True, False, None, [], {}, [[1, 2], {"a": None}]],
    "nested": {"k": {"deeper": [{"x": 1, "y": ["a", "b"]}]}},
}


def test_dump_round_trips_every_tricky_value():
    text = dump_yaml(VALUES)
    assert parse_yaml(text).values == VALUES


@pytest.mark.parametrize("value", VALUES["strings"] + VALUES["numbers"] + [True, None])
def test_scalar_text_reads_back(value):
    assert parse_yaml(f"a: {scalar_text(value)}\n").values["a"] == value


def test_huge_documents_stop_early(monkeypatch):
    from auditor.spec.yamlio import MAX_BYTES, MAX_VALUES, MSG_TOO_MANY_VALUES

    text = "a: [" + "1," * (MAX_BYTES // 2 - 10) + "]\n"  # about 524,000 values
    composers: list[yamlio.SpecComposer] = []

    class Spy(yamlio.SpecComposer):
        def __init__(self, stream):
            super().__init__(stream)
            composers.append(self)

    monkeypatch.setattr(yamlio, "SpecComposer", Spy)
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    assert info.value.message == MSG_TOO_MANY_VALUES.format(limit=MAX_VALUES)
    assert info.value.location.line == 1
    # Stopped early: the reader had consumed only the first ~MAX_VALUES values (two
    # characters each), not the whole file, and the error points there, not at the end.
    (composer,) = composers
    assert 2 * MAX_VALUES <= composer.index < 2 * MAX_VALUES + 1000 < len(text) // 5
    assert 2 * MAX_VALUES - 10 <= info.value.location.column <= 2 * MAX_VALUES + 10
