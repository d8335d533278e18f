"""KML205: ``log_model_kwargs`` that ``mlflow.pyfunc.log_model`` refuses or never sees."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.wiring import release
from kedro_ml_lint.rules.base import Rule

# Set by the logging code itself, whatever the pair says (kedro-mlflow does the same).
SET_BY_THE_LOGGER = frozenset({"python_model", "artifacts", "loader_module", "data_path"})
# MLflow 2's names for what MLflow 3 calls otherwise.
RENAMED = {"code_path": "code_paths"}
MLFLOW_3 = (3,)


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag each refused or ignored ``log_model_kwargs`` key, once."""
    wiring = pair.wiring
    if wiring is None:
        return
    kwargs = wiring.log_model_kwargs
    for key, problem in sorted(_problems(kwargs, wiring.log_model_parameters, wiring)):
        yield RULE.violation(pair, f"`log_model_kwargs` `{key}`: {problem}", subject=key)


def _problems(
    kwargs: Mapping[str, Any], accepted: frozenset[str] | None, wiring: Any
) -> Iterator[tuple[str, str]]:
    if "name" in kwargs and "artifact_path" in kwargs:
        yield (
            "artifact_path",
            "given with `name`, MLflow 3's name for it; MLflow refuses both (keep `name`)",
        )
    for key in sorted(set(kwargs) & SET_BY_THE_LOGGER):
        yield key, "ignored: the logging hook sets it itself from the pair"
    conda_env = kwargs.get("conda_env")
    mlflow = release(wiring.mlflow_version)
    if (
        isinstance(conda_env, Mapping)
        and "dependencies" not in conda_env
        and mlflow is not None
        and mlflow >= MLFLOW_3
    ):
        yield (
            "conda_env",
            "a conda environment without `dependencies`: MLflow 3 fails with "
            "`KeyError: 'dependencies'` while logging; list them, or use `pip_requirements`",
        )
    if accepted is None:
        return  # MLflow is not installed here: its signature cannot be read
    for key in sorted(set(kwargs) - accepted - SET_BY_THE_LOGGER - {"artifact_path"}):
        if key in RENAMED:
            yield key, f"MLflow {wiring.mlflow_version} calls it `{RENAMED[key]}`"
        else:
            where = f"MLflow {wiring.mlflow_version}"
            yield key, f"not an argument of `mlflow.pyfunc.log_model` ({where})"


RULE = Rule(
    code="KML205",
    name="bad-log-model-kwargs",
    summary="log_model_kwargs that mlflow.pyfunc.log_model refuses or ignores.",
    check=check,
)
