"""KML003: an artifact that training neither reads nor writes."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.names import did_you_mean, strip_transcoding
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag free inference inputs that do not come from the training pipeline."""
    training = pair.training.bases
    for artifact in pair.artifacts:
        if strip_transcoding(artifact) in training:
            continue
        hint = did_you_mean(artifact, pair.training.all_outputs)
        yield RULE.violation(
            pair,
            f"Inference input `{artifact}` is not produced or read by the training "
            f"pipeline, so nothing guarantees it matches the trained model{hint}",
            subject=artifact,
        )


RULE = Rule(
    code="KML003",
    name="inference-input-not-from-training",
    summary="An inference artifact is neither an output nor an input of training.",
    check=check,
)
