"""How a project's runs would log a pair: what the KML2xx rules read.

Read statically by the loader from ``settings.py``, the installed plugins and the pair's
own arguments; nothing here imports Kedro or runs a hook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


def release(version: str | None) -> tuple[int, ...] | None:
    """``"2.0.2"`` -> ``(2, 0, 2)``; ``None`` for no version or one that does not start so."""
    match = re.match(r"\d+(\.\d+)*", version or "")
    return tuple(int(part) for part in match.group().split(".")) if match else None


class Factory(str, Enum):
    """Which ``pipeline_ml_factory`` bound the pair: it decides which hook can log it."""

    KEDRO_ML_LINT = "kedro-ml-lint"
    KEDRO_MLFLOW = "kedro-mlflow"


class Logger(str, Enum):
    """A hook that logs a pair's model after the run that trained it."""

    KEDRO_ML_LINT = "kedro-ml-lint"
    KEDRO_MLFLOW = "kedro-mlflow"


@dataclass(frozen=True)
class Wiring:
    """What would log a registered pair, and with which arguments.

    Attributes:
        factory: The factory that bound the pair.
        our_hook: kedro-ml-lint's ``MlflowPipelineHook`` is in ``settings.HOOKS`` and logs
            (``MlflowPipelineHook(log_model=False)`` only checks: it is not counted).
        kedro_mlflow_hook: kedro-mlflow's hook runs (auto-registered and not disabled, or
            listed in ``settings.HOOKS``).
        sums: Registered pipelines, not the pair itself, that run all its training nodes
            (``__default__ = data_processing + training``): what a plain ``kedro run`` runs.
        kpm_kwargs: The pair's ``KedroPipelineModel`` arguments.
        log_model_kwargs: The pair's ``mlflow.pyfunc.log_model`` arguments, as given.
        kedro_version: The installed Kedro's version.
        kedro_mlflow_version: The installed kedro-mlflow's version; ``None`` when absent.
        mlflow_version: The installed MLflow's version; ``None`` when absent.
        log_model_parameters: The parameters the installed ``mlflow.pyfunc.log_model``
            takes; ``None`` when MLflow is not installed (or was not needed).
    """

    factory: Factory
    our_hook: bool
    kedro_mlflow_hook: bool
    sums: tuple[str, ...] = ()
    kpm_kwargs: Mapping[str, Any] = field(default_factory=dict)
    log_model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    kedro_version: str | None = None
    kedro_mlflow_version: str | None = None
    mlflow_version: str | None = None
    log_model_parameters: frozenset[str] | None = None

    @property
    def logs_by_hook(self) -> bool:
        """Some logging hook is active: the project publishes from ``kedro run``."""
        return self.our_hook or self.kedro_mlflow_hook

    @property
    def loggers(self) -> tuple[Logger, ...]:
        """The hooks that will log this pair after a run of its registered pipeline."""
        found = []
        if self.our_hook:
            found.append(Logger.KEDRO_ML_LINT)
        if self.kedro_mlflow_hook and self.factory is Factory.KEDRO_MLFLOW:
            found.append(Logger.KEDRO_MLFLOW)  # its hook ignores any other PipelineML class
        return tuple(found)
