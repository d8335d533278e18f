"""KML202: both kedro-mlflow's hook and kedro-ml-lint's will log the pair."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag a pair that two hooks will log: two models, two runs, for one training."""
    if pair.wiring is not None and len(pair.wiring.loggers) > 1:
        yield RULE.violation(
            pair,
            "Both kedro-mlflow's hook and `MlflowPipelineHook` will log this pair after "
            "training: every run logs two models; disable one (`DISABLE_HOOKS_FOR_PLUGINS` "
            "or `settings.HOOKS`)",
        )


RULE = Rule(
    code="KML202",
    name="pair-logged-twice",
    summary="Two hooks will log the pair's model after each training run.",
    check=check,
    severity=Severity.WARNING,
)
