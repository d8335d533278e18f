"""One module per output format; each renders a ``LintResult`` to a string.

Every renderer is a :data:`Renderer`: ``render(result, options) -> str``. What was fixed
is ``result.fixed``; the options say how to print, and each format uses the ones that mean
something to it. A format's module is imported when it is asked for: a warm ``check``
prints text without paying for SARIF's rule docs or the graph code (docs/design.md §13).
"""

from __future__ import annotations

from importlib import import_module

from kedro_ml_lint.report.options import Renderer, RenderOptions

# format -> (module in this package, function)
_FORMATS = {
    "text": ("text", "render"),
    "json": ("json", "render"),
    "sarif": ("sarif", "render"),
    "github": ("github", "render"),
    "markdown": ("markdown", "render"),
}
# `--statistics`: counts per rule instead of violations.
_STATISTICS = {"text": ("statistics", "render_text"), "json": ("statistics", "render_json")}
FORMAT_NAMES = tuple(_FORMATS)
STATISTICS_FORMAT_NAMES = tuple(_STATISTICS)


def renderer(output_format: str, statistics: bool = False) -> Renderer:
    """The renderer of ``output_format`` (one of :data:`FORMAT_NAMES`).

    Args:
        output_format: The format's name.
        statistics: The ``--statistics`` renderer instead (text or json).

    Raises:
        KeyError: When there is no such format.
    """
    module, function = (_STATISTICS if statistics else _FORMATS)[output_format]
    render: Renderer = getattr(import_module(f"{__name__}.{module}"), function)
    return render


__all__ = ["FORMAT_NAMES", "STATISTICS_FORMAT_NAMES", "RenderOptions", "Renderer", "renderer"]
