"""kedro-ml-lint: check a Kedro training/inference pair statically, before anything runs."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from kedro_ml_lint._version import __version__ as __version__

# Lazy exports: ``import kedro_ml_lint`` must stay cheap and never import mlflow.
_EXPORTS = {
    "PipelineML": "kedro_ml_lint.pipeline_ml",
    "pipeline_ml_factory": "kedro_ml_lint.pipeline_ml",
    "lint_pipelines": "kedro_ml_lint.api",
    "lint_project": "kedro_ml_lint.api",
    "LintResult": "kedro_ml_lint.api",
    "Violation": "kedro_ml_lint.diagnostics",
    "KedroPipelineModel": "kedro_ml_lint.publishing",
    "MlflowPipelineHook": "kedro_ml_lint.hooks",
}

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult as LintResult
    from kedro_ml_lint.api import lint_pipelines as lint_pipelines
    from kedro_ml_lint.api import lint_project as lint_project
    from kedro_ml_lint.diagnostics import Violation as Violation
    from kedro_ml_lint.hooks import MlflowPipelineHook as MlflowPipelineHook
    from kedro_ml_lint.pipeline_ml import PipelineML as PipelineML
    from kedro_ml_lint.pipeline_ml import pipeline_ml_factory as pipeline_ml_factory
    from kedro_ml_lint.publishing import KedroPipelineModel as KedroPipelineModel

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kedro_ml_lint' has no attribute {name!r}")
