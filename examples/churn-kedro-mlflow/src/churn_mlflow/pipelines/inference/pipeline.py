"""The inference pipeline: ``instances`` + artifacts in, one ``predictions`` table out."""

from kedro.pipeline import Node, Pipeline

from ..training.nodes import encode_plan, scale_features
from .nodes import predict


def create_pipeline(**kwargs) -> Pipeline:
    """Encode, scale and score the served ``instances``."""
    return Pipeline(
        [
            Node(
                encode_plan,
                inputs=["instances", "encoder"],
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
