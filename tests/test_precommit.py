"""The pre-commit hooks, run by the real ``pre-commit try-repo`` in its isolated environment.

pre-commit installs this repository into a fresh virtualenv with only its dependencies
(kedro, networkx, click, ruamel.yaml) — no pandas, no scikit-learn — so the examples' node
modules can only be imported through lite import. ``try-repo`` builds that environment
afresh on every call (it needs PyPI, ~10 s), so each project gets one call running both hooks:
``kedro-ml-lint`` then ``kedro-ml-lint-fix``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, CliRun
from ruamel.yaml import YAML
from test_readme import blocks

import kedro_ml_lint

HOOKS = REPO / ".pre-commit-hooks.yaml"
CI_DOC = REPO / "docs/ci.md"
RELEASE_TAG = f"v{kedro_ml_lint.__version__}"
PLACEHOLDER_URL = "git+https://github.com/<org>/kedro-ml-lint"
VIOLATION_LINE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<code>KML\d{3}) ", re.M
)


def git(*args: str, cwd: Path) -> str:
    command = ["git", "-c", "user.name=kedro-ml-lint", "-c", "user.email=ci@example.invalid"]
    proc = subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a one-commit repository.

    ``try-repo`` on the real checkout would use HEAD plus changes to *tracked* files only;
    a snapshot tests exactly the files on disk, committed or not.
    """
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listing = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO)
    for relative in filter(None, listing.split("\0")):
        source = REPO / relative
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = snapshot / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-q", "-m", "snapshot", cwd=snapshot)
    # Tagged as a release is: the docs' `repo: local` form pins `…@v<version>`.
    git("tag", "-a", RELEASE_TAG, "-m", RELEASE_TAG, cwd=snapshot)
    return snapshot


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def project_repo(example, name: str) -> Path:
    root = example(name)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "project", cwd=root)
    return root


def _pre_commit_env(home: Path) -> dict[str, str]:
    """A user's environment for pre-commit: its own home, no colour, no CI variables."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE")},
        "PRE_COMMIT_HOME": str(home),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def try_repo(project: Path, repo: Path, home: Path) -> CliRun:
    """``pre-commit try-repo REPO --all-files``: every hook of REPO, in order, on ``project``."""
    env = _pre_commit_env(home)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "--all-files", "--verbose"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def test_hook_definitions() -> None:
    hooks = {hook["id"]: hook for hook in YAML(typ="safe").load(HOOKS.read_text())}
    assert set(hooks) == {"kedro-ml-lint", "kedro-ml-lint-fix"}
    assert hooks["kedro-ml-lint"]["entry"] == "kedro-ml-lint check"
    assert hooks["kedro-ml-lint-fix"]["entry"] == "kedro-ml-lint check --fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        files = re.compile(hook["files"])
        for path in (
            "conf/base/catalog.yml",
            "conf/local/parameters.yaml",
            "sub/project/conf/prod/catalog_models.yml",
            "src/churn/pipeline_registry.py",
            "src/churn/pipelines/training/nodes.py",
            "pyproject.toml",
        ):
            assert files.search(path), path
        for path in ("README.md", "data/01_raw/customers.csv", "notebooks/x.ipynb", "setup.cfg"):
            assert not files.search(path), path


def hook_sections(output: str) -> dict[str, str]:
    """pre-commit's verbose output, split by ``- hook id: ID`` into each hook's part."""
    parts = re.split(r"^- hook id: (\S+)$", output, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.integration
def test_hooks_pass_on_clean_project(example, hook_repo: Path, pre_commit_home: Path) -> None:
    project = project_repo(example, "churn")
    catalog = (project / "conf/base/catalog.yml").read_bytes()
    run = try_repo(project, hook_repo, pre_commit_home)
    assert run.code == 0, run.stdout + run.stderr
    assert re.search(r"^kedro-ml-lint\.+Passed$", run.stdout, re.M), run.stdout
    assert re.search(r"^kedro-ml-lint \(fix\)\.+Passed$", run.stdout, re.M), run.stdout
    assert not VIOLATION_LINE.search(run.stdout)
    assert (project / "conf/base/catalog.yml").read_bytes() == catalog


@pytest.mark.integration
def test_hooks_fail_on_broken_project_without_its_dependencies(
    example, hook_repo: Path, pre_commit_home: Path
) -> None:
    project = project_repo(example, "churn-broken")
    catalog = project / "conf/base/catalog.yml"
    before = catalog.read_bytes()
    run = try_repo(project, hook_repo, pre_commit_home)
    assert run.code == 1, run.stdout + run.stderr
    sections = hook_sections(run.stdout)
    assert set(sections) == {"kedro-ml-lint", "kedro-ml-lint-fix"}, run.stdout

    check = sections["kedro-ml-lint"]
    codes = {(m["code"], m["path"]) for m in VIOLATION_LINE.finditer(check)}
    assert ("KML001", "conf/base/catalog.yml") in codes  # where --fix adds the entry
    assert {code for code, _ in codes} == {f"KML00{n}" for n in range(1, 8)}
    # The isolated environment has neither pandas nor scikit-learn: lite import stood in.
    assert "`sklearn`" in check and "`pandas`" in check
    assert "supersecret" not in run.stdout + run.stderr

    fixed = sections["kedro-ml-lint-fix"]
    assert "- files were modified by this hook" in fixed
    after = catalog.read_bytes()
    assert after.startswith(before) and b"\nencoder:\n" in after[len(before) :]
    remaining = {m["code"] for m in VIOLATION_LINE.finditer(fixed)}
    assert "KML001" not in remaining and "KML002" in remaining


def local_snippets() -> dict[str, str]:
    """docs/ci.md's `repo: local` snippets, by the language of their hook."""
    found = {}
    for body in blocks(CI_DOC, "yaml"):
        config = YAML(typ="safe").load(body)
        if "repos" in config and config["repos"][0]["repo"] == "local":
            found[config["repos"][0]["hooks"][0]["language"]] = body
    assert set(found) == {"python", "system"}, found
    return found


def monorepo(example, body: str) -> tuple[Path, Path]:
    """A repository holding the example where the snippet's hook looks for it."""
    hook = YAML(typ="safe").load(body)["repos"][0]["hooks"][0]
    folder = (hook.get("args") or hook["entry"].split()[2:])[0]
    source = example("churn-broken")
    root = source.parent / "monorepo"
    shutil.copytree(source, root / folder)
    return root, root / folder


def run_hooks(root: Path, config: str, home: Path, path: str | None = None) -> CliRun:
    (root / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "monorepo", cwd=root)
    env = _pre_commit_env(home)
    if path is not None:
        env["PATH"] = path
    else:
        env.pop("PYTHONPATH", None)  # the hook's own environment, nothing of this one
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--verbose"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def _assert_broken_example_reported(run: CliRun) -> None:
    assert run.code == 1, run.stdout + run.stderr
    codes = {m["code"] for m in VIOLATION_LINE.finditer(run.stdout)}
    assert codes == {f"KML00{n}" for n in range(1, 8)}, run.stdout
    assert "supersecret" not in run.stdout + run.stderr


@pytest.mark.integration
def test_the_docs_repo_local_python_hook_runs_as_written(
    example, hook_repo: Path, pre_commit_home: Path
) -> None:
    """pre-commit builds the hook's venv from `additional_dependencies`: the release pinned by
    its git URL (here the snapshot of this checkout, tagged as the release is)."""
    body = local_snippets()["python"]
    assert PLACEHOLDER_URL in body
    root, project = monorepo(example, body)
    before = (project / "conf/base/catalog.yml").read_bytes()
    run = run_hooks(
        root, body.replace(PLACEHOLDER_URL, f"git+file://localhost{hook_repo}"), pre_commit_home
    )
    _assert_broken_example_reported(run)
    # The isolated environment has neither pandas nor scikit-learn: lite import stood in.
    assert "`sklearn`" in run.stdout and "`pandas`" in run.stdout
    assert (project / "conf/base/catalog.yml").read_bytes() == before


@pytest.mark.integration
def test_the_docs_repo_local_system_hook_runs_as_written(example, pre_commit_home: Path) -> None:
    """`language: system` runs the kedro-ml-lint on PATH (this suite's, with this checkout)."""
    body = local_snippets()["system"]
    root, _ = monorepo(example, body)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    _assert_broken_example_reported(run_hooks(root, body, pre_commit_home, path=path))
