"""Project pipelines.

``training`` is a ``PipelineML``: the training nodes, bound to the inference pipeline
they feed and to the name of the served input. ``kedro-ml-lint check`` finds it here.
"""

from kedro.pipeline import Pipeline

from kedro_ml_lint import pipeline_ml_factory

from churn.pipelines import inference, training


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
