"""What the installed MLflow accepts, read without logging anything (KML205)."""

from __future__ import annotations

import importlib.util
import inspect
from functools import cache

from kedro_ml_lint.loader.compat import distribution_version


@cache
def log_model_parameters() -> frozenset[str] | None:
    """The parameters of the installed ``mlflow.pyfunc.log_model``; ``None`` without MLflow.

    Imports MLflow (about a second): called only for pairs that pass ``log_model_kwargs``.
    """
    if distribution_version("mlflow") is None and distribution_version("mlflow-skinny") is None:
        return None
    try:
        if importlib.util.find_spec("mlflow") is None:
            return None
        from mlflow.pyfunc import log_model
    except Exception:  # a broken MLflow install checks like none at all
        return None
    return frozenset(inspect.signature(log_model).parameters)
