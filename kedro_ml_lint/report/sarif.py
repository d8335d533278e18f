"""``--format sarif``: a SARIF 2.1.0 log for GitHub code scanning and other viewers.

``tool.driver.rules`` comes from the rule docs (front matter, then the first paragraph of
"What it does"); each result points at its file relative to ``%SRCROOT%``.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from kedro_ml_lint._version import __version__
from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.paths import base_of, display_path
from kedro_ml_lint.report.ruledocs import RuleDoc, all_rule_docs
from kedro_ml_lint.vocabulary import PYPROJECT

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "kedro-ml-lint"
INFORMATION_URI = "https://pypi.org/project/kedro-ml-lint/"
SRCROOT = "%SRCROOT%"
# A pair-level violation without a known position is reported on the project file: code
# scanning requires every result to have a location.
FALLBACK_PATH = PYPROJECT  # a project-level violation is about its settings
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def render(result: LintResult, options: RenderOptions = PLAIN) -> str:
    """The SARIF log of ``result``'s remaining violations (fixed ones are not results).

    Args:
        result: What the lint found.
        options: ``workspace``: paths are made relative to it when it holds the project.
    """
    base, prefix = base_of(result.project, options.workspace)
    docs = all_rule_docs()
    index = {doc.code: i for i, doc in enumerate(docs)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(doc) for doc in docs],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": base.resolve().as_uri() + "/"}},
        "invocations": [{"executionSuccessful": True}],
        "results": [_result(v, index, prefix) for v in result.violations],
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rule(doc: RuleDoc) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": _plain(doc.description), "markdown": doc.description},
        "defaultConfiguration": {"level": "error" if doc.severity == "error" else "warning"},
        "properties": {"fix": doc.fix, "tags": ["kedro", "mlflow"]},
    }
    if doc.markdown:
        descriptor["help"] = {"text": _plain(doc.description), "markdown": doc.markdown}
    return descriptor


def _result(violation: Violation, index: dict[str, int], prefix: str) -> dict[str, Any]:
    location = violation.location or Location(FALLBACK_PATH)
    result: dict[str, Any] = {
        "ruleId": violation.code,
        "level": LEVELS[violation.severity],
        "message": {"text": f"{violation.message} [{violation.pair}]"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(display_path(location, prefix)),
                    "region": {"startLine": location.line, "startColumn": location.column},
                }
            }
        ],
        "properties": {"pipeline": violation.pair, "subject": violation.subject},
    }
    if violation.code in index:
        result["ruleIndex"] = index[violation.code]
    return result


def _artifact(path: str) -> dict[str, str]:
    """A relative path hangs off ``%SRCROOT%``; one outside the project is a file URI."""
    if PurePosixPath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def _plain(markdown: str) -> str:
    """Drop emphasis markers; backticks read fine as plain text."""
    return markdown.replace("**", "")
