"""What a logged model says about itself: run name, tags and params.

A model found in a tracking store months later should say which project, commit, pair and
tool version made it, and with which parameter values it was trained and is served.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro_ml_lint._version import __version__
from kedro_ml_lint.artifacts import catalog_dataset
from kedro_ml_lint.vocabulary import PARAMS_PREFIX, TAG_PREFIX

TAG_PROJECT = TAG_PREFIX + "project"
TAG_VERSION = TAG_PREFIX + "version"
TAG_PIPELINE = TAG_PREFIX + "pipeline"
TAG_INPUT_NAME = TAG_PREFIX + "input_name"
TAG_GIT_DIRTY = TAG_PREFIX + "git_dirty"
TAG_TRAINING_RUN = TAG_PREFIX + "training_run_id"
TAG_KEDRO_SESSION = TAG_PREFIX + "kedro_session_id"
# MLflow's own tag for the commit: its UI shows it on the run page.
TAG_GIT_COMMIT = "mlflow.source.git.commit"
# MLflow refuses longer parameter values.
MAX_PARAM_VALUE = 6000
GIT_TIMEOUT = 10  # seconds


def training_tags(session_id: str | None) -> dict[str, str]:
    """Which training made the model: the Kedro session and, if any, the active MLflow run.

    Args:
        session_id: The Kedro session (run) id of the training run, when known.
    """
    import mlflow

    tags = {}
    if session_id:
        tags[TAG_KEDRO_SESSION] = session_id
    active = mlflow.active_run()  # kedro-mlflow's training run, when its hook is active
    if active is not None:
        tags[TAG_TRAINING_RUN] = active.info.run_id
    return tags


def project_name(project_root: Path, package_name: str) -> str:
    """``[tool.kedro] project_name`` of the project's ``pyproject.toml``, else its package."""
    from kedro_ml_lint.reading.pyproject import read_pyproject

    try:
        name = read_pyproject(project_root).get("tool", {}).get("kedro", {}).get("project_name")
    except Exception:  # an unreadable pyproject.toml was reported by the check already
        name = None
    return str(name) if name else package_name


def model_tags(
    *,
    project_name: str,
    project_root: Path,
    pipeline: str,
    input_name: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Tags of the run and of the logged model.

    Args:
        project_name: The Kedro project's name.
        project_root: Where the project is: its git commit is read there.
        pipeline: The pair's name.
        input_name: The served input.
        extra: More tags (the hook's training run id).

    Returns:
        ``{tag: value}``; the git tags only when the project is in a git work tree.
    """
    tags = {
        TAG_PROJECT: project_name,
        TAG_VERSION: __version__,
        TAG_PIPELINE: pipeline,
        TAG_INPUT_NAME: input_name,
    }
    commit = _git(project_root, "rev-parse", "HEAD")
    if commit:
        tags[TAG_GIT_COMMIT] = commit
        status = _git(project_root, "status", "--porcelain", "--untracked-files=no")
        tags[TAG_GIT_DIRTY] = "true" if status else "false"
    tags.update(extra or {})
    return tags


def _git(root: Path, *args: str) -> str | None:
    """``git args`` in ``root``: its stripped output, ``None`` when git fails or is absent."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def pair_params(catalog: Any, pipelines: Iterable[Any]) -> dict[str, str]:
    """The ``params:*`` values the pair's pipelines read, flattened for ``mlflow.log_params``.

    ``params:model_options`` holding ``{"C": 1.0}`` becomes ``model_options.C = 1.0``.
    """
    names = sorted(
        {
            name
            for pipeline in pipelines
            if pipeline is not None
            for name in pipeline.inputs()
            if name.startswith(PARAMS_PREFIX)
        }
    )
    flat: dict[str, str] = {}
    for name in names:
        _flatten(name[len(PARAMS_PREFIX) :], catalog_dataset(catalog, name).load(), flat)
    return flat


def _flatten(key: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping) and value:
        for child, child_value in value.items():
            _flatten(f"{key}.{child}", child_value, into)
        return
    if key not in into:  # `params:a` and `params:a.b` both read: one value for `a.b`
        into[key] = str(value)[:MAX_PARAM_VALUE]
