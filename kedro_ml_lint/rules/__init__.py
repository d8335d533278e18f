"""The explicit table of rules: one module each, registered here and nowhere else."""

from __future__ import annotations

from kedro_ml_lint.rules import (
    kml001_inference_input_not_persisted,
    kml002_inference_input_not_local,
    kml003_inference_input_not_from_training,
    kml004_inference_output_not_single,
    kml005_input_name_not_inference_input,
    kml006_inference_parameter_undefined,
    kml007_inference_reads_all_parameters,
    kml101_artifact_missing_on_disk,
    kml201_pair_never_logged,
    kml202_pair_logged_twice,
    kml203_pair_hidden_in_sum,
    kml204_incompatible_plugin_versions,
    kml205_bad_log_model_kwargs,
    kml206_deepcopy_model_artifact,
)
from kedro_ml_lint.rules.base import Rule

RULES: tuple[Rule, ...] = (
    kml001_inference_input_not_persisted.RULE,
    kml002_inference_input_not_local.RULE,
    kml003_inference_input_not_from_training.RULE,
    kml004_inference_output_not_single.RULE,
    kml005_input_name_not_inference_input.RULE,
    kml006_inference_parameter_undefined.RULE,
    kml007_inference_reads_all_parameters.RULE,
    kml101_artifact_missing_on_disk.RULE,
    kml201_pair_never_logged.RULE,
    kml202_pair_logged_twice.RULE,
    kml203_pair_hidden_in_sum.RULE,
    kml204_incompatible_plugin_versions.RULE,
    kml205_bad_log_model_kwargs.RULE,
    kml206_deepcopy_model_artifact.RULE,
)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_CODE", "Rule"]
