"""Project pipelines: two pairs, ``training`` and ``legacy``, each with deliberate faults.

See README.md for the violations kedro-ml-lint must report. kedro-ml-lint's
``pipeline_ml_factory`` never raises for a broken pair, so this registry loads.
"""

from kedro.pipeline import Pipeline

from kedro_ml_lint import pipeline_ml_factory

from churn_broken.pipelines import inference, legacy, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    training_nodes = training.create_pipeline()
    inference_pipeline = inference.create_pipeline()
    training_pipeline = pipeline_ml_factory(
        training=training_nodes,
        inference=inference_pipeline,
        input_name="instances",
    )

    legacy_inference = legacy.create_inference_pipeline()
    legacy_pipeline = pipeline_ml_factory(
        training=legacy.create_training_pipeline(),
        inference=legacy_inference,
        input_name="instance",  # KML005: a typo, the inference pipeline reads `instances`
    )

    return {
        "training": training_pipeline,
        "inference": inference_pipeline,
        "legacy": legacy_pipeline,
        "legacy_inference": legacy_inference,
        # The plain training nodes, so that this project registers exactly two pairs.
        "__default__": training_nodes,
    }
