"""Project pipelines: one pair, ``training``, that kedro-mlflow rejects.

kedro-mlflow's ``pipeline_ml_factory`` raises ``KedroMlflowPipelineMLError`` here, when
the registry is loaded, because the inference pipeline reads a free input
(``reference_stats``). It stops at that first error and does not look at the catalog,
where ``encoder`` is missing. ``kedro-ml-lint check`` reports both (see README.md).
"""

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from churn_mlflow_broken.pipelines import inference, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    inference_pipeline = inference.create_pipeline()
    training_pipeline = pipeline_ml_factory(  # raises KedroMlflowPipelineMLError
        training=training.create_pipeline(),
        inference=inference_pipeline,
        input_name="instances",
    )
    return {
        "training": training_pipeline,
        "inference": inference_pipeline,
        "__default__": training_pipeline,
    }
