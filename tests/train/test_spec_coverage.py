"""Every engine option is described in the schema, shown in a bundled spec and tested.

The engine's options are the leaves of the schema's ``data``, ``model`` and ``training``
sections (the vendor block, ``model.vendor``, belongs to the vendor audit and is checked
there). For each option and each of its enum values this asserts:

- the schema describes it (an editor shows the description) and gives its default;
- the engine reads it (its name is looked up in auditor/data, auditor/train, auditor/text
  or the example data generators);
- at least one spec in ``specs/`` sets it explicitly, so a reader finds a worked example;
- the data or training tests name it, so an option cannot be added without a test.

The few values that cannot be shown in a bundled spec are listed below with the reason.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "spec.schema.json").read_text())
SECTIONS = ("data", "model", "training")
# the vendor audit's options (the vendor block, the in-house model compared with it): their
# own area and tests (tests/vendor_models, tests/test_compare.py); the fairness reference
# groups are read by the checks (tests/checks/test_fairness_reference.py)
SKIPPED = {
    ("model", "vendor"),
    ("model", "compare"),
    ("data", "reference_groups"),
}

# values no bundled spec shows, and why
NOT_SHOWN: dict[tuple[str, ...], dict[Any, str]] = {
    ("training", "precision"): {
        "fp16": "bf16 is what a bundled GPU spec should show (same speed, no gradient scaling, "
        "no overflow); fp16 is for pre-Ampere GPUs and is tested in test_accelerator_paths "
        "and test_engine.test_mixed_precision_path",
    },
    ("training", "train_on"): {
        "train_and_validation": "the tuning stage writes it (tuning.retrain) into the resolved "
        "spec it trains, with the epoch count it found; test_train_on and "
        "tests/tuning/test_search.py train with it",
    },
    ("data", "text_processing", "truncation"): {
        "drop": "the bundled language model keeps every document (cut); "
        "test_lm.test_truncation_cuts_or_drops_long_documents drops them",
    },
    ("data", "corpus", "format"): {
        "auto": "the default, read from the extension; the bundled corpus says lines, which "
        "a .cor file needs",
    },
    ("training", "device"): {
        "mps": "an Apple-only spec would stop with exit code 2 on every other machine; "
        "device: auto picks MPS where it is present (test_accelerator_paths)",
    },
    ("training", "distributed", "backend"): {
        "gloo": "auto (specs/loan-ddp.yaml) picks gloo on CPUs, so the one spec runs on any "
        "machine; test_distributed trains two torchrun processes with gloo",
        "nccl": "auto picks NCCL on CUDA devices; a spec naming it stops on a CPU-only "
        "machine under torchrun (test_distributed.test_nccl_needs_cuda_devices)",
    },
}
# the schema's device is a pattern, not an enum: these are its values
DEVICE_VALUES = ("auto", "cpu", "cuda", "mps")

# options whose values are tested by a test parametrized over the engine's registry (the
# registries equal the schema's enums: test_registries.test_enums_match_registries)
REGISTRY_TESTS: dict[tuple[str, ...], tuple[str, str]] = {
    ("data", "format"): ("test_sources.py", "test_each_format_round_trips"),
    ("model", "architecture"): ("test_engine.py", "test_each_architecture_and_task"),
    ("model", "activation"): ("test_options.py", "test_each_activation_builds_and_learns"),
    ("training", "optimizer"): ("test_engine.py", "test_every_optimizer_and_schedule_learns"),
    ("training", "schedule", "name"): (
        "test_engine.py",
        "test_every_optimizer_and_schedule_learns",
    ),
}
# the example data generators are tested with the examples (tests/test_examples.py); the
# generated-text columns (data.text) and their generator with the text audit (tests/text)
TEST_FILES = [
    *sorted((REPO / "tests" / "data").glob("test_*.py")),
    *sorted((REPO / "tests" / "train").glob("test_*.py")),
    *sorted((REPO / "tests" / "text").glob("test_*.py")),
    REPO / "tests" / "test_examples.py",
]


REQUIRED: set[tuple[str, ...]] = set()  # options the user must give: no default


def _leaves(node: dict, path: tuple[str, ...]):
    if path in SKIPPED:
        return
    properties = node.get("properties")
    if properties:
        REQUIRED.update((*path, key) for key in node.get("required", []))
        for key, child in properties.items():
            yield from _leaves(child, (*path, key))
    else:
        yield path, node


OPTIONS = [leaf for s in SECTIONS for leaf in _leaves(SCHEMA["properties"][s], (s,))]
IDS = [".".join(p) for p, _ in OPTIONS]


def _values(path: tuple[str, ...], node: dict) -> list[Any]:
    if path == ("training", "device"):
        return list(DEVICE_VALUES)
    return [v for v in node.get("enum", []) if v is not None]


def _specs() -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((REPO / "specs").glob("*.yaml"))]


SPECS = _specs()
_ABSENT = object()


def _get(values: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(values, dict) or key not in values:
            return _ABSENT
        values = values[key]
    return values


def _test_words() -> set[str]:
    """String constants and keyword-argument names in the data and training tests."""
    words: set[str] = set()
    for path in TEST_FILES:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.add(node.value)
            elif isinstance(node, ast.keyword) and node.arg:
                words.add(node.arg)
    return words


WORDS = _test_words()


def _code_words() -> set[str]:
    """What the engine (data, training, the example generators) reads of the typed spec:
    the attributes it reads (``spec.training.epochs``) and its string constants
    (``getattr(data, "include")``)."""
    files = [
        *(REPO / "auditor" / "data").glob("*.py"),
        *(REPO / "auditor" / "train").glob("*.py"),
        *(REPO / "auditor" / "text").glob("*.py"),  # reads data.text
    ]
    words = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                words.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.add(node.value)
    return words


CODE_WORDS = _code_words()


def test_the_walk_finds_the_engine_options():
    assert len(OPTIONS) > 40 and len(SPECS) >= 6
    for expected in ("data.preprocessing.missing", "model.activation", "training.precision"):
        assert expected in IDS
    assert not any(i.startswith("model.vendor") for i in IDS)


@pytest.mark.parametrize("path, node", OPTIONS, ids=IDS)
def test_option_is_described_in_the_schema(path, node):
    assert node.get("description", "").strip(), f"{'.'.join(path)} has no description"
    assert "default" in node or path in REQUIRED, f"{'.'.join(path)} has no default"


@pytest.mark.parametrize("path, node", OPTIONS, ids=IDS)
def test_option_is_read_by_the_engine(path, node):
    """Reachable from the spec: the engine looks the option up by its name."""
    assert path[-1] in CODE_WORDS, f"nothing in auditor/data, train or text reads {path[-1]!r}"


@pytest.mark.parametrize("path, node", OPTIONS, ids=IDS)
def test_option_is_shown_in_a_bundled_spec(path, node):
    shown = [v for v in (_get(s, path) for s in SPECS) if v is not _ABSENT]
    assert shown, f"no spec in specs/ sets {'.'.join(path)}"
    exceptions = NOT_SHOWN.get(path, {})
    values = _values(path, node)
    if values:  # an enum: the bundled specs show exactly its values, bar the exceptions
        shown_values = {v for v in shown if v is not None}
        expected = set(values) - set(exceptions)
        assert shown_values == expected, (
            f"{'.'.join(path)}: no spec in specs/ shows {sorted(expected - shown_values)}; "
            f"specs show values the list lacks: {sorted(shown_values - expected)}"
        )
    for value in exceptions:  # an exception that is shown after all must leave the list
        assert value not in shown, f"{'.'.join(path)}: {value!r} is shown now; drop the exception"


@pytest.mark.parametrize("path, node", OPTIONS, ids=IDS)
def test_option_and_each_value_is_named_in_a_test(path, node):
    assert path[-1] in WORDS, f"no data/training test sets {'.'.join(path)}"
    if path in REGISTRY_TESTS:
        filename, test = REGISTRY_TESTS[path]
        source = next(p for p in TEST_FILES if p.name == filename).read_text()
        assert f"def {test}(" in source, f"{filename} lost {test}"
        return
    untested = [v for v in _values(path, node) if isinstance(v, str) and v not in WORDS]
    assert not untested, f"{'.'.join(path)}: no data/training test uses {untested}"
