"""KML007: the inference pipeline reads the whole ``parameters`` dict."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.names import ALL_PARAMETERS
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag ``parameters`` among the inference pipeline's inputs.

    Unless it is the served input: then the caller provides it at predict time.
    """
    if ALL_PARAMETERS in pair.inference.inputs and pair.input_name != ALL_PARAMETERS:
        yield RULE.violation(
            pair,
            "The inference pipeline reads the whole `parameters` dict, which is not "
            "persisted with the model; read the keys it needs as `params:<key>`",
            subject=ALL_PARAMETERS,
        )


RULE = Rule(
    code="KML007",
    name="inference-reads-all-parameters",
    summary="The inference pipeline reads the whole parameters dict.",
    check=check,
)
