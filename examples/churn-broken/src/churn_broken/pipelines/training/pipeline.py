"""The training pipeline: raw customers in, three persisted artifacts out."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    encode_plan,
    fit_encoder,
    fit_scaler,
    scale_features,
    split_features_target,
    train_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Fit ``encoder``, ``scaler`` and ``model`` (each persisted in the catalog)."""
    return Pipeline(
        [
            Node(
                split_features_target,
                inputs="customers",
                outputs=["features", "target"],
                name="split_features_target",
            ),
            Node(fit_encoder, inputs="features", outputs="encoder", name="fit_encoder"),
            Node(
                encode_plan,
                inputs=["features", "encoder"],
                outputs="encoded_features",
                name="encode_plan",
            ),
            Node(fit_scaler, inputs="encoded_features", outputs="scaler", name="fit_scaler"),
            Node(
                scale_features,
                inputs=["encoded_features", "scaler"],
                outputs="model_input",
                name="scale_features",
            ),
            Node(
                train_model,
                inputs=["model_input", "target", "params:model_options"],
                outputs="model",
                name="train_model",
            ),
        ]
    )
