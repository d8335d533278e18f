"""KML203: a plain ``kedro run`` trains the pair through a sum that kedro-mlflow never logs."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.model import Logger, PairFacts
from kedro_ml_lint.rules.base import Rule, backticked


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag sums of pipelines that run all the pair's training nodes, logged by nobody.

    kedro-mlflow's hook logs a run only when the pipeline it is handed *is* its
    PipelineML; a sum such as ``__default__ = data_processing + training`` is a plain
    ``Pipeline``, so ``kedro run`` trains the model and logs nothing (kedro-mlflow #554).
    """
    wiring = pair.wiring
    if wiring is None or wiring.loggers != (Logger.KEDRO_MLFLOW,) or not wiring.sums:
        return
    yield RULE.violation(
        pair,
        f"Running {backticked(set(wiring.sums))} trains this pair but logs no model: "
        f"kedro-mlflow's hook logs only a run of the pair's own pipeline, `{pair.name}`",
    )


RULE = Rule(
    code="KML203",
    name="pair-hidden-in-sum",
    summary="A registered sum of pipelines trains the pair, and kedro-mlflow logs nothing for it.",
    check=check,
    severity=Severity.WARNING,
)
