"""The report tests' fake results (tests/report/fixtures.py) are valid results.json documents.

The report reads only results.json, so a fixture the real pipeline could never write would
let the report tests pass on input that never occurs. Every task and every option the
report tests pass to ``make_results`` is validated against ``schemas/results.schema.json``
(Draft 2020-12), and the resolved spec inside against ``schemas/spec.schema.json``.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import jsonschema
import pytest

from tests.report.fixtures import make_results

REPO = Path(__file__).resolve().parents[2]
TASKS = ("binary", "multiclass", "regression")

# The keyword arguments the report tests (and tests/test_cli.py, benchmarks/report.py) pass.
N_CHARTS = (None, 0, 1, 2, 40)
VERDICTS = ("NOT READY", "CONDITIONAL", "READY")
PICKLE_LOADED = (False, True)
HASHES = (False, True)  # source_hashes and model_files, as tests/report/conftest.py passes
OPTIONS = list(itertools.product(N_CHARTS, VERDICTS, PICKLE_LOADED, HASHES))


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def results_validator() -> jsonschema.Draft202012Validator:
    return _validator("results.schema.json")


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.Draft202012Validator:
    return _validator("spec.schema.json")


def _errors(validator: jsonschema.Draft202012Validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def _kwargs(n_charts, verdict, pickle_loaded, hashes) -> dict:
    kw: dict = {"verdict": verdict, "n_charts": n_charts, "pickle_loaded": pickle_loaded}
    if hashes:
        kw["source_hashes"] = {"train": "a" * 64}
        kw["model_files"] = {"model.safetensors": "b" * 64}
    return kw


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(
    "n_charts, verdict, pickle_loaded, hashes",
    OPTIONS,
    ids=[f"charts={c}-{v.replace(' ', '_')}-pickle={p}-hashes={h}" for c, v, p, h in OPTIONS],
)
def test_fixture_validates_against_the_results_schema(
    results_validator, spec_validator, task, n_charts, verdict, pickle_loaded, hashes
):
    results = make_results(task, **_kwargs(n_charts, verdict, pickle_loaded, hashes))
    assert _errors(results_validator, results) == []
    assert _errors(spec_validator, results["spec"]) == []
    # outputs.results_json writes it with allow_nan=False: the fixture must be JSON-safe too
    assert json.loads(json.dumps(results, allow_nan=False)) == results
    assert results["data"]["task"] == task and results["verdict"]["status"] == verdict
    assert results["model"]["pickle_loaded"] is pickle_loaded


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_fixture_with_the_report_tests_page_sizes_validates(
    results_validator, spec_validator, task, page_size
):
    """tests/report/conftest.py renders some reports on Letter paper."""
    results = make_results(task)
    results["spec"]["report"]["page_size"] = page_size
    assert _errors(results_validator, results) == []
    assert _errors(spec_validator, results["spec"]) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda r: r["evaluation"].pop("has_scores"),
        lambda r: r["evaluation"].pop("notes"),
        lambda r: r["verdict"].update(status="MAYBE"),
        lambda r: r.update(extra_top_level_key=1),
        lambda r: r["model"].update(kind="homemade"),
    ],
    ids=["no-has_scores", "no-notes", "bad-verdict", "extra-key", "bad-model-kind"],
)
def test_the_schema_check_can_fail(results_validator, break_it):
    """The validation above is not vacuous: a broken fixture document is rejected."""
    results = copy.deepcopy(make_results("binary"))
    break_it(results)
    assert _errors(results_validator, results) != []
