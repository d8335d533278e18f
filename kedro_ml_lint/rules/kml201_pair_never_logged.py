"""KML201: the project logs by hook, and no active hook logs this pair."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag a pair that the project's logging hooks all pass over (the import-switch trap).

    A project with no logging hook at all publishes another way (``check --log``,
    ``kedro mlflow modelify``): nothing to say. ``check --log`` deselects the rule: it is the
    logger (docs/design.md §2).
    """
    wiring = pair.wiring
    if wiring is None or wiring.loggers or not wiring.logs_by_hook:
        return
    # Every logging hook logs kedro-mlflow's PipelineML, so only ours is left here: bound
    # by kedro-ml-lint's factory while kedro-mlflow's hook, which ignores it, is the logger.
    why = (
        "it is kedro-ml-lint's PipelineML and the project's only logging hook is "
        "kedro-mlflow's, and kedro-mlflow's hook ignores it; register `MlflowPipelineHook` "
        "(kedro_ml_lint.hooks) in `settings.HOOKS`, or bind the pair with kedro-mlflow's "
        "`pipeline_ml_factory`"
    )
    yield RULE.violation(pair, f"No active hook logs this pair's model after training: {why}")


RULE = Rule(
    code="KML201",
    name="pair-never-logged",
    summary="The project logs by hook, and no active hook will log this pair's model.",
    check=check,
    skipped_when_publishing=True,
)
