"""KML004: the inference pipeline must end in exactly one dataset."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.rules.base import Rule, backticked


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag an inference pipeline with zero or several final outputs."""
    outputs = pair.inference.outputs
    if len(outputs) == 1:
        return
    what = (
        "no final output" if not outputs else f"{len(outputs)} final outputs: {backticked(outputs)}"
    )
    yield RULE.violation(
        pair,
        f"The inference pipeline has {what}; a served model returns exactly one",
    )


RULE = Rule(
    code="KML004",
    name="inference-output-not-single",
    summary="The inference pipeline has zero or two-plus final outputs.",
    check=check,
)
