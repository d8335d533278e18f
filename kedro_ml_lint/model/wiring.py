"""How a project's runs would log a pair: what the KML2xx rules read.

Read statically by the loader from ``settings.py``, the installed plugins and the pair's
own arguments; nothing here imports Kedro or runs a hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Factory(str, Enum):
    """Which ``pipeline_ml_factory`` bound the pair: it decides which hook can log it."""

    KEDRO_ML_LINT = "kedro-ml-lint"
    KEDRO_MLFLOW = "kedro-mlflow"


@dataclass(frozen=True)
class Wiring:
    """What would log a registered pair, and with which arguments.

    Attributes:
        factory: The factory that bound the pair.
        our_hook: kedro-ml-lint's ``MlflowPipelineHook`` is in ``settings.HOOKS`` and logs.
        kedro_mlflow_hook: kedro-mlflow's hook runs (auto-registered and not disabled, or
            listed in ``settings.HOOKS``).
        sums: Registered pipelines, not the pair itself, that run all its training nodes
            (``__default__ = data_processing + training``): what a plain ``kedro run`` runs.
        kpm_kwargs: The pair's ``KedroPipelineModel`` arguments.
        log_model_kwargs: The pair's ``mlflow.pyfunc.log_model`` arguments.
    """

    factory: Factory
    our_hook: bool
    kedro_mlflow_hook: bool
    sums: tuple[str, ...] = ()
    kpm_kwargs: Mapping[str, Any] = field(default_factory=dict)
    log_model_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def loggers(self) -> tuple[str, ...]:
        """The hooks that will log this pair after a run of its registered pipeline."""
        found = []
        if self.our_hook:
            found.append("kedro-ml-lint")
        if self.kedro_mlflow_hook and self.factory is Factory.KEDRO_MLFLOW:
            found.append("kedro-mlflow")  # its hook ignores any other PipelineML class
        return tuple(found)
