"""One module per output format; each renders a ``LintResult`` to a string.

Every renderer is called as ``render(result, fixed=0, color=False)``; ``sarif`` and
``github`` also take ``workspace`` (paths become relative to the CI workspace).
"""

from __future__ import annotations

from kedro_ml_lint.report import github, json, markdown, sarif, text

FORMATS = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
    "markdown": markdown.render,
}
WORKSPACE_AWARE = frozenset({"sarif", "github"})

__all__ = ["FORMATS", "WORKSPACE_AWARE"]
