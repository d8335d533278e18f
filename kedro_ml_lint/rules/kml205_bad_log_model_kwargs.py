"""KML205: ``log_model_kwargs`` that ``mlflow.pyfunc.log_model`` refuses or never sees."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts, Wiring
from kedro_ml_lint.rules.base import Rule

# Set by the logging code itself, whatever the pair says (kedro-mlflow does the same).
SET_BY_THE_LOGGER = frozenset({"python_model", "artifacts", "loader_module", "data_path"})
# What one MLflow calls what another MLflow calls otherwise (the name it may be looking for).
RENAMED = {"code_path": "code_paths", "code_paths": "code_path"}
MLFLOW_3 = 3


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag each refused or ignored ``log_model_kwargs`` key, once."""
    wiring = pair.wiring
    if wiring is None:
        return
    for key, problem in sorted(_problems(wiring)):
        yield RULE.violation(pair, f"`log_model_kwargs` `{key}`: {problem}", subject=key)


def _problems(wiring: Wiring) -> Iterator[tuple[str, str]]:
    """What does not depend on MLflow's version, then what the assumed MLflow refuses."""
    kwargs = wiring.log_model_kwargs
    if "name" in kwargs and "artifact_path" in kwargs:
        yield (
            "artifact_path",
            "given with `name`, MLflow 3's name for it; MLflow refuses both (keep `name`)",
        )
    for key in sorted(set(kwargs) & SET_BY_THE_LOGGER):
        yield key, "ignored: the logging hook sets it itself from the pair"
    mlflow = wiring.mlflow
    major = mlflow.major if mlflow is not None else None
    conda_env = kwargs.get("conda_env")
    if isinstance(conda_env, Mapping) and "dependencies" not in conda_env and major == MLFLOW_3:
        yield (
            "conda_env",
            "a conda environment without `dependencies`: MLflow 3 fails with "
            "`KeyError: 'dependencies'` while logging; list them, or use `pip_requirements`",
        )
    where = f"MLflow `{mlflow.text}`" if mlflow is not None and mlflow.text else "any MLflow"
    for key in sorted(wiring.log_model_refused & set(kwargs) - SET_BY_THE_LOGGER):
        problem = f"not an argument of `mlflow.pyfunc.log_model` in {where}"
        yield key, problem + (f": it takes `{RENAMED[key]}`" if key in RENAMED else "")


RULE = Rule(
    code="KML205",
    name="bad-log-model-kwargs",
    summary="log_model_kwargs that mlflow.pyfunc.log_model refuses or ignores.",
    check=check,
)
