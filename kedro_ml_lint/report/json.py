"""``--format json``: the stable, versioned shape of docs/design.md §5."""

from __future__ import annotations

import json

from kedro_ml_lint._version import __version__
from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.summary import Summary

SCHEMA_VERSION = 2  # 2: `project` became an object (root, kedro_version)


def render(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """The JSON document for ``result`` (no option applies).

    After ``--fix``, the fixed violations are listed too, with ``fix.applied: true``;
    ``summary.violations`` counts only the ones that remain.
    """
    summary = Summary.of(result)
    reported = sorted([*result.violations, *result.fixed], key=Violation.sort_key)
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "kedro-ml-lint", "version": __version__},
        "project": {"root": str(result.project), "kedro_version": result.kedro_version},
        "pairs": [pair.to_dict() for pair in result.pairs],
        "violations": [violation.to_dict() for violation in reported],
        "summary": {
            "violations": summary.violations,
            "fixed": summary.fixed,
            "fixable": summary.fixable,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
