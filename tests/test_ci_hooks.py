"""The CI pieces run as users run them, offline: the auditor-validate hook of
.pre-commit-hooks.yaml through pre-commit itself, and the GitHub Actions workflow of
docs/ci/github-actions.yml, its run: steps extracted and executed in order as one job."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.api.tiny import tiny_spec

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
