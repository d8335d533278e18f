"""KML204: the installed Kedro and kedro-mlflow are a pair known to break model logging."""

from __future__ import annotations

from collections.abc import Iterator

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import Factory, PairFacts
from kedro_ml_lint.model.wiring import release
from kedro_ml_lint.rules.base import Rule

# Read off both packages' code (rules/KML204.md gives the sources): Kedro 1.2.0 stopped
# passing `pipeline_name` in `run_params` and sums the requested pipelines into a plain
# `Pipeline`; kedro-mlflow 2.0.2 reads `pipeline_names`, 2.0.3 keeps a PipelineML whole.
KEDRO_SUMS_PIPELINES = (1, 2, 0)
KEDRO_MLFLOW_READS_PIPELINE_NAMES = (2, 0, 2)
KEDRO_MLFLOW_FIXED = (2, 0, 3)


def check(pair: PairFacts) -> Iterator[Violation]:
    """Flag kedro-mlflow's hook on a Kedro that breaks it."""
    wiring = pair.wiring
    if wiring is None or not wiring.kedro_mlflow_hook:
        return
    kedro, plugin = release(wiring.kedro_version), release(wiring.kedro_mlflow_version)
    if kedro is None or plugin is None or kedro < KEDRO_SUMS_PIPELINES:
        return
    versions = f"Kedro {wiring.kedro_version} with kedro-mlflow {wiring.kedro_mlflow_version}"
    if plugin < KEDRO_MLFLOW_READS_PIPELINE_NAMES:
        yield RULE.violation(
            pair,
            f"{versions}: every `kedro run` fails in kedro-mlflow's hook with "
            "`KeyError: 'pipeline_name'` (kedro-mlflow #686); install kedro-mlflow>=2.0.3",
        )
    elif plugin < KEDRO_MLFLOW_FIXED and wiring.factory is Factory.KEDRO_MLFLOW:
        yield RULE.violation(
            pair,
            f"{versions}: kedro-mlflow's hook silently logs no model, because Kedro hands it "
            "the pair summed into a plain `Pipeline` (kedro-mlflow #690); install "
            "kedro-mlflow>=2.0.3",
        )


RULE = Rule(
    code="KML204",
    name="incompatible-plugin-versions",
    summary="The installed Kedro and kedro-mlflow are known to break logging the pair.",
    check=check,
)
