"""KML101: an artifact's local file is not there yet, so there is nothing to log."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag artifacts whose file (or, when versioned, any version of it) is missing."""
    if pair.missing_on_disk is None:
        return
    for artifact in pair.artifacts:
        if artifact not in pair.missing_on_disk:
            continue
        spec = pair.datasets[artifact]
        what = "no version of" if spec.versioned else "no file at"
        yield RULE.violation(
            pair,
            f"Inference input `{artifact}` is not on disk yet ({what} `{spec.filepath}`); "
            "run the training pipeline before logging the model",
            subject=artifact,
        )


RULE = Rule(
    code="KML101",
    name="artifact-missing-on-disk",
    summary="An artifact's local file does not exist yet: training has not produced it.",
    check=check,
    needs_artifacts_on_disk=True,
)
