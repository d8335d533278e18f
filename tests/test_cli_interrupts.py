"""The CLI's last line under signals and ``-v`` (issue 9): in-process, no subprocess.

The real signals, in real processes, at every tracking-store call of ``--log`` are in
``tests/publishing/test_fault_enumeration.py``; these pin the CLI's side of the contract
(docs/design.md §5): SIGINT exits 130, SIGTERM 143, each as one line, and the traceback
``-v`` prints is redacted like the line.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import kedro_ml_lint.api
from kedro_ml_lint.cli import main
from kedro_ml_lint.errors import Interrupted

SECRET = "S3CR3T-kml-interrupt"


@pytest.fixture(autouse=True)
def _ctrl_c_reaches_python() -> Any:
    """SIGINT as in a terminal, even for a suite started where it is ignored (a background job
    of a shell without job control): the CLI rightly leaves an ignored signal ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _check(project: Path, monkeypatch: pytest.MonkeyPatch, lint: Any, *options: str) -> Any:
    monkeypatch.setattr(kedro_ml_lint.api, "lint_project", lint)
    return CliRunner().invoke(main, ["check", str(project), *options], env={"NO_COLOR": "1"})


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_is_one_line_and_exits_128_plus_its_number(
    example: Any, monkeypatch: pytest.MonkeyPatch, signum: int, code: int
) -> None:
    project = example("churn")
    previous = signal.getsignal(signum)

    def lint(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signum)  # the CLI's handler raises Interrupted right here
        raise AssertionError("the signal did not interrupt")

    result = _check(project, monkeypatch, lint)

    assert result.exit_code == code, result.output
    name = signal.Signals(signum).name
    assert result.stderr.strip() == f"kedro-ml-lint: error: interrupted by {name}"
    assert signal.getsignal(signum) is previous  # the handler is put back


def test_keyboard_interrupt_exits_130_not_1(example: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, click turned Ctrl-C into "Aborted!" and exit 1 ("violations remain")."""

    def lint(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    result = _check(example("churn"), monkeypatch, lint)

    assert result.exit_code == 130, result.output
    assert result.stderr.strip() == "kedro-ml-lint: error: interrupted by SIGINT"


def test_the_note_of_an_interrupted_log_is_on_the_line(
    example: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lint(*args: Any, **kwargs: Any) -> Any:
        raise Interrupted(signal.SIGTERM, "nothing was kept in the tracking store")

    result = _check(example("churn"), monkeypatch, lint)

    assert result.exit_code == 143
    assert result.stderr.strip() == (
        "kedro-ml-lint: error: interrupted by SIGTERM; nothing was kept in the tracking store"
    )


def test_verbose_traceback_is_redacted(example: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://AKIAKEY:{SECRET}/WITH/SLASHES@bucket/model.pkl"

    def lint(*args: Any, **kwargs: Any) -> Any:
        password = SECRET  # a local in the failing frame: tracebacks quote source lines
        raise RuntimeError(f"cannot read {url} with {password=}")

    result = _check(example("churn"), monkeypatch, lint, "-v")

    assert result.exit_code == 2, result.output
    output = result.stdout + result.stderr
    assert "Traceback (most recent call last)" in output  # -v still shows it
    assert "RuntimeError" in output
    assert SECRET not in output, output
