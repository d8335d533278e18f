"""Building a project's catalog leaves the caller's logging as it found it.

Bootstrapping a package it has not seen, Kedro applies its logging configuration again
(``dictConfig``): the root's handlers replaced, the ``kedro`` logger back at INFO. Inside
``--log``'s quieting that let Kedro's INFO records (parameter validation) into the report of
an in-process ``check --log`` and dropped the caller's own handlers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import RecordingHandler
from kedro.framework import project as kedro_project
from mlflow_support import EXAMPLES, copy_project

from kedro_ml_lint.publishing.catalog import project_catalog
from kedro_ml_lint.publishing.quiet import quiet_kedro


def test_building_the_catalog_keeps_the_callers_handlers_and_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "churn")
    # As in a process that never bootstrapped `churn`: Kedro configures logging again.
    monkeypatch.delitem(kedro_project.LOGGING.data.get("loggers", {}), "churn", raising=False)
    monkeypatch.setattr(kedro_project, "PACKAGE_NAME", None)
    root, kedro_logger = logging.getLogger(), logging.getLogger("kedro")
    mine = RecordingHandler()
    monkeypatch.setattr(root, "handlers", [mine])
    monkeypatch.setattr(kedro_logger, "level", logging.INFO)

    with quiet_kedro():
        package, catalog = project_catalog(project)
        assert kedro_logger.level == logging.WARNING  # still quiet after the bootstrap
    assert package == "churn" and "scaler" in catalog
    assert root.handlers == [mine]
    assert kedro_logger.level == logging.INFO
    chatter = [r for r in mine.records if r.name.startswith("kedro") and r.levelno < 30]
    assert chatter == [], [r.getMessage() for r in chatter]
