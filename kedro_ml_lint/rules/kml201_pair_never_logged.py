"""KML201: no active hook will log the pair after its training run."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import Factory, PairFacts
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag a registered pair that neither kedro-ml-lint's hook nor kedro-mlflow's logs."""
    wiring = pair.wiring
    if wiring is None or wiring.loggers:
        return
    if wiring.factory is Factory.KEDRO_ML_LINT:
        why = (
            "it is kedro-ml-lint's PipelineML, which only `MlflowPipelineHook` "
            "(kedro_ml_lint.hooks) logs, and `settings.HOOKS` does not register it with "
            "`log_model` on; kedro-mlflow's hook ignores it"
        )
    else:
        why = (
            "kedro-mlflow's hook is disabled (`DISABLE_HOOKS_FOR_PLUGINS`) and "
            "`MlflowPipelineHook` is not in `settings.HOOKS`"
        )
    yield RULE.violation(pair, f"No active hook logs this pair's model after training: {why}")


RULE = Rule(
    code="KML201",
    name="pair-never-logged",
    summary="No active hook will log the pair's model after a training run.",
    check=check,
)
