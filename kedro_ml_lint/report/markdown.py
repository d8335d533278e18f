"""``--format markdown``: a summary for a GitHub job summary or a pull-request comment.

A headline, a table of the remaining violations, then each pair drawn as a Mermaid
flowchart (GitHub renders ```` ```mermaid ```` blocks) with the violating datasets highlighted.
"""

from __future__ import annotations

import re

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.report import graph
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.summary import Summary

TITLE = "## kedro-ml-lint"
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def render(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """The Markdown summary of ``result`` (no option applies)."""
    summary = Summary.of(result)
    lines = [TITLE, "", _headline(summary), ""]
    if result.violations:
        lines += [
            "| Code | Pair | Subject | Location | Message |",
            "|---|---|---|---|---|",
            *(_row(v) for v in result.violations),
            "",
        ]
    for item in graph.pictures(result.facts, result.violations):
        served = f" — served input `{item.input_name}`" if item.input_name else ""
        lines += [
            f"### Pair `{item.name}`{served}",
            "",
            "```mermaid",
            graph.to_mermaid([item]).rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(lines)


def _headline(summary: Summary) -> str:
    if not summary.violations:
        return f":white_check_mark: **All checks passed** ({summary.checked})."
    fixable = (
        f" {summary.fixable} can be fixed with `kedro-ml-lint check --fix`."
        if summary.fixable
        else ""
    )
    icon = ":x:" if summary.errors else ":warning:"
    return f"{icon} **{summary.found}** ({summary.checked}).{fixable}"


def _row(violation: Violation) -> str:
    location = ""
    if violation.location is not None:
        loc = violation.location
        location = f"`{loc.path}:{loc.line}:{loc.column}`"
    subject = f"`{violation.subject}`" if violation.subject else ""
    warning = " *(warning)*" if violation.severity is Severity.WARNING else ""
    cells = [
        f"**{violation.code}** {violation.name}{warning}",
        f"`{violation.pair}`",
        subject,
        location,
        violation.message,
    ]
    return "| " + " | ".join(cell_text(cell) for cell in cells) + " |"


def cell_text(text: str) -> str:
    """Make ``text`` safe in a GFM table cell: one line, ``|`` escaped, no stray HTML."""
    parts = _CODE_SPAN.split(" ".join(text.splitlines()))
    out = []
    for part in parts:
        if not (part.startswith("`") and part.endswith("`") and len(part) > 1):
            part = part.replace("<", "&lt;").replace(">", "&gt;")
        out.append(part.replace("|", "\\|"))
    return "".join(out)
