"""Project pipelines.

``training`` is kedro-mlflow's ``PipelineML``: the training nodes, bound to the inference
pipeline they feed and to the name of the served input. kedro-mlflow checks part of the
contract when the pair is built; ``kedro-ml-lint check`` finds the pair here and checks
the rest (the catalog, the parameters).
"""

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from churn_mlflow.pipelines import inference, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    inference_pipeline = inference.create_pipeline()
    training_pipeline = pipeline_ml_factory(
        training=training.create_pipeline(),
        inference=inference_pipeline,
        input_name="instances",
    )
    return {
        "training": training_pipeline,
        "inference": inference_pipeline,
        "__default__": training_pipeline,
    }
