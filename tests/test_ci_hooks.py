"""The CI pieces run as users run them, offline: the auditor-validate hook of
.pre-commit-hooks.yaml through pre-commit itself, and the GitHub Actions workflow of
docs/ci/github-actions.yml as one job: its run: steps executed in order, and each uses:
step stood in for by a check of what the action does (tests/ci_runner.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.api.tiny import tiny_spec
from tests.ci_runner import Job, run_steps

REPO = Path(__file__).resolve().parents[1]
GOOD = tiny_spec("data/train.csv")
BAD = """\
version: 1
name: bad-spec
objectiv:
  task: binary
data:
  train: data/train.csv
acceptance:
  - metric: roc_auc
    at_least: high
"""
WORSE = """\
version: 1
name: worse-spec
objective: {task: binary, target: y, positive: 1, purpose: Rank.}
data: {train: data/train.csv}
acceptance:
  - {metric: roc_auc, at_least: 0.7}
  - {metric: f1, at_least: 0.8, severity: blocker}
"""


def _git(cwd: Path, *args: str, env: dict) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture()
def env(tmp_path) -> dict:
    """An environment whose `auditor` is this checkout's, run by this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "auditor"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m auditor "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    environ.update(
        PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONPATH=str(REPO),
        HOME=str(tmp_path),
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return environ


def _repo_with_specs(root: Path, env: dict) -> Path:
    project = root / "project"
    (project / "specs").mkdir(parents=True)
    (project / "notes").mkdir()
    (project / "specs" / "good.yaml").write_text(json.dumps(GOOD, indent=1), encoding="utf-8")
    (project / "specs" / "bad.yaml").write_text(BAD, encoding="utf-8")
    (project / "specs" / "worse.yml").write_text(WORSE, encoding="utf-8")
    (project / "notes" / "other.yaml").write_text("not: [a spec\n", encoding="utf-8")
    _git(project, "init", "-q", "-b", "main", env=env)
    return project


# --------------------------------------------------------------------------- pre-commit
def test_the_hook_runs_through_pre_commit_and_reports_every_located_error(tmp_path, env):
    hooks = tmp_path / "hooks"  # this repository's manifest, as pre-commit clones it
    hooks.mkdir()
    shutil.copy(REPO / ".pre-commit-hooks.yaml", hooks / ".pre-commit-hooks.yaml")
    _git(hooks, "init", "-q", "-b", "main", env=env)
    _git(hooks, "add", ".", env=env)
    _git(hooks, "commit", "-qm", "hooks", env=env)
    rev = _git(hooks, "rev-parse", "HEAD", env=env)
    project = _repo_with_specs(tmp_path, env)
    config = {"repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "auditor-validate"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(project, "add", ".", env=env)

    def pre_commit(*files: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files", *files]
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)

    every = ["specs/good.yaml", "specs/bad.yaml", "specs/worse.yml", "notes/other.yaml"]
    failed = pre_commit(*every)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert "specs/bad.yaml:3:1: objectiv: unknown key 'objectiv' (did you mean 'objective'?)" in out
    assert "specs/bad.yaml:9:15: acceptance[0].at_least: must be " in out
    assert "specs/worse.yml:7:43: acceptance[1].severity: must be one of blocking, advisory" in out
    assert "notes/other.yaml" not in out  # not a spec: the hook's files pattern leaves it out
    assert "specs/good.yaml: valid (binary, 3 criteria)" in out

    passed = pre_commit("specs/good.yaml", "notes/other.yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "auditor validate" in passed.stdout and "Passed" in passed.stdout


def test_validate_several_specs_reports_each_and_exits_with_the_first_failure(tmp_path, env):
    project = _repo_with_specs(tmp_path, env)
    command = ["auditor", "validate", "--no-data", "specs/bad.yaml", "specs/good.yaml"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == "specs/good.yaml: valid (binary, 3 criteria)\n"
    assert done.stderr.splitlines()[0].startswith("specs/bad.yaml:3:1: objectiv: unknown key")
    assert len(done.stderr.splitlines()) == 2  # both errors of bad.yaml, one line each


def test_the_bundled_specs_pass_the_hook_as_committed():
    specs = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.yaml"))
    command = [sys.executable, "-m", "auditor", "validate", "--no-data", *specs]
    environ = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's auditor
    done = subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(specs)


# --------------------------------------------------------------------------- the workflow
WORKFLOW = REPO / "docs" / "ci" / "github-actions.yml"


def _venv_with_this_checkout(root: Path) -> Path:
    """A virtual environment whose dependencies are this interpreter's (linked, never
    changed) and which has no auditor yet: the workflow's install step installs it."""
    import site

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    linked = root / "deps"
    linked.mkdir()
    for folder in site.getsitepackages():
        for entry in Path(folder).iterdir():
            if "auditor" in entry.name or entry.name.endswith(".pth"):
                continue  # the editable auditor of this environment stays out
            if not (linked / entry.name).exists():
                (linked / entry.name).symlink_to(entry)
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    (purelib / "deps.pth").write_text(f"{linked}\n", encoding="utf-8")
    return venv


def _source_copy(root: Path) -> Path:
    """What a wheel of auditor is built from: the package, its schemas, its metadata."""
    source = root / "auditor-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "schemas", source / "schemas")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "auditor", source / "auditor", symlinks=True, ignore=ignore)
    return source


def _audited_repo(root: Path, env: dict) -> Path:
    """The repository actions/checkout clones, on a pull request's branch: biased.yaml
    (NOT READY: the planted bias) and a YAML file outside specs/ added, old.yaml (invalid,
    on main from before the hook) left alone."""
    import skops.io as sio

    from tests.api.tiny import tiny_frame, tiny_model

    project = root / "origin"
    for folder in ("specs", "data", "models"):
        (project / folder).mkdir(parents=True)
    frame = tiny_frame()
    frame.to_csv(project / "data" / "train.csv", index=False)
    sio.dump(tiny_model(frame), project / "models" / "scorer.skops")
    (project / "specs" / "old.yaml").write_text(BAD, encoding="utf-8")
    _git(project, "init", "-q", "-b", "main", env=env)
    _git(project, "add", ".", env=env)
    _git(project, "commit", "-qm", "main", env=env)
    _git(project, "switch", "-q", "-c", "feature", env=env)
    spec = tiny_spec("../data/train.csv")
    spec.update(name="biased")
    spec["model"] = {"vendor": {"format": "skops", "path": "../models/scorer.skops"}}
    (project / "specs" / "biased.yaml").write_text(json.dumps(spec, indent=1), "utf-8")
    (project / "data" / "notes.yaml").write_text("changed: not a spec\n", "utf-8")
    _git(project, "add", ".", env=env)
    _git(project, "commit", "-qm", "two specs", env=env)
    return project


def _job(
    tmp_path: Path, env: dict, workflow: dict, *, base_ref: str | None, install: bool = True
) -> Job:
    """A runner's job for the workflow: its env and contexts, and where it works."""
    runner = tmp_path / "runner"
    runner.mkdir(exist_ok=True)
    contexts = {"matrix": {}, "inputs": {}}  # the workflow has no matrix and no inputs
    contexts["github"] = {"base_ref": base_ref or "", "workspace": str(tmp_path / "workspace")}
    contexts["env"] = {k: str(v) for k, v in workflow["env"].items()}
    job_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}  # the installed auditor
    job_env.update(contexts["env"])
    job_env.update(
        PATH=f"/usr/bin{os.pathsep}/bin",  # setup-python puts the venv first
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's inverted spelling of --no-build-isolation
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        RUNNER_TEMP=str(runner),
        GITHUB_STEP_SUMMARY=str(runner / "summary.md"),
        GITHUB_WORKSPACE=contexts["github"]["workspace"],
    )
    if install:
        job_env["AUDITOR_REQUIREMENT"] = str(_source_copy(tmp_path))  # this checkout, offline
    if base_ref is not None:
        job_env["GITHUB_BASE_REF"] = base_ref
    return Job(
        origin=tmp_path / "origin",
        workspace=tmp_path / "workspace",
        env=job_env,
        contexts=contexts,
        venv=tmp_path / "venv",
        repo=REPO,
        logs=tmp_path / "logs",
    )


def test_the_workflow_steps_run_as_a_job(tmp_path, env):
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (steps,) = [j["steps"] for j in workflow["jobs"].values()]
    _venv_with_this_checkout(tmp_path)
    _audited_repo(tmp_path, env)
    job = _job(tmp_path, env, workflow, base_ref="main")
    codes = run_steps(steps, job)
    logs = "\n".join(p.read_text() for p in sorted(job.logs.glob("*.log")))
    assert codes == {
        "actions/checkout@v4": 0,  # a full clone: origin/main is there for the diff
        "actions/setup-python@v5": 0,  # 3.11 is supported; python is the test's venv
        "Install auditor": 0,
        "List the specs to check": 0,
        "Validate the specs": 0,
        "Audit": 1,  # biased.yaml is NOT READY: the job fails
        "Upload the reports": 0,  # if: always()
        "Show the criteria as tests": 0,
    }, logs
    assert "auditor 0.1.0" in logs
    runner = tmp_path / "runner"
    specs = (runner / "specs.txt").read_text().split()
    assert specs == ["specs/biased.yaml"]  # not old.yaml (unchanged), not data/notes.yaml
    assert (runner / "summary.md").read_text() == "- `specs/biased.yaml`: exit code 1\n"
    folder = job.workspace / "audit" / "biased"
    assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    uploaded = job.found["upload-artifact"]["audit-reports"]
    assert {"report.pdf", "report.html", "results.json", "junit.xml"} <= {p.name for p in uploaded}
    report = job.found["junit-report"]
    assert report["check_name"] == "acceptance criteria"
    (suite,) = report["suites"]
    assert suite.name == "biased" and (suite.tests, suite.failures) == (3, 2)
    cases = {case.name: [type(r).__name__ for r in case.result] for case in suite}
    assert sorted(map(sorted, cases.values())) == [[], ["Failure"], ["Failure"]], cases

    # a push: every spec is validated, and the invalid old one stops the job there
    job = _job(tmp_path, env, workflow, base_ref=None, install=False)
    job.env["PATH"] = f"{tmp_path / 'venv' / 'bin'}{os.pathsep}{job.env['PATH']}"
    steps = [s for s in steps if s.get("name", "").startswith(("List", "Validate"))]
    assert run_steps(steps, job) == {"List the specs to check": 0, "Validate the specs": 2}
    assert (runner / "specs.txt").read_text().split() == ["specs/biased.yaml", "specs/old.yaml"]


def test_a_shallow_checkout_cannot_tell_the_changed_specs(tmp_path, env):
    """fetch-depth matters: with the action's default (1) the base branch is not there,
    and the step that lists a pull request's specs fails, on the runner as here."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (steps,) = [j["steps"] for j in workflow["jobs"].values()]
    _audited_repo(tmp_path, env)
    job = _job(tmp_path, env, workflow, base_ref="main", install=False)
    shallow = [
        {"uses": "actions/checkout@v4"},
        next(s for s in steps if "List" in s.get("name", "")),
    ]
    assert run_steps(shallow, job) == {"actions/checkout@v4": 0, "List the specs to check": 128}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"uses": "actions/cache@v4"}, "no stand-in for this action"),
        ({"uses": "actions/checkout@v4", "with": {"submodules": True}}, "unknown to its stand-in"),
        ({"run": "echo ${{ secrets.TOKEN }}"}, "secrets.TOKEN }}, which the test's contexts"),
        ({"run": "true", "if": "github.event_name == 'push'"}, "the test knows only"),
        (
            {"uses": "actions/upload-artifact@v4", "with": {"name": "x", "path": "nothing/"}},
            "path 'nothing/' matches nothing",
        ),  # fmt: skip
        (
            {"uses": "mikepenz/action-junit-report@v5", "with": {"report_paths": "**/j.xml"}},
            "finds nothing",
        ),  # fmt: skip
        (
            {"uses": "actions/setup-python@v5", "with": {"python-version": "3.9"}},
            "does not allow",
        ),  # fmt: skip
    ],
)
def test_a_step_the_job_cannot_stand_in_for_fails_the_test(tmp_path, env, step, expected):
    job = _job(tmp_path, env, {"env": {}}, base_ref=None, install=False)
    job.workspace.mkdir()
    with pytest.raises(AssertionError, match=re.escape(expected)):
        run_steps([step], job)
