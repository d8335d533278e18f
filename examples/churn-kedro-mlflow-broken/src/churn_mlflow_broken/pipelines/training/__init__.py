"""Fit the artifacts: ``encoder``, ``scaler`` and ``model``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
