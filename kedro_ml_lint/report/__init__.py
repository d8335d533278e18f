"""One module per output format; each renders a ``LintResult`` to a string.

Every renderer is a :data:`Renderer`: ``render(result, options) -> str``. What was fixed
is ``result.fixed``; the options say how to print, and each format uses the ones that mean
something to it.
"""

from __future__ import annotations

from kedro_ml_lint.report import github, json, markdown, sarif, statistics, text
from kedro_ml_lint.report.options import Renderer, RenderOptions

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
    "markdown": markdown.render,
}
# `--statistics`: counts per rule instead of violations.
STATISTICS: dict[str, Renderer] = {"text": statistics.render_text, "json": statistics.render_json}

__all__ = ["FORMATS", "STATISTICS", "RenderOptions", "Renderer"]
