"""Shared report renders: each fixture report is rendered once per test session."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor.fingerprint import sha256_file
from tests.report.fixtures import make_results

AUDITED_CSV = "id,income,debt_ratio,approved\n" + "".join(
    f"{i},{30000 + 97 * i},{(i * 37 % 100) / 100:.2f},{i % 3 == 0:d}\n" for i in range(200)
)


@dataclass
class Rendered:
    results: dict
    results_path: Path
    out: dict
    html: str
    pdf_text: str  # whitespace-normalised text of every page
    pages: int
    data_file: Path
    model_file: Path


def pdf_text(path: Path) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


# The multiclass report is printed on Letter paper and embeds the canonical results JSON
# (no results file given), so those options are covered without extra renders.
OPTIONS = {
    "binary": {"page_size": "A4", "results_file": True},
    "multiclass": {"page_size": "Letter", "results_file": False},
    "regression": {"page_size": "A4", "results_file": True},
}


def _render(tmp: Path, task: str, **kw) -> Rendered:
    from auditor.report import render_report

    tmp.mkdir(parents=True, exist_ok=True)
    data_file = tmp / "loans.csv"
    data_file.write_text(AUDITED_CSV)
    model_file = tmp / "model.safetensors"
    model_file.write_bytes(b"\x00weights\x01" * 64)
    results = make_results(
        task,
        source_hashes={"train": sha256_file(data_file)},
        model_files={"model.safetensors": sha256_file(model_file)},
        **kw,
    )
    results["spec"]["report"]["page_size"] = OPTIONS[task]["page_size"]
    results_path = tmp / "results.json"
    # written differently from the canonical form, to prove the exact bytes are embedded
    results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    out = render_report(
        results, tmp / "out", results_path=results_path if OPTIONS[task]["results_file"] else None
    )
    text, pages = pdf_text(out["pdf"])
    return Rendered(
        results,
        results_path,
        out,
        out["html"].read_text(encoding="utf-8"),
        text,
        pages,
        data_file,
        model_file,
    )


@pytest.fixture(scope="session")
def render_task(tmp_path_factory):
    cache: dict[str, Rendered] = {}

    def get(task: str) -> Rendered:
        if task not in cache:
            cache[task] = _render(tmp_path_factory.mktemp(task), task)
        return cache[task]

    return get


@pytest.fixture(scope="session")
def binary_report(render_task) -> Rendered:
    return render_task("binary")
