"""KML001: an artifact the inference pipeline reads would live in memory only."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Applicability, CatalogEdit, Fix, Violation
from kedro_ml_lint.model import DatasetSpec, Origin, PairFacts
from kedro_ml_lint.model.names import TRANSCODING_SEPARATOR, did_you_mean, strip_transcoding
from kedro_ml_lint.rules.base import Rule, backticked

MODELS_DIR = "data/06_models"


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag every artifact that resolves to a ``MemoryDataset``."""
    for artifact in pair.artifacts:
        spec = pair.datasets[artifact]
        if not spec.is_memory:
            continue
        writers = pair.writers(artifact)
        written = f", written by training node {backticked(set(writers))}," if writers else ""
        # A key the pair never uses that looks like the artifact: a misspelt entry.
        misspelt = (
            did_you_mean(artifact, pair.unused_entries) if spec.origin is Origin.DEFAULT else ""
        )
        yield RULE.violation(
            pair,
            f"Inference input `{artifact}`{written} is not persisted: {_why(spec)}, so "
            f"training keeps it in memory and it cannot be logged with the model{misspelt}",
            subject=artifact,
            fix=persist_fix(spec),
        )


def _why(spec: DatasetSpec) -> str:
    if spec.origin is Origin.DEFAULT:
        return "no catalog entry or dataset pattern matches it"
    if spec.origin is Origin.ENTRY:
        return f"its catalog entry is a `{spec.type}`"
    return f"the pattern `{spec.key}` resolves it to a `{spec.type}`"


def persist_fix(spec: DatasetSpec) -> Fix:
    """Add a pickle entry under ``data/06_models``.

    Safe when the catalog has no entry of that name (an explicit entry beats any pattern,
    so adding one changes nothing else). Rewriting an explicit ``MemoryDataset`` entry, or
    a transcoded name whose other formats must share the file, needs a human.
    """
    filepath = f"{MODELS_DIR}/{strip_transcoding(spec.name)}.pkl"
    edit = CatalogEdit(spec.name, (("type", "pickle.PickleDataset"), ("filepath", filepath)))
    if spec.origin is Origin.ENTRY:
        return Fix(
            f"Replace the `{spec.type}` entry of `{spec.name}` with a `pickle.PickleDataset` "
            f"at `{filepath}`",
            Applicability.DISPLAY_ONLY,
        )
    applicability = (
        Applicability.UNSAFE if TRANSCODING_SEPARATOR in spec.name else Applicability.SAFE
    )
    return Fix(
        f"Add a `pickle.PickleDataset` entry for `{spec.name}` at `{filepath}`",
        applicability,
        (edit,),
    )


RULE = Rule(
    code="KML001",
    name="inference-input-not-persisted",
    summary="An inference artifact resolves to a MemoryDataset, so it is never saved.",
    check=check,
    fix=Applicability.SAFE,
)
