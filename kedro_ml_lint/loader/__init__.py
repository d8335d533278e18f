"""The only reader of projects and of kedro internals."""

from __future__ import annotations

from kedro_ml_lint.loader.project import Project, load_project

__all__ = ["Project", "load_project"]
