"""``check --log --verify-env``: a model is kept only once it ran where nothing else is installed.

Real ``check --log --verify-env`` runs on a trained copy of the churn example: MLflow's
``mlflow.models.predict(..., env_manager="uv")`` builds a new environment from the logged
requirements alone (from the package index this machine reaches) and predicts the logged
input example there. Every build of a run shares uv's cache, the user's own (uv's default
place, which the suite's per-test ``XDG_CACHE_HOME`` would otherwise hide): the first build
downloads, the next ones link (``benchmarks/verify_env.py`` measures both).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from conftest import USER_CACHE, run_cli
from mlflow_support import KEDRO_ENV, copy_project, store_state, tracking_uri, trained

from kedro_ml_lint import cli
from kedro_ml_lint.publishing.verify_env import (
    DEFAULT_ENV_MANAGER,
    ENV_MANAGERS,
    failure_reason,
)

ERROR = "kedro-ml-lint: error: "
VERIFIED = "predicts its input example in a fresh uv env"
UNRESOLVABLE = "tabulate==0.0.1"  # a real distribution, a version it never had
CHECK = [sys.executable, "-m", "kedro_ml_lint", "check"]


# ------------------------------------------------------- reading the builder's output (fast)

UV_RESOLUTION = """\
2026/12/07 15:16:59 INFO mlflow.utils.virtualenv: Installing dependencies
Using Python 3.11.7 environment at: /tmp/envs/mlflow-5dd7
error: No solution found when resolving dependencies
  cause: Because there is no version of tabulate==0.0.1 and you require tabulate==0.0.1, \
we can conclude that your requirements are unsatisfiable.
Traceback (most recent call last):
mlflow.utils.process.ShellCommandException: Non-zero exit code: 1
kedro-ml-lint-verify-env: failed: ShellCommandException: Non-zero exit code: 1
"""
UV_NOT_FOUND = """\
error: No solution found when resolving dependencies
  cause: Because kml-no-such-distribution was not found in the package registry and you \
require kml-no-such-distribution==1.0, we can conclude that your requirements are unsatisfiable.
"""
PIP_RESOLUTION = """\
ERROR: Could not find a version that satisfies the requirement tabulate==0.0.1 (from \
versions: 0.3, 0.4.2, 0.9.0)
ERROR: No matching distribution found for tabulate==0.0.1
kedro-ml-lint-verify-env: failed: ShellCommandException: Non-zero exit code: 1
"""
PREDICT_TRACEBACK = """\
Traceback (most recent call last):
  File "/tmp/envs/mlflow-1/lib/python3.11/site-packages/mlflow/pyfunc/model.py", line 12, in load
    return cloudpickle.load(f)
ModuleNotFoundError: No module named 'sklearn.linear_model'
mlflow.exceptions.MlflowException: Non-zero exit code: 1

An exception occurred while running model prediction within a uv environment.
kedro-ml-lint-verify-env: failed: MlflowException: Non-zero exit code: 1
"""
NO_PYTHON = """\
error: No interpreter found for Python 3.11.7 in managed installations or search path
kedro-ml-lint-verify-env: failed: ShellCommandException: Non-zero exit code: 2
"""
OTHER_EXCEPTION = """\
Traceback (most recent call last):
ValueError: could not convert string to float: 'standard'
mlflow.exceptions.MlflowException: Non-zero exit code: 1
kedro-ml-lint-verify-env: failed: MlflowException: Non-zero exit code: 1
"""


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            UV_RESOLUTION,
            "its requirements cannot be resolved (uv: because there is no version of "
            "tabulate==0.0.1 and you require tabulate==0.0.1)",
        ),
        (
            UV_NOT_FOUND,
            "its requirements cannot be resolved (uv: because kml-no-such-distribution was "
            "not found in the package registry and you require kml-no-such-distribution==1.0)",
        ),
        (
            PIP_RESOLUTION,
            "requirement `tabulate==0.0.1` cannot be resolved "
            "(pip: No matching distribution found for tabulate==0.0.1)",
        ),
        (
            PREDICT_TRACEBACK,
            "ModuleNotFoundError: No module named 'sklearn.linear_model': none of its "
            "requirements installs `sklearn`; add the distribution that provides it to the "
            "project's requirements or to `extra_pip_requirements` in log_model_kwargs",
        ),
        (
            NO_PYTHON,
            "No interpreter found for Python 3.11.7 in managed installations or search path",
        ),
        (OTHER_EXCEPTION, "ValueError: could not convert string to float: 'standard'"),
        ("kedro-ml-lint-verify-env: failed: OSError: disk full\n", "OSError: disk full"),
        ("", "the prediction failed with no message"),
    ],
)
def test_the_reason_is_the_line_that_names_the_cause(log: str, reason: str) -> None:
    assert failure_reason(log) == reason


def test_the_command_line_offers_the_managers_verify_env_knows() -> None:
    assert cli.VERIFY_ENV_MANAGERS == ENV_MANAGERS
    assert DEFAULT_ENV_MANAGER == ENV_MANAGERS[0] == "uv"


def test_verify_env_needs_log(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path, "--verify-env")
    assert result.code == 2
    assert "--verify-env needs --log" in result.stderr


def test_a_manager_without_verify_env_is_a_usage_error(tmp_path: Path) -> None:
    """A manager alone would silently verify nothing: the user meant --verify-env."""
    result = run_cli("check", tmp_path, "--log", "--verify-env-manager", "uv")
    assert result.code == 2
    assert "--verify-env-manager needs --verify-env" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_manager_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path, "--log", "--verify-env-manager", "conda")
    assert result.code == 2
    assert "'conda' is not one of 'uv', 'virtualenv'" in result.stderr


# ------------------------------------------------------------------ real builds, real stores


@pytest.fixture(scope="module", autouse=True)
def _uv_cache() -> Iterator[None]:
    """uv's cache where uv keeps it for this user: every build of the run links from it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_CACHE_DIR", os.environ.get("UV_CACHE_DIR") or str(USER_CACHE / "uv"))
        yield


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def verified(churn: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One verified ``check --log``, registered: what it printed and what the store holds."""
    uri = tracking_uri(tmp_path_factory.mktemp("verified"))
    result = run_cli(
        "check", churn, "--log", "--verify-env", "--tracking-uri", uri,
        "--registered-model-name", "churn-verified",
    )  # fmt: skip
    assert result.code == 0, result.stdout + result.stderr
    [model_uri] = re.findall(r"model URI: +(models:/m-[0-9a-f]+)", result.stdout)
    mlflow.set_tracking_uri(uri)
    local = Path(mlflow.artifacts.download_artifacts(model_uri))
    return {
        "result": result,
        "state": store_state(uri),
        "requirements": (local / "requirements.txt").read_text().splitlines(),
    }


def _with_log_model_kwargs(churn: Path, target: Path, kwargs: str) -> Path:
    """A copy of the trained project whose PipelineML has these ``log_model_kwargs``."""
    project = copy_project(churn, target)
    registry = project / "src/churn/pipeline_registry.py"
    text = registry.read_text()
    assert text.count('        input_name="instances",\n') == 1
    registry.write_text(
        text.replace(
            '        input_name="instances",\n',
            f'        input_name="instances",\n        log_model_kwargs={kwargs},\n',
        )
    )
    return project


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith(ERROR)]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0][len(ERROR) :]


def _assert_empty(uri: str) -> None:
    state = store_state(uri)
    assert state["models"] == [] and state["active_runs"] == [] and state["registered"] == []


@pytest.mark.integration
def test_a_model_that_runs_elsewhere_is_kept_and_says_so(verified: dict) -> None:
    result, state = verified["result"], verified["state"]
    assert re.search(rf"^  verified: +{VERIFIED}$", result.stdout, re.MULTILINE), result.stdout
    assert len(state["ready_models"]) == 1
    assert state["registered"] == [("churn-verified", [1])]
    # No kedro-ml-lint among them: its model code travels in code_paths.
    names = {re.split(r"[=<>\[ ]", line)[0].lower() for line in verified["requirements"]}
    assert {"kedro", "mlflow", "scikit-learn", "pandas"} <= names
    assert "kedro-ml-lint" not in names


@pytest.mark.integration
def test_an_unresolvable_requirement_is_named_and_nothing_kept(churn: Path, tmp_path: Path) -> None:
    project = _with_log_model_kwargs(
        churn, tmp_path / "pinned", f'{{"extra_pip_requirements": ["{UNRESOLVABLE}"]}}'
    )
    uri = tracking_uri(tmp_path)
    result = run_cli(
        "check", project, "--log", "--verify-env", "--tracking-uri", uri,
        "--registered-model-name", "churn-pinned",
    )  # fmt: skip
    assert result.code == 2, result.stdout + result.stderr
    line = _one_error_line(result.stderr)
    assert line.startswith("`--verify-env`: the model of `training` does not run in a fresh uv")
    assert f"there is no version of {UNRESOLVABLE}" in line
    _assert_empty(uri)


@pytest.mark.integration
def test_a_module_no_requirement_installs_is_named_and_nothing_kept(
    churn: Path, tmp_path: Path, verified: dict
) -> None:
    # The project lists its requirements itself and forgets kedro-datasets, whose datasets
    # load the model's artifacts (scikit-learn would not do: mlflow requires it).
    kept = [line for line in verified["requirements"] if not line.startswith("kedro-datasets")]
    assert len(kept) == len(verified["requirements"]) - 1
    project = _with_log_model_kwargs(
        churn, tmp_path / "forgetful", repr({"pip_requirements": kept})
    )
    uri = tracking_uri(tmp_path)
    result = run_cli("check", project, "--log", "--verify-env", "--tracking-uri", uri)
    assert result.code == 2, result.stdout + result.stderr
    line = _one_error_line(result.stderr)
    assert "ModuleNotFoundError: No module named 'kedro_datasets" in line
    assert "none of its requirements installs `kedro_datasets`" in line
    _assert_empty(uri)


@pytest.mark.integration
def test_no_input_example_nothing_to_verify_nothing_logged(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "no-input")
    (project / "data/01_raw/instances.csv").unlink()
    uri = tracking_uri(tmp_path)
    result = run_cli("check", project, "--log", "--verify-env", "--tracking-uri", uri)
    assert result.code == 2, result.stdout + result.stderr
    line = _one_error_line(result.stderr)
    assert line.startswith("`--verify-env` predicts the input example of `training`, which has")
    assert line.endswith("nothing was logged")
    _assert_empty(uri)


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the builder's processes")
def test_sigterm_while_the_environment_builds_stops_it_and_keeps_nothing(
    churn: Path, tmp_path: Path
) -> None:
    uri = tracking_uri(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        [*CHECK, str(churn), "--log", "--verify-env", "--tracking-uri", uri],
        cwd=tmp_path,
        env={**KEDRO_ENV, "TMPDIR": str(temporary), "UV_CACHE_DIR": os.environ["UV_CACHE_DIR"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(temporary.glob("kedro-ml-lint-verify-*/*/envs")):  # MLflow's env root
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the environment build never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, stdout + stderr
    assert "interrupted by SIGTERM; nothing was kept in the tracking store" in stderr
    _assert_empty(uri)
    # The builder's folder went with it, MLflow's environment included, and its processes.
    assert list(temporary.glob("kedro-ml-lint-verify-*")) == []
    assert _processes_mentioning(temporary) == []


def _processes_mentioning(folder: Path) -> list[str]:
    """The command lines of live processes that name ``folder`` (uv, pip, the env's python)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        if str(folder) in text:
            found.append(text)
    return found
