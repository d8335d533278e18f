"""KML005: ``input_name`` must be a free input of the inference pipeline."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.names import did_you_mean, is_parameter
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag a missing ``input_name`` or one the inference pipeline does not read."""
    name = pair.input_name
    inputs = pair.inference.inputs
    if name and name in inputs:
        return
    candidates = sorted(n for n in inputs if not is_parameter(n))
    if not name:
        message = "`input_name` is not set; set it to the dataset the model is served"
        if candidates:
            message += f" (one of {', '.join(f'`{c}`' for c in candidates)})"
    elif name in pair.inference.all_outputs or name in pair.inference.all_inputs:
        message = (
            f"`input_name` is `{name}`, which the inference pipeline produces itself; "
            "it must be a free input"
        )
    else:
        message = (
            f"`input_name` is `{name}`, which is not an input of the inference pipeline"
            f"{_suggestion(name, candidates)}"
        )
    yield RULE.violation(pair, message)


def _suggestion(name: str, candidates: list[str]) -> str:
    """``; did you mean `x`?``: the input ``name`` is once namespaces are added, else a look-alike.

    A pipeline wrapped in ``pipeline(..., namespace="data_science")`` reads
    ``data_science.X_test``; an ``input_name`` written without the namespace names nothing.
    """
    namespaced = [c for c in candidates if c.endswith(f".{name}")]
    if len(namespaced) == 1:
        return f"; did you mean `{namespaced[0]}`?"
    return did_you_mean(name, candidates)


RULE = Rule(
    code="KML005",
    name="input-name-not-inference-input",
    summary="input_name is missing or is not an input of the inference pipeline.",
    check=check,
)
