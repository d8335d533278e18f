"""The install lines work: a wheel built from the checkout, and every line of the README.

One FRESH venv (``python -m venv``) per run, into which the wheel installs with the venv's own
pip, with the machine's pip configuration and cache (``--find-links``, a local index or PyPI):
nothing of the suite's environment leaks in (no ``PYTHONPATH``). The README's lines then run in
that venv, each after kedro-ml-lint is uninstalled (its dependencies stay, as they stayed from
one line to the next before). The checkout is copied first (its git-tracked files, as a clone
has them), so building never writes into the work tree; the README's ``python -m build`` runs
once, and its wheel is the one installed (docs/design.md §11: what a test pays for).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from packaging.requirements import Requirement
from test_readme import install_lines

import kedro_ml_lint

pytestmark = pytest.mark.integration

VERSION = kedro_ml_lint.__version__
TAG = f"v{VERSION}"
PLACEHOLDER_URL = "git+https://github.com/<org>/kedro-ml-lint"
# What --log prints without MLflow: the [mlflow] extra's requirements, for any install.
HINT = re.compile(r'needs MLflow: (pip install "mlflow[^"]*"(?: "[^"]+")*)$', re.M)


# The requirements of the installed distribution's `mlflow` extra, one per line.
EXTRA_REQUIREMENTS = """
from importlib.metadata import requires
from packaging.requirements import Requirement
for line in requires("kedro-ml-lint"):
    requirement = Requirement(line)
    if requirement.marker and requirement.marker.evaluate({"extra": "mlflow"}):
        requirement.marker = None
        print(str(requirement).replace(" ", ""))
"""


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "GITHUB_ACTIONS", "GITHUB_WORKSPACE")
    }
    return {
        **env,
        "NO_COLOR": "1",
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def _run(command: list[str] | str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        shell=isinstance(command, str),
    )


def _git(*args: str, cwd: Path) -> None:
    identity = ["-c", "user.name=kedro-ml-lint", "-c", "user.email=ci@example.invalid"]
    subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's tracked files, committed and tagged ``v<version>`` as a release is."""
    root = tmp_path_factory.mktemp("clone") / "kedro-ml-lint"
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for relative in filter(None, listing.split("\0")):
        source = REPO / relative
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "release", cwd=root)
    _git("tag", "-a", TAG, "-m", f"kedro-ml-lint {VERSION}", cwd=root)
    return root


BUILD_LINE = "python -m build"


@pytest.fixture(scope="module")
def built(clone: Path) -> Path:
    """The README's ``python -m build`` in the clone (``build`` is in the test extra): run
    once, for the wheel test and as that line of the README (the slowest line: a build
    environment for the sdist, another for the wheel)."""
    proc = _run(_runnable(BUILD_LINE, clone, Path(sys.executable)), cwd=clone)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = clone / "dist" / f"kedro_ml_lint-{VERSION}-py3-none-any.whl"
    assert wheel.is_file(), sorted(p.name for p in (clone / "dist").iterdir())
    return wheel


def _fresh_venv(folder: Path) -> Path:
    proc = _run([sys.executable, "-m", "venv", str(folder)], cwd=folder.parent)
    assert proc.returncode == 0, proc.stderr
    return folder / "bin"


@pytest.fixture(scope="module")
def wheel_venv(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv into which the wheel installed, dependencies and all, with the venv's
    own pip: resolved and installed once per run (the slowest step after the build)."""
    folder = tmp_path_factory.mktemp("wheel-venv")
    bin_ = _fresh_venv(folder / "venv")
    install = _run([str(bin_ / "python"), "-m", "pip", "install", "-q", str(built)], folder)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return bin_


def test_the_wheel_installs_in_a_fresh_venv_and_checks_the_example(
    wheel_venv: Path, tmp_path: Path
) -> None:
    bin_ = wheel_venv

    version = _run([str(bin_ / "kedro-ml-lint"), "--version"], tmp_path)
    assert version.stdout.strip() == f"kedro-ml-lint, version {VERSION}", version
    # It runs from the venv, not from this checkout.
    where = _run(
        [str(bin_ / "python"), "-c", "import kedro_ml_lint; print(kedro_ml_lint.__file__)"],
        tmp_path,
    )
    assert where.stdout.startswith(str(bin_.parent)), where.stdout

    clean = shutil.copytree(EXAMPLES / "churn", tmp_path / "churn")
    check = _run([str(bin_ / "kedro-ml-lint"), "check", str(clean)], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "All checks passed! (1 pair checked)\n"

    broken = shutil.copytree(EXAMPLES / "churn-broken", tmp_path / "churn-broken")
    check = _run([str(bin_ / "kedro-ml-lint"), "check", str(broken)], tmp_path)
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout.endswith("Found 8 errors (2 pairs checked). 1 fixable with `--fix`.\n")

    # No MLflow in this venv: --log names a line that installs it: the `[mlflow]` extra's
    # requirements, exactly as the wheel's metadata declares them (any install can add them).
    log = _run([str(bin_ / "kedro-ml-lint"), "check", "--log", str(clean)], tmp_path)
    assert log.returncode == 2, log.stdout + log.stderr
    [hint] = HINT.findall(log.stderr)
    extra = _run([str(bin_ / "python"), "-c", EXTRA_REQUIREMENTS], tmp_path)
    assert extra.returncode == 0, extra.stderr
    assert _requirements(re.findall(r'"([^"]+)"', hint)) == _requirements(extra.stdout.split())


def _requirements(lines: list[str]) -> set[tuple[str, frozenset[str], str]]:
    """Requirements as pip compares them (``mlflow>=3,<4`` is ``mlflow<4,>=3``)."""
    parsed = [Requirement(line) for line in lines]
    return {(r.name, frozenset(r.extras), str(sorted(map(str, r.specifier)))) for r in parsed}


def _runnable(line: str, clone: Path, python: Path) -> str:
    """The README's line as it runs here: this venv's pip, the local clone for ``<org>``."""
    # `localhost`: the pip of a fresh venv refuses `git+file:///path@tag` as a URL.
    line = line.replace(PLACEHOLDER_URL, f"git+file://localhost{clone}")
    if line.startswith("pip "):
        line = f"{python} -m {line}"
    elif line.startswith("python -m build"):
        line = f"{sys.executable} {line[len('python ') :]}"
    if "[mlflow]" in line:
        # The extra's dependencies are MLflow's stack (hundreds of MB, minutes to resolve):
        # the line runs without them; the wheel test checks the hint names the extra's list.
        line += " --no-deps"
    return line


def test_every_install_line_of_the_readme_runs(
    clone: Path, built: Path, wheel_venv: Path, tmp_path: Path
) -> None:
    lines = install_lines()
    python = wheel_venv / "python"
    kedro_ml_lint_bin = python.parent / "kedro-ml-lint"
    # The wheel test's venv, without kedro-ml-lint: each line installs it (anew).
    gone = _run([str(python), "-m", "pip", "uninstall", "-y", "-q", "kedro-ml-lint"], tmp_path)
    assert gone.returncode == 0, gone.stderr
    ran = []
    for line in lines:
        if line == BUILD_LINE:  # it ran in the clone once already: `built` is its wheel
            assert built.parent == clone / "dist" and built.is_file(), built
            ran.append(line)
            continue
        command = _runnable(line, clone, python)
        proc = _run(command, cwd=clone)
        assert proc.returncode == 0, (line, proc.stdout[-3000:], proc.stderr[-3000:])
        ran.append(line)
        assert "does not provide the extra" not in proc.stderr, (line, proc.stderr)
        if line.startswith("pip"):
            version = _run([str(kedro_ml_lint_bin), "--version"], tmp_path)
            assert version.stdout.strip() == f"kedro-ml-lint, version {VERSION}", (line, version)
            gone = _run(
                [str(python), "-m", "pip", "uninstall", "-y", "-q", "kedro-ml-lint"], tmp_path
            )
            assert gone.returncode == 0, gone.stderr
    assert len(ran) == len(lines) >= 6, ran
