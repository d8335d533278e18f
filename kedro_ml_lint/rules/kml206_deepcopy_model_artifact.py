"""KML206: ``copy_mode="deepcopy"`` on a served pair deep-copies its artifacts per request."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.rules.base import Rule

DEEPCOPY = "deepcopy"


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag ``copy_mode="deepcopy"``, for every artifact or for named ones."""
    if pair.wiring is None:
        return
    copy_mode = pair.wiring.kpm_kwargs.get("copy_mode")
    if copy_mode == DEEPCOPY:
        yield RULE.violation(pair, _message("every artifact"))
    elif isinstance(copy_mode, dict):
        for name in sorted(n for n, mode in copy_mode.items() if mode == DEEPCOPY):
            yield RULE.violation(pair, _message(f"`{name}`"), subject=str(name))


def _message(what: str) -> str:
    return (
        f'`copy_mode="deepcopy"` makes the served model deep-copy {what} on every request '
        '(kedro-mlflow #133, #378); use `"assign"` for artifacts the inference nodes do not modify'
    )


RULE = Rule(
    code="KML206",
    name="deepcopy-model-artifact",
    summary="copy_mode='deepcopy' copies the model's artifacts on every prediction request.",
    check=check,
    severity=Severity.WARNING,
)
