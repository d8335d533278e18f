"""The one interface of every output format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult


@dataclass(frozen=True)
class RenderOptions:
    """How to print a report.

    Attributes:
        color: ANSI colour (``text`` only: a terminal, not a file, and no ``NO_COLOR``).
        quiet: Violations only, no summary line (``text``; the others have none to drop).
        workspace: The CI workspace (``GITHUB_WORKSPACE``): ``sarif`` and ``github`` make
            paths relative to it when it holds the project.
    """

    color: bool = False
    quiet: bool = False
    workspace: Path | None = None


Renderer = Callable[["LintResult", RenderOptions], str]

# The defaults: no colour, the summary line, paths as the project writes them.
PLAIN = RenderOptions()
