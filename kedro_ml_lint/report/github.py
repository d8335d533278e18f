r"""``--format github``: GitHub Actions workflow commands, one annotation per violation.

``::error file=conf/base/catalog.yml,line=16,col=1,title=KML002::message``; GitHub shows
each on the pull request's diff. Escaping follows the runner's rules: ``%``, ``\r`` and
``\n`` everywhere, and also ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.paths import base_of, display_path

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def render(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """One workflow command per remaining violation; nothing else.

    Args:
        result: What the lint found.
        options: ``workspace`` (``GITHUB_WORKSPACE``): paths are made relative to it when
            it holds the project (GitHub resolves annotation paths from the repository root).
    """
    _, prefix = base_of(result.project, options.workspace)
    return "".join(annotation(v, prefix) + "\n" for v in result.violations)


def annotation(violation: Violation, prefix: str = "") -> str:
    """The workflow command for ``violation``."""
    properties: list[tuple[str, str]] = []
    if violation.location is not None:
        loc = violation.location
        properties += [
            ("file", display_path(loc, prefix)),
            ("line", str(loc.line)),
            ("col", str(loc.column)),
        ]
    properties.append(("title", violation.code))
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = escape_data(f"{violation.message} [{violation.pair}]")
    return f"::{COMMANDS[violation.severity]} {joined}::{message}"


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
