"""KML002: an artifact is persisted, but not as a file MLflow can copy."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts
from kedro_ml_lint.model.names import is_local_path, protocol_of
from kedro_ml_lint.rules.base import Rule


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag persisted artifacts with a remote filepath or no filepath at all."""
    for artifact in pair.artifacts:
        spec = pair.datasets[artifact]
        if spec.is_memory:
            reason = None  # KML001's business
        elif spec.filepath is None:
            kind = f"dataset `{spec.type}`" if spec.type else "catalog entry"
            reason = f"its {kind} has no `filepath`"
        elif "::" in spec.filepath:
            reason = (
                f"its filepath `{spec.filepath}` chains fsspec protocols, which Kedro does not "
                "resolve: it would read and write a local file of that literal name"
            )
        elif not is_local_path(spec.filepath):
            reason = (
                f"its filepath `{spec.filepath}` is on `{protocol_of(spec.filepath)}`, "
                "not on the local disk"
            )
        else:
            reason = None
        if reason:
            yield RULE.violation(
                pair,
                f"Inference input `{artifact}` is not a local file: {reason}; "
                "MLflow logs artifacts from local paths only",
                subject=artifact,
            )


RULE = Rule(
    code="KML002",
    name="inference-input-not-local",
    summary="An inference artifact is persisted remotely or without a file.",
    check=check,
)
