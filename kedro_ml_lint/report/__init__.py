"""One module per output format; each renders a ``LintResult`` to a string."""

from __future__ import annotations

from kedro_ml_lint.report import json, text

FORMATS = {"text": text.render, "json": json.render}

__all__ = ["FORMATS"]
