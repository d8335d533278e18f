"""The hook and ``check`` give one verdict; the hook sees every run that trains a pair.

The hook's pre-flight *is* ``check``: it runs the command line
:meth:`MlflowPipelineHook.preflight_command` builds and prints what comes back. So the
proof is in two parts (issue 10, items 1 to 3; issue 24): one real ``kedro run`` records
the command line its hook ran, which must be ``check``'s on the run's pairs, and shows the
hook's lines to be ``check``'s; then, for every project setting that once made the two
disagree, that same command line is run (in this process) and rendered as the hook
renders it, and must give ``check``'s own lines. Every other behaviour is one real
``kedro run``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_cli
from mlflow_support import (
    EXAMPLES,
    copy_project,
    enable_hook,
    kedro,
    store_state,
    tracking_uri,
)

from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.hooks import PipelineContractError, preflight_findings

pytestmark = pytest.mark.integration

HEADER = "kedro-ml-lint: the run is stopped before any node ran:"
WIDE = {"COLUMNS": "250"}  # rich wraps Kedro's log lines at the terminal's width


def _edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        path = project / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _append(relative: str, text: str) -> Callable[[Path], None]:
    def append(project: Path) -> None:
        path = project / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return append


# Where the hook and `check` disagreed before they shared one front end.
MATRIX = {
    "as-shipped": [],
    "catalog-noqa": [
        _edit("conf/base/catalog.yml", "scaler:  # KML002", "scaler:  # noqa: KML002"),
    ],
    "ignore-as-a-string": [
        _append("pyproject.toml", '\n[tool.kedro-ml-lint]\nignore = "KML003"\n'),
    ],
    "python-noqa-on-the-input-line": [
        _edit(
            "src/churn_broken/pipelines/inference/pipeline.py",
            '"params:treshold"],  # KML006: typo',
            '"params:treshold"],  # noqa: KML006',
        ),
    ],
    "per-dataset-ignores": [
        _append(
            "pyproject.toml",
            '\n[tool.kedro-ml-lint.per-dataset-ignores]\n"reference_stats" = ["KML003"]\n',
        ),
    ],
}
# A run of `training` and `legacy`: the pairs the hook checks, in the order it names them.
RUN_PIPELINES = "training,legacy"
CHECKED = ("legacy", "training")

# The hook of the project's `settings.py`, writing down the command line of its pre-flight.
RECORDING_HOOK = """
import json
from pathlib import Path

from kedro_ml_lint.hooks import MlflowPipelineHook


class RecordingHook(MlflowPipelineHook):
    def preflight_command(self, names):
        command = super().preflight_command(names)
        Path({record!r}).write_text(json.dumps(command))
        return command


HOOKS = (RecordingHook(),)
"""


def _check_lines(project: Path, *pipelines: str) -> set[str]:
    """``check -q``'s violation lines (in this process: the subject is what it prints)."""
    selection = [arg for name in pipelines for arg in ("--pipeline", name)]
    run = run_cli("check", project, "-q", *selection)
    assert run.code in (0, 1), run.stderr
    return {line for line in run.stdout.splitlines() if line.strip()}


def _hook_lines(stderr: str) -> tuple[list[str], set[str]]:
    """The hook's header onwards, and its violation lines."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    return lines[start:], set(lines[start + 1 :])


def _preflight_arguments(project: Path) -> list[str]:
    """The arguments of the pre-flight ``check`` of a run of ``training`` and ``legacy``."""
    root = project.resolve()
    selection = [arg for name in CHECKED for arg in ("--pipeline", name)]
    return ["check", str(root), "--format", "json", *selection, "--conf-source", str(root / "conf")]


def _hook_message(report: str) -> list[str]:
    """What the hook prints for a pre-flight whose ``check`` printed ``report`` (JSON)."""
    found = [Violation.from_dict(v) for v in json.loads(report)["violations"]]
    errors = [v for v in preflight_findings(found, logs=True) if v.severity is Severity.ERROR]
    assert errors, "every variant still has errors"
    error = PipelineContractError(errors, "the run is stopped before any node ran")
    return error.format_message().splitlines()


def test_a_real_run_s_hook_runs_check_s_command_line(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / "as-shipped")
    record = tmp_path / "preflight.json"
    settings = project / "src/churn_broken/settings.py"
    settings.write_text(settings.read_text() + RECORDING_HOOK.format(record=str(record)))

    proc = kedro(project, "run", "--pipelines", RUN_PIPELINES, env=WIDE)

    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    command = json.loads(record.read_text())
    # The interpreter of the run (`kedro`'s, named `python3` by its script), then `check`.
    assert Path(command[0]).parent == Path(sys.executable).parent
    assert command[1:] == ["-m", "kedro_ml_lint", *_preflight_arguments(project)]
    shown, found = _hook_lines(proc.stderr)
    assert found == _check_lines(project, *CHECKED)
    assert shown == _hook_message(run_cli(*command[3:]).stdout)  # rendered as below


@pytest.mark.parametrize("variant", MATRIX, ids=list(MATRIX))
def test_hook_and_check_give_the_same_violations(variant: str, tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / variant)
    enable_hook(project)
    for edit in MATRIX[variant]:
        edit(project)
    expected = _check_lines(project, *CHECKED)
    assert expected, "every variant still has violations"

    run = run_cli(*_preflight_arguments(project))  # the hook's own command line (above)
    assert run.code == 1, run.stderr

    shown = _hook_message(run.stdout)
    assert shown[0] == f"{HEADER} {len(shown) - 1} errors"
    assert set(shown[1:]) == expected


def test_a_failed_preflight_is_short_and_reads_like_check(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / "short")
    enable_hook(project)

    # A plain `kedro run`: `__default__` is a plain Pipeline of the training nodes.
    proc = kedro(project, "run", env=WIDE)

    assert proc.returncode == 1
    output = (proc.stdout + proc.stderr).splitlines()
    assert len(output) <= 20, "\n".join(output)
    assert not any("Traceback" in line or "╭" in line for line in output)
    shown, found = _hook_lines(proc.stderr)
    assert shown[0] == f"{HEADER} {len(found)} errors"  # counted as check's summary counts
    assert found == _check_lines(project, "training")
    assert "[legacy]" not in proc.stderr  # the run does not train `legacy`


DEBUG_LOGGING = """
version: 1
disable_existing_loggers: False
handlers:
  console: {class: logging.StreamHandler, stream: ext://sys.stdout}
loggers:
  kedro: {level: DEBUG}
root: {handlers: [console]}
"""


def test_kedro_at_debug_adds_the_traceback(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / "verbose")
    enable_hook(project)
    logging_config = tmp_path / "logging.yml"
    logging_config.write_text(DEBUG_LOGGING, encoding="utf-8")
    proc = kedro(project, "run", env={"KEDRO_LOGGING_CONFIG": str(logging_config), **WIDE})
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and HEADER in proc.stderr


def _register_sum(project: Path) -> None:
    """``__default__`` becomes training + inference: a plain ``Pipeline``, not the pair."""
    _edit(
        "src/churn/pipeline_registry.py",
        '"__default__": training_pipeline,',
        '"__default__": training_pipeline + inference_pipeline,',
    )(project)


# A pair trained inside a sum is logged: test_mlflow_hook.py (one run, with the model's tags).


def test_a_partial_run_says_what_it_left_out_and_logs_nothing(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "partial")
    _register_sum(project)
    enable_hook(project)
    uri = tracking_uri(tmp_path / "store")

    proc = kedro(
        project, "run", "--to-nodes", "fit_encoder", env={"MLFLOW_TRACKING_URI": uri, **WIDE}
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    [line] = [line for line in proc.stdout.splitlines() if "not logging `training`" in line]
    assert "only part of its training nodes" in line and "`fit_scaler`" in line and "1 more" in line
    assert store_state(uri)["models"] == []


def test_settings_that_cannot_be_parsed_stop_the_run_in_one_line(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / "bad-settings")
    enable_hook(project)
    _append("pyproject.toml", '\n[tool.kedro-ml-lint]\nignore = ["KML999"]\n')(project)

    proc = kedro(project, "run", env=WIDE)

    assert proc.returncode == 2, proc.stderr[-2000:]
    [line] = [line for line in proc.stderr.splitlines() if "kedro-ml-lint" in line]
    assert "cannot be checked" in line and "KML999" in line
    assert "Traceback" not in proc.stderr


def test_a_failing_node_shows_the_users_exception_not_the_hooks(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "node-fails")
    enable_hook(project)
    _edit(
        "src/churn/pipelines/training/nodes.py",
        '    """Separate the model\'s inputs from the ``churned`` target."""\n',
        '    """Separate the model\'s inputs from the ``churned`` target."""\n'
        '    raise ValueError("the user\'s own failure")\n',
    )(project)

    proc = kedro(project, "run", env=WIDE)

    assert proc.returncode == 1
    assert "the user's own failure" in proc.stdout + proc.stderr
    assert "kedro-ml-lint:" not in proc.stdout + proc.stderr
