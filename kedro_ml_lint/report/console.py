"""Where a report goes and how it looks: the output format and colour, with their sources.

Both are resolved the way users of ruff expect (docs/cli.md): an explicit flag wins, then
the environment (``KEDRO_ML_LINT_OUTPUT_FORMAT``; ``NO_COLOR`` and ``FORCE_COLOR`` as
no-color.org and force-color.org define them: set and not empty), then the default
(``github`` under ``GITHUB_ACTIONS=true``, else ``text``; colour only on a terminal).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when called: the command line imports this module to start
    from kedro_ml_lint.settings import Resolved

COLOR_CHOICES = ("auto", "always", "never")
FORMAT_VARIABLE = "KEDRO_ML_LINT_OUTPUT_FORMAT"


def output_format(flag: str | None, from_environment: bool, environ: Mapping[str, str]) -> Resolved:
    """The output format and where it came from.

    Args:
        flag: ``--output-format``'s value (click already read ``KEDRO_ML_LINT_OUTPUT_FORMAT``
            into it when the flag was not given).
        from_environment: The value came from the variable, not the command line.
        environ: The environment (``GITHUB_ACTIONS``).
    """
    from kedro_ml_lint.settings import Resolved

    if flag is not None:
        source = f"environment ({FORMAT_VARIABLE})" if from_environment else "command line"
        return Resolved("output-format", flag, source)
    if environ.get("GITHUB_ACTIONS") == "true":
        return Resolved("output-format", "github", "environment (GITHUB_ACTIONS=true)")
    return Resolved("output-format", "text", "default")


def color(flag: str | None, environ: Mapping[str, str], is_terminal: bool) -> Resolved:
    """Whether to colour, as ``always``/``never`` (``auto`` resolved), and why.

    Args:
        flag: ``--color``'s value, ``None`` when not given.
        environ: The environment (``NO_COLOR``, ``FORCE_COLOR``).
        is_terminal: The report goes to a terminal (not a pipe, not ``--output``).
    """
    from kedro_ml_lint.settings import Resolved

    if flag in ("always", "never"):
        return Resolved("color", flag, f"command line (--color {flag})")
    if environ.get("NO_COLOR"):
        return Resolved("color", "never", "environment (NO_COLOR)")
    if environ.get("FORCE_COLOR"):
        return Resolved("color", "always", "environment (FORCE_COLOR)")
    source = "command line (--color auto)" if flag == "auto" else "default"
    return Resolved(
        "color",
        "always" if is_terminal else "never",
        f"{source}: auto, " + ("a terminal" if is_terminal else "not a terminal"),
    )
