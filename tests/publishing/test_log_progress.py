"""``check --log`` says what a long step is doing, on stderr, only where someone watches.

A terminal (stderr a real pseudo-terminal here) or ``-v`` get a line for each step that runs
over a second — loading the project, reading its catalog, building the model (artifacts,
requirements, a test prediction), opening the store, logging, registering — and its time; a
CI log (plain pipes, no ``-v``) gets nothing extra.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow_support import KEDRO_ENV, copy_project, store_state, tracking_uri, trained

from kedro_ml_lint.progress import NO_PROGRESS, PREFIX, Progress

LOG = ["check", "--log", "--experiment", "churn", "--registered-model-name", "churn"]
# A progress line, as against kedro-ml-lint's warnings (same prefix).
STEP = re.compile(
    re.escape(PREFIX) + r"(loading|reading|building|opening|logging|registering) .*(…| s)$", re.M
)


def test_a_step_over_the_threshold_is_announced_then_timed() -> None:
    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, threshold=0.05)
    with progress.step("building the model of `training`"):
        time.sleep(0.3)
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"{PREFIX}building the model of `training`…"
    assert lines[1].startswith(f"{PREFIX}building the model of `training`: 0.")
    assert lines[1].endswith(" s") and len(lines) == 2


def test_a_quick_step_says_nothing() -> None:
    stream = io.StringIO()
    with Progress(enabled=True, stream=stream, threshold=1.0).step("loading"):
        pass
    assert stream.getvalue() == ""


def test_off_says_nothing_however_long() -> None:
    stream = io.StringIO()
    with Progress(enabled=False, stream=stream, threshold=0.0).step("loading"):
        time.sleep(0.1)
    assert stream.getvalue() == ""
    with NO_PROGRESS.step("loading"):
        pass


def test_on_for_a_terminal_or_verbose_only() -> None:
    assert Progress.for_stderr(verbose=True).enabled
    # Under pytest's capture stderr is no terminal: what CI logs are.
    assert not Progress.for_stderr(verbose=False).enabled


def _command(project: Path) -> list[str]:
    return [sys.executable, "-m", "kedro_ml_lint", *LOG, str(project)]


def _run_with_a_terminal_for_stderr(project: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run with stdout a pipe and stderr a pseudo-terminal; return code, stdout, terminal."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        _command(project), stdout=subprocess.PIPE, stderr=follower, env=env, text=True
    )
    os.close(follower)
    screen = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every holder of the terminal closed it
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    stdout = proc.stdout.read() if proc.stdout else ""
    code = proc.wait(timeout=300)
    return code, stdout, screen.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.integration
def test_a_terminal_sees_progress_and_a_ci_log_does_not(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    churn = trained("churn", tmp_path_factory.mktemp("shared"))

    watched = copy_project(churn, tmp_path / "watched")
    # Loading is made to take over the threshold on any machine (a registry that sleeps), so
    # the terminal surely has a step to show; the others show as fast as this machine is.
    registry = watched / "src/churn/pipeline_registry.py"
    registry.write_text(
        registry.read_text(encoding="utf-8") + "\n\nimport time\n\ntime.sleep(1.5)\n",
        encoding="utf-8",
    )
    uri = tracking_uri(tmp_path / "watched-store")
    code, stdout, screen = _run_with_a_terminal_for_stderr(
        watched, {**KEDRO_ENV, "MLFLOW_TRACKING_URI": uri}
    )
    assert code == 0, stdout + screen
    assert store_state(uri)["registered"] == [("churn", [1])]
    progress = [match.group(0) for match in STEP.finditer(screen)]
    loading = [line for line in progress if line.startswith(PREFIX + "loading and checking")]
    assert len(loading) == 2, screen.splitlines()
    # Every step shown is announced, then timed, in that order: a pair of lines each.
    assert len(progress) % 2 == 0 and progress, screen.splitlines()
    for announced, timed in zip(progress[::2], progress[1::2], strict=True):
        assert announced.endswith("…") and timed.endswith(" s"), screen.splitlines()
        assert timed.startswith(announced.removesuffix("…") + ": ")
    # The summary stays on stdout, after the report; progress never goes there.
    assert stdout.startswith("All checks passed! (1 pair checked)\nLogged `training` as ")
    assert not STEP.search(stdout)

    in_ci = copy_project(churn, tmp_path / "ci")
    uri = tracking_uri(tmp_path / "ci-store")
    proc = subprocess.run(
        _command(in_ci),
        capture_output=True,
        text=True,
        env={**KEDRO_ENV, "MLFLOW_TRACKING_URI": uri},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not STEP.search(proc.stderr), proc.stderr
    assert proc.stdout.startswith("All checks passed! (1 pair checked)\nLogged `training` as ")
