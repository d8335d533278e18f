"""The hook's pre-flight in a packaged deployment never stops a run for its own reasons."""

from __future__ import annotations

import logging
from pathlib import Path

from conftest import RecordingHandler

from kedro_ml_lint.hooks import MlflowPipelineHook, _source_checkout


def test_a_folder_without_pyproject_is_no_source_checkout(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert _source_checkout(tmp_path / "data") is None
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\npackage_name = 'churn'\n")
    assert _source_checkout(tmp_path / "data") == tmp_path


def test_a_pre_flight_that_cannot_run_is_one_info_line(tmp_path: Path) -> None:
    # On the hook's own logger: importing Kedro's project module reconfigures the root's.
    logger = logging.getLogger("kedro_ml_lint.hooks")
    handler, level = RecordingHandler(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        # No project is configured in this process: the registry cannot give the pair.
        MlflowPipelineHook(log_model=False)._packaged_preflight(tmp_path, ["no-such-pair"])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    ours = handler.records
    assert len(ours) == 1 and ours[0].levelno == logging.INFO
    message = ours[0].getMessage()
    assert message.startswith("kedro-ml-lint: pre-flight skipped: no `pyproject.toml`")
    assert "\n" not in message
