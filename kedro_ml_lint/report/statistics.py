"""``--statistics``: how many violations of each rule remain, like ``ruff --statistics``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.report.options import PLAIN, RenderOptions


@dataclass(frozen=True)
class CodeCount:
    """The violations of one rule.

    Attributes:
        code: The rule code.
        name: The rule's name.
        count: How many remain.
        fixable: How many of them ``--fix`` can repair.
    """

    code: str
    name: str
    count: int
    fixable: int


def count(result: LintResult) -> list[CodeCount]:
    """One row per code, most frequent first, then by code."""
    counts = Counter(v.code for v in result.violations)
    fixable = Counter(v.code for v in result.violations if _fixable(v))
    names = {v.code: v.name for v in result.violations}
    rows = [CodeCount(code, names[code], n, fixable[code]) for code, n in counts.items()]
    return sorted(rows, key=lambda row: (-row.count, row.code))


def render_text(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """``COUNT  CODE  [*] name`` lines; ``[*]`` marks a rule with safe fixes."""
    rows = count(result)
    if not rows:
        return ""
    width = max(len(str(row.count)) for row in rows)
    return "".join(
        f"{row.count:>{width}}\t{row.code}\t{'[*]' if row.fixable else '   '} {row.name}\n"
        for row in rows
    )


def render_json(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """A JSON list of ``{code, name, count, fixable}``."""
    rows = [
        {"code": r.code, "name": r.name, "count": r.count, "fixable": r.fixable}
        for r in count(result)
    ]
    return json.dumps(rows, indent=2) + "\n"


def _fixable(violation: Violation) -> bool:
    return violation.fix is not None and violation.fix.is_safe
