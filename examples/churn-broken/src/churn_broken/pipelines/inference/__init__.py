"""Score new customers (``instances``) with the artifacts that training fitted."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
