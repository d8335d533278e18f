"""The hook's log lines read as ``check``'s lines under Kedro's own log handler.

Kedro's ``RichHandler`` renders rich markup by default, where ``[training]`` is a style tag:
rendered as markup, a finding would lose its ``[warning]`` marker and its pair.
"""

from __future__ import annotations

import io
import logging

from kedro.logging import RichHandler
from rich.console import Console

from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.hooks import log_finding
from kedro_ml_lint.report.text import violation_line


def test_a_finding_logged_through_kedros_rich_handler_keeps_its_brackets() -> None:
    finding = Violation(
        code="KML206",
        name="deepcopy-model-artifact",
        severity=Severity.WARNING,
        message="Inference input `instances[0]` has [square] brackets",
        pair="training",
        subject="instances",
        location=Location(path="conf/base/catalog.yml", line=9, column=1),
    )
    screen = io.StringIO()
    handler = RichHandler(
        console=Console(file=screen, width=1000, color_system=None),
        show_time=False,
        show_level=False,
        show_path=False,
    )
    hooks_logger = logging.getLogger("kedro_ml_lint.hooks")
    hooks_logger.addHandler(handler)
    try:
        log_finding(finding)
    finally:
        hooks_logger.removeHandler(handler)

    shown = " ".join(screen.getvalue().split())
    assert shown == f"kedro-ml-lint: {violation_line(finding)}"
    assert shown.endswith("has [square] brackets [training]")
    assert "KML206 [warning]" in shown
