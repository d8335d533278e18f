"""kedro-mlflow where it is not installed: our factory and ``PipelineML`` under its name."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kedro_ml_lint.importing.lite import StandInModule
from kedro_ml_lint.pipeline_ml import PipelineML, pipeline_ml_factory, remember_call_site
from kedro_ml_lint.seams.kedro_mlflow import (
    KEDRO_MLFLOW,
    MADE_BY_KEDRO_MLFLOW,
    normalise_factory_call,
)


def kedro_mlflow_stand_in(name: str) -> ModuleType | None:
    """A module for ``kedro_mlflow`` (or a submodule) where it is not installed.

    Its ``pipeline_ml_factory`` and ``PipelineML`` are ours, so the project's pairs are
    still found; any other name is a stand-in (lite import).
    """
    if name.partition(".")[0] != KEDRO_MLFLOW:
        return None

    def factory(*args: Any, **kwargs: Any) -> Any:
        call = normalise_factory_call(*args, **kwargs)
        result = pipeline_ml_factory(*call.arguments())
        remember_call_site(result, depth=1)  # the project's line, not this wrapper's
        setattr(result, MADE_BY_KEDRO_MLFLOW, True)
        return result

    module = StandInModule(name)
    module.pipeline_ml_factory = factory  # type: ignore[attr-defined]
    module.PipelineML = PipelineML  # type: ignore[attr-defined]
    module.__kml_stand_in__ = True  # type: ignore[attr-defined]
    return module
