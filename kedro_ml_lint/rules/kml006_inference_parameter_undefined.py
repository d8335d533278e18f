"""KML006: the inference pipeline reads a parameter the project does not define."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.names import PARAMS_PREFIX, did_you_mean
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag each ``params:x.y`` input whose key path is missing from the parameters."""
    defined = pair.parameter_keys
    if defined is None:  # parameters unknown: nothing to compare against
        return
    for name in sorted(pair.inference.inputs):
        if not name.startswith(PARAMS_PREFIX):
            continue
        key = name[len(PARAMS_PREFIX) :]
        if key in defined:
            continue
        hint = did_you_mean(name, (PARAMS_PREFIX + k for k in defined))
        yield RULE.violation(
            pair,
            f"Inference input `{name}` is not defined in the project's parameters{hint}",
            subject=name,
        )


RULE = Rule(
    code="KML006",
    name="inference-parameter-undefined",
    summary="The inference pipeline reads params:x that the parameters do not define.",
    check=check,
)
