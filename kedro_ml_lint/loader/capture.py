"""Capture ``pipeline_ml_factory`` calls while the registry loads.

kedro-mlflow's factory raises at import when a pair is broken, which takes the whole
registry down and hides every other violation. While the registry loads, its factory is
wrapped: a call that raises yields our (never-raising) ``PipelineML`` with the same
arguments, so the pair is still analysed and every violation reported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from typing import Any
from unittest.mock import patch

from kedro_ml_lint.loader.compat.kedro_mlflow import normalise_factory_call
from kedro_ml_lint.pipeline_ml import pipeline_ml_factory as tolerant_factory
from kedro_ml_lint.pipeline_ml import remember_call_site

_KEDRO_MLFLOW_FACTORY_HOMES = ("kedro_mlflow.pipeline", "kedro_mlflow.pipeline.pipeline_ml_factory")


@contextmanager
def captured_factories() -> Iterator[None]:
    """Wrap kedro-mlflow's ``pipeline_ml_factory`` where the project can import it."""
    with ExitStack() as stack:
        for home in _KEDRO_MLFLOW_FACTORY_HOMES:
            module = sys.modules.get(home)
            original = getattr(module, "pipeline_ml_factory", None)
            if module is None or not callable(original) or isinstance(original, type(sys)):
                continue
            if getattr(original, "__module__", "").startswith("kedro_ml_lint"):
                continue  # the lite stand-in is ours already
            stack.enter_context(patch.object(module, "pipeline_ml_factory", _tolerant(original)))
        yield


def _tolerant(factory: Any) -> Any:
    @wraps(factory)
    def pipeline_ml_factory(*args: Any, **kwargs: Any) -> Any:
        # A call of any kedro-mlflow era, in the installed kedro-mlflow's terms.
        call = normalise_factory_call(*args, **kwargs)
        try:
            result = factory(*call.arguments())
        except Exception as exc:  # kedro-mlflow's own contract check: keep the arguments
            result = tolerant_factory(*call.arguments())
            result.rejected_by = f"{type(exc).__name__}: {exc}"
        remember_call_site(result, depth=1)  # the project's line that called the factory
        return result

    return pipeline_ml_factory
