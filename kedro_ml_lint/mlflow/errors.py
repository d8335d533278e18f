"""Errors of the MLflow side, and the one check that needs no MLflow: is it installed."""

from __future__ import annotations

import importlib.util

from kedro_ml_lint.errors import KedroMlLintError

INSTALL_HINT = "pip install 'kedro-ml-lint[mlflow]'"


class MlflowNotInstalledError(KedroMlLintError, ImportError):
    """Raised when a feature that logs or serves a model runs without MLflow installed."""


class PublishError(KedroMlLintError):
    """Raised when a model cannot be logged; nothing is left in the tracking store."""


class KedroPipelineModelError(KedroMlLintError, ValueError):
    """Raised when a pipeline cannot be turned into (or run as) a ``KedroPipelineModel``."""


def require_mlflow(feature: str) -> None:
    """Raise a one-line instruction when MLflow is not importable.

    Args:
        feature: What needs MLflow, for the message (``"`check --log`"``).

    Raises:
        MlflowNotInstalledError: When the ``mlflow`` package cannot be found.
    """
    try:
        found = importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MlflowNotInstalledError(f"{feature} needs MLflow: {INSTALL_HINT}")


def one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line (MLflow's messages span several), cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
