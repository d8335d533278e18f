"""The ``legacy`` pair: an older model on numeric features only, under the ``legacy`` namespace."""

from .pipeline import create_inference_pipeline, create_training_pipeline

__all__ = ["create_inference_pipeline", "create_training_pipeline"]
