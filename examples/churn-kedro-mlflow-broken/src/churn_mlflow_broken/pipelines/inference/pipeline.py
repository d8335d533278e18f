"""The inference pipeline: it reads ``reference_stats``, which training neither produces
nor reads (KML003). kedro-mlflow's ``pipeline_ml_factory`` raises for this free input.
"""

from kedro.pipeline import Node, Pipeline

from ..training.nodes import encode_plan, scale_features
from .nodes import compare_to_reference, predict


def create_pipeline(**kwargs) -> Pipeline:
    """Check drift, then encode, scale and score the served ``instances``."""
    return Pipeline(
        [
            Node(
                compare_to_reference,
                inputs=["instances", "reference_stats"],  # KML003: a free input
                outputs="checked_instances",
                name="compare_to_reference",
            ),
            Node(
                encode_plan,
                inputs=["checked_instances", "encoder"],
                outputs="encoded_instances",
                name="encode_instances",
            ),
            Node(
                scale_features,
                inputs=["encoded_instances", "scaler"],
                outputs="scaled_instances",
                name="scale_instances",
            ),
            Node(
                predict,
                inputs=["scaled_instances", "model", "params:threshold"],
                outputs="predictions",
                name="predict",
            ),
        ]
    )
