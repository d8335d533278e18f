"""The ``legacy`` pair. Its datasets are namespaced: ``legacy.scaler``, ``legacy.model``…

Its inference pipeline has two final outputs (KML004) and reads the whole
``parameters`` dict (KML007); the registry binds it with ``input_name="instance"``,
a typo of ``instances`` (KML005).
"""

from kedro.pipeline import Node, Pipeline

from ..training.nodes import fit_scaler, scale_features, train_model
from .nodes import predict_and_summarise, select_numeric_features, split_numeric_features


def create_training_pipeline(**kwargs) -> Pipeline:
    """Fit ``legacy.scaler`` and ``legacy.model`` (reads ``params:legacy.model_options``)."""
    return Pipeline(
        [
            Node(
                split_numeric_features,
                inputs="customers",
                outputs=["features", "target"],
                name="split_numeric_features",
            ),
            Node(fit_scaler, inputs="features", outputs="scaler", name="fit_scaler"),
            Node(
                scale_features,
                inputs=["features", "scaler"],
                outputs="model_input",
                name="scale_features",
            ),
            Node(
                train_model,
                inputs=["model_input", "target", "params:model_options"],
                outputs="model",
                name="train_model",
            ),
        ],
        namespace="legacy",
        inputs={"customers"},  # shared with the main pair: not namespaced
    )


def create_inference_pipeline(**kwargs) -> Pipeline:
    """Score ``instances`` with ``legacy.scaler`` and ``legacy.model``."""
    return Pipeline(
        [
            Node(
                select_numeric_features,
                inputs="instances",
                outputs="numeric_instances",
                name="select_numeric_features",
            ),
            Node(
                scale_features,
                inputs=["numeric_instances", "scaler"],
                outputs="scaled_instances",
                name="scale_instances",
            ),
            Node(
                predict_and_summarise,
                inputs=["scaled_instances", "model", "parameters"],  # KML007
                outputs=["predictions", "summary"],  # KML004: two final outputs
                name="predict_and_summarise",
            ),
        ],
        namespace="legacy",
        inputs={"instances"},  # the served input: not namespaced
    )
