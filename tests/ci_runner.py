"""A GitHub Actions job run locally and offline, for the workflow of docs/ci/github-actions.yml.

``run:`` steps run as the runner runs them (``bash -e -o pipefail``, the step's and the
workflow's env, ``if:`` conditions). Each ``uses:`` step is stood in for by a local check
of what the action would do, from the table :data:`STAND_INS`:

- ``actions/checkout``: the repository cloned into the workspace, with ``fetch-depth``
  commits (0: all history and branches, as the action fetches them; else a shallow clone
  of the one branch), so a step that needs the base branch fails here when it would there;
- ``actions/setup-python``: ``python-version`` must be one the project supports
  (pyproject's ``requires-python``), and the job's ``python`` is then the test's virtual
  environment (this interpreter's version, whichever the workflow names);
- ``actions/upload-artifact``: every ``path:`` it names, as globs in the workspace, exists
  after the steps before it and is not empty;
- ``mikepenz/action-junit-report``: ``report_paths`` globbed and every file parsed with
  junitparser; the suites are kept for the test to assert its cases.

A ``uses:`` the table does not know fails the test (so a new step cannot go untested), and
so does a ``with:`` key its stand-in does not know. ``${{ }}`` expressions are resolved
from a table of contexts as the runner would (``env``, ``matrix``, ``inputs``, ``github``),
and any other expression fails the test too.
"""

from __future__ import annotations

import glob
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITIONS = ("success()", "always()", "failure()", "cancelled()")


@dataclass
class Job:
    """One job's state: where it runs, its environment, and what the stand-ins found."""

    origin: Path  # the repository actions/checkout clones
    workspace: Path  # GITHUB_WORKSPACE: every step's working folder
    env: dict[str, str]  # the process environment of every step
    contexts: dict[str, dict[str, str]]  # env, matrix, inputs, github: for ${{ }}
    venv: Path  # the Python environment actions/setup-python stands for
    repo: Path  # this checkout (pyproject.toml)
    logs: Path
    codes: dict[str, int | None] = field(default_factory=dict)
    found: dict[str, Any] = field(default_factory=dict)  # action -> what its stand-in saw


def resolve(value: Any, contexts: dict[str, dict[str, str]]) -> Any:
    """``value`` with every ``${{ context.name }}`` replaced (strings inside lists and
    mappings too); an expression the table cannot resolve fails."""
    if isinstance(value, dict):
        return {k: resolve(v, contexts) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, contexts) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        context, _, name = match.group(1).partition(".")
        table = contexts.get(context)
        assert table is not None and name in table, (
            f"the workflow uses ${{{{ {match.group(1)} }}}}, which the test's contexts "
            f"({', '.join(sorted(contexts))}) do not resolve: add it to the table"
        )
        return str(table[name])

    return EXPRESSION.sub(one, value)


def should_run(step: dict, failed: bool) -> bool:
    """The step's ``if:`` (default ``success()``) after the steps before it."""
    condition = str(step.get("if", "success()")).strip()
    match = EXPRESSION.fullmatch(condition)
    condition = match.group(1) if match else condition
    assert condition in CONDITIONS, f"if: {condition}: the test knows only {CONDITIONS}"
    return {
        "success()": not failed,
        "always()": True,
        "failure()": failed,
        "cancelled()": False,
    }[condition]


def run_steps(steps: list[dict], job: Job) -> dict[str, int | None]:
    """Every step in order; step name -> exit code (``uses:`` steps that ran: 0)."""
    failed = False
    for step in steps:
        if not should_run(step, failed):
            continue
        name = step.get("name") or step.get("uses")
        step_env = {k: str(v) for k, v in resolve(step.get("env") or {}, job.contexts).items()}
        if "uses" in step:
            action, _, _version = step["uses"].partition("@")
            assert action in STAND_INS, (
                f"uses: {step['uses']}: no stand-in for this action in tests/ci_runner.py "
                f"(known: {', '.join(sorted(STAND_INS))}); add one that checks what it does"
            )
            keys, stand_in = STAND_INS[action]
            given = resolve(step.get("with") or {}, job.contexts)
            unknown = sorted(set(given) - set(keys))
            assert not unknown, f"uses: {step['uses']}: with: {unknown} unknown to its stand-in"
            stand_in(given, job)
            job.codes[name] = 0
            continue
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", resolve(step["run"], job.contexts)],
            cwd=job.workspace,
            env={**job.env, **step_env},
            capture_output=True,
            text=True,
        )
        job.codes[name] = done.returncode
        job.logs.mkdir(exist_ok=True)
        (job.logs / f"{len(job.codes):02d}.log").write_text(done.stdout + done.stderr)
        failed = failed or done.returncode != 0
    return job.codes


# --------------------------------------------------------------------------- stand-ins
def checkout(given: dict, job: Job) -> None:
    """actions/checkout: the repository cloned into the workspace."""
    depth = int(given.get("fetch-depth", 1))
    source = f"file://{job.origin}"  # a real transfer, as from a remote (depth applies)
    command = ["git", "clone", "-q", *([] if depth == 0 else ["--depth", str(depth)])]
    done = subprocess.run(
        [*command, source, str(job.workspace)], env=job.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    job.found["checkout"] = {"depth": depth}


def setup_python(given: dict, job: Job) -> None:
    """actions/setup-python: a supported version; the job's python is the test's venv."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    with open(job.repo / "pyproject.toml", "rb") as file:
        supported = SpecifierSet(tomllib.load(file)["project"]["requires-python"])
    version = str(given["python-version"])
    assert Version(version) in supported, (
        f"setup-python installs Python {version}, which pyproject's requires-python "
        f"({supported}) does not allow"
    )
    assert given.get("cache") in (None, "pip"), given["cache"]  # pip's cache: nothing offline
    job.env["PATH"] = f"{job.venv / 'bin'}:{job.env['PATH']}"
    job.found["setup-python"] = {"version": version}


def upload_artifact(given: dict, job: Job) -> None:
    """actions/upload-artifact: every path it names exists and is not empty."""
    paths = [p.strip() for p in str(given["path"]).splitlines() if p.strip()]
    files: list[Path] = []
    for pattern in paths:
        matches = [Path(p) for p in glob.glob(str(job.workspace / pattern), recursive=True)]
        assert matches, f"upload-artifact: path {pattern!r} matches nothing in the workspace"
        for match in matches:
            inside = [match] if match.is_file() else [p for p in match.rglob("*") if p.is_file()]
            assert any(p.stat().st_size for p in inside), f"upload-artifact: {match} is empty"
            files.extend(inside)
    job.found.setdefault("upload-artifact", {})[given["name"]] = sorted(files)


def junit_report(given: dict, job: Job) -> None:
    """mikepenz/action-junit-report: every report file its glob finds, parsed."""
    import junitparser

    pattern = str(job.workspace / str(given["report_paths"]))
    reports = sorted(glob.glob(pattern, recursive=True))
    assert reports, f"action-junit-report: report_paths {given['report_paths']!r} finds nothing"
    suites = []
    for report in reports:
        parsed = junitparser.JUnitXml.fromfile(report)
        suites.extend([parsed] if isinstance(parsed, junitparser.TestSuite) else list(parsed))
    job.found["junit-report"] = {"check_name": given.get("check_name"), "suites": suites}


#: action (``owner/name``, any version) -> (the ``with:`` keys it understands, its stand-in)
STAND_INS: dict[str, tuple[tuple[str, ...], Callable[[dict, Job], None]]] = {
    "actions/checkout": (("fetch-depth",), checkout),
    "actions/setup-python": (("python-version", "cache"), setup_python),
    "actions/upload-artifact": (("name", "path", "if-no-files-found"), upload_artifact),
    "mikepenz/action-junit-report": (("report_paths", "check_name"), junit_report),
}
