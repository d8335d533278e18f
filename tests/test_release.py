"""One version everywhere: the package, its metadata, the git tags and what the docs pin.

Releases are tagged ``v<version>``, annotated, on the commit whose ``__version__`` is
``<version>``. In a shallow clone (CI's ``actions/checkout`` default) the tags of commits
that were not fetched are simply not reachable: what is reachable is checked, nothing is
skipped, and the checks that need no tag (package against ``pyproject.toml``) always run.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest
from conftest import REPO
from packaging.version import InvalidVersion, Version

import kedro_ml_lint

VERSION = kedro_ml_lint.__version__
TAG = f"v{VERSION}"


def _git(*args: str, cwd: Path = REPO) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout


def _reachable_tags(cwd: Path = REPO) -> list[str]:
    return _git("tag", "--merged", "HEAD", "--list", "v*", cwd=cwd).split()


def newer_tags(cwd: Path = REPO) -> list[str]:
    """The ``v*`` tags in HEAD's history that name a version newer than ``__version__``."""
    current = Version(VERSION)
    newer = []
    for tag in _reachable_tags(cwd):
        try:
            tagged = Version(tag[1:])
        except InvalidVersion:
            pytest.fail(f"tag `{tag}` is not v<version>")
        if tagged > current:
            newer.append(tag)
    return newer


def test_the_version_is_a_release_version() -> None:
    parsed = Version(VERSION)
    assert str(parsed) == VERSION, "normalised: the tag must be spelt as pip spells it"
    assert not parsed.is_devrelease and not parsed.local


def test_pyproject_declares_the_package_version() -> None:
    """A static ``version`` must equal ``__version__``; a dynamic one must read it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    project = config["project"]
    if "version" in project:
        assert project["version"] == VERSION
        return
    assert "version" in project.get("dynamic", []), "pyproject.toml declares no version"
    attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert getattr(importlib.import_module(module), name) == VERSION, attr


@pytest.mark.integration  # runs git
def test_no_reachable_tag_names_a_newer_version() -> None:
    """A ``v*`` tag in HEAD's history newer than ``__version__``: the bump was forgotten."""
    assert newer_tags() == [], f"__version__ is {VERSION}: bump it"


@pytest.mark.integration  # runs git
def test_a_release_tag_on_head_is_this_version_and_annotated() -> None:
    at_head = [tag for tag in _git("tag", "--points-at", "HEAD", "--list", "v*").split() if tag]
    for tag in at_head:
        assert tag == TAG, f"HEAD is tagged `{tag}` but __version__ is {VERSION}"
    if TAG in _reachable_tags():
        # `git tag -a`: a tag object with its tagger and date, as `git describe` expects.
        assert _git("cat-file", "-t", f"refs/tags/{TAG}").strip() == "tag", f"{TAG} is a light tag"


@pytest.mark.integration  # runs git
def test_a_newer_tag_is_caught(tmp_path: Path) -> None:
    """The check reads real tags: a repository tagged past the version fails it."""
    version = Version(VERSION)
    bumped = f"v{version.major}.{version.minor + 1}.0"
    older = f"v{version.major}.{version.minor}.{version.micro}"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True)
    subprocess.run([*git, "tag", "-a", older, "-m", older], cwd=tmp_path, check=True)
    assert newer_tags(tmp_path) == []
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "y"], cwd=tmp_path, check=True)
    subprocess.run([*git, "tag", "-a", bumped, "-m", bumped], cwd=tmp_path, check=True)
    assert newer_tags(tmp_path) == [bumped]


def test_the_mlflow_hint_names_the_extras_requirements() -> None:
    """`--log` without MLflow prints these; they must be what `[mlflow]` would install."""
    from packaging.requirements import Requirement

    from kedro_ml_lint.publishing.errors import INSTALL_HINT, MLFLOW_EXTRA

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = config["project"]["optional-dependencies"]["mlflow"]

    def parsed(lines: list[str] | tuple[str, ...]) -> set[str]:
        return {str(Requirement(line)) for line in lines}

    assert parsed(MLFLOW_EXTRA) == parsed(declared)
    assert "pip install " + " ".join(f'"{r}"' for r in MLFLOW_EXTRA) == INSTALL_HINT
