"""``--format text``: one ``path:line:col: CODE message [pipeline]`` line per violation.

A warning reads ``path:line:col: CODE [warning] message [pipeline]`` (docs/design.md §5).
"""

from __future__ import annotations

import click

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.engine import UnusedNoqa
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.summary import Summary


def render(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """Violations then a summary line (not when ``quiet``), like ruff."""
    lines = [violation_line(v, options.color) for v in result.violations]
    if not options.quiet:
        lines.append(_summary_line(Summary.of(result)))
    return "".join(line + "\n" for line in lines)


def violation_line(violation: Violation, color: bool = False) -> str:
    """``path:line:col: CODE message [pipeline]``: what ``check`` and the hook print.

    A warning carries ``[warning]`` after its code; with ``color``, errors are red and
    warnings yellow.
    """

    def style(text: str, **styles: object) -> str:
        return click.style(text, **styles) if color else text  # type: ignore[arg-type]

    where = ""
    if violation.location:
        loc = violation.location
        where = style(f"{loc.path}:{loc.line}:{loc.column}:", bold=True) + " "
    if violation.severity is Severity.WARNING:
        code = style(f"{violation.code} [warning]", fg="yellow", bold=True)
    else:
        code = style(violation.code, fg="red", bold=True)
    return f"{where}{code} {violation.message} [{violation.pair}]"


def _summary_line(summary: Summary) -> str:
    if not summary.violations:
        return f"All checks passed! ({summary.checked})"
    fixable = f" {summary.fixable} fixable with `--fix`." if summary.fixable else ""
    return f"Found {summary.found} ({summary.checked}).{fixable}"


def unused_noqa_line(unused: UnusedNoqa) -> str:
    """``path:line:col: unused `# noqa` (unused: KML002; unknown: KML999)``, for stderr."""
    loc = unused.location
    where = f"{loc.path}:{loc.line}:{loc.column}:"
    if unused.bare:
        return f"{where} unused `# noqa`: it silences nothing here"
    parts = []
    if unused.unused:
        parts.append("unused: " + ", ".join(unused.unused))
    if unused.unknown:
        parts.append("unknown: " + ", ".join(unused.unknown))
    return f"{where} unused `# noqa` ({'; '.join(parts)})"
