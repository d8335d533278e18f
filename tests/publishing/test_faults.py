"""Fault tests for ``check --log`` and ``MlflowPipelineHook`` (issue 5, item 3).

Each fault is injected into a real process against a real tracking store: an unreachable
tracking server, a real ``mlflow server`` killed while the model's files are uploaded, an
artifact deleted between the check and the upload, a temporary folder that fills up, and
the hook of a ``kedro run`` whose tracking server is unreachable. Each time the failure
must be reported clearly (exit 2, one ``kedro-ml-lint: error:`` line, no traceback), no
READY model and no registered version may be left behind, and a retry after the fault
must log the model.

MLflow retries HTTP requests with an exponential backoff (about four minutes before it
gives up on a refused connection): the processes that talk to a dead server here run with
``MLFLOW_HTTP_REQUEST_MAX_RETRIES=0`` so that each fault fails in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from signal import SIGKILL, SIGTERM
from typing import Any

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow_support import (
    BIN,
    EXAMPLES,
    KEDRO_ENV,
    copy_project,
    enable_hook,
    free_port,
    kedro,
    lint,
    tracking_uri,
    trained,
)

from kedro_ml_lint.publishing import PublishError, log_models
from kedro_ml_lint.publishing import transaction as transaction_module

pytestmark = pytest.mark.integration

FAST_FAIL = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
REGISTERED = "churn-faults"
ERROR_PREFIX = "kedro-ml-lint: error:"
# What a request to a dead server fails with, depending on when it was sent.
CONNECTION_ERRORS = (
    "Connection refused",
    "Connection aborted",
    "Connection reset",
    "Max retries exceeded",
)
ARTIFACTS = ("encoder.pkl", "scaler.pkl", "model.pkl")
SERVER_READY_TIMEOUT = 120
# The server is killed once this many of the model's files have been uploaded (of ~90).
UPLOADED_BEFORE_KILL = 3
# Fault 4: the model file is padded to BIG bytes (pickle ignores what follows its STOP
# opcode); writes stop at LIMIT bytes per file, or the temporary folder holds TMPFS_SIZE.
# The staged code (each file < 40 kB, ~0.5 MB in all) fits either way: the write that
# fails is MLflow's copy of the model into its temporary folder, after the run was opened.
BIG = 3 << 20
LIMIT = 2 << 20
TMPFS_SIZE = "1536k"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The churn example, trained once (shared with the other MLflow test modules)."""
    return trained("churn", tmp_path_factory.mktemp("shared"))


# ``python -m kedro_ml_lint`` with no file larger than argv[1] bytes (CPython ignores
# SIGXFSZ: a write past the limit fails with EFBIG, "File too large").
LIMITED = (
    "import resource, runpy, sys; limit = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
    "runpy.run_module('kedro_ml_lint', run_name='__main__', alter_sys=True)"
)


def check_log(
    project: Path,
    uri: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    max_file_size: int | None = None,
) -> subprocess.CompletedProcess:
    """``python -m kedro_ml_lint check PROJECT --log`` in a real process."""
    cwd.mkdir(parents=True, exist_ok=True)
    command = (
        ["-m", "kedro_ml_lint"] if max_file_size is None else ["-c", LIMITED, str(max_file_size)]
    )
    return subprocess.run(
        [
            sys.executable,
            *command,
            "check",
            str(project),
            "--log",
            "--tracking-uri",
            uri,
            "--registered-model-name",
            REGISTERED,
        ],
        cwd=cwd,
        env={**KEDRO_ENV, **FAST_FAIL, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_message(proc: subprocess.CompletedProcess) -> str:
    """The error a failed ``check`` printed (to the end of stderr); no traceback anywhere."""
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    assert proc.stderr.count(ERROR_PREFIX) == 1, proc.stderr[-3000:]
    return proc.stderr[proc.stderr.index(ERROR_PREFIX) :].rstrip("\n")


def assert_one_line(message: str) -> None:
    """Checked last in each test, so that a multi-line message hides no other finding."""
    assert "\n" not in message, f"the error message spans several lines:\n{message}"


@dataclass
class Inventory:
    """What a tracking store holds: its runs (deleted ones too), logged models (MLflow
    does not list deleted ones) and registered versions."""

    models: list[tuple[str, str, str]] = field(default_factory=list)  # (id, status, run)
    runs: list[tuple[str, str, str]] = field(default_factory=list)  # (id, status, stage)
    versions: list[tuple[str, str]] = field(default_factory=list)  # (name, version)

    @property
    def ready_models(self) -> list[str]:
        return [model_id for model_id, status, _ in self.models if status == "READY"]

    @property
    def live_runs(self) -> list[tuple[str, str, str]]:
        """Runs not deleted (a rolled-back run is marked FAILED, then deleted)."""
        return [run for run in self.runs if run[2] != "deleted"]

    def assert_nothing_kept(self) -> None:
        assert self.models == [], self
        assert self.live_runs == [], self
        assert all(status == "FAILED" for _, status, _ in self.runs), self
        assert self.versions == [], self


def inventory(uri: str) -> Inventory:
    client = mlflow.MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    found = Inventory()
    if experiments:
        found.models = [
            (m.model_id, str(m.status).rsplit(".", 1)[-1], str(m.source_run_id))
            for m in client.search_logged_models(experiment_ids=experiments)
        ]
        found.runs = [
            (r.info.run_id, r.info.status, r.info.lifecycle_stage)
            for r in client.search_runs(experiments, run_view_type=ViewType.ALL)
        ]
    found.versions = [
        (v.name, str(v.version))
        for rm in client.search_registered_models()
        for v in client.search_model_versions(f"name='{rm.name}'")
    ]
    return found


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_logged_once(proc: subprocess.CompletedProcess, uri: str) -> None:
    """A successful ``check --log``: one READY model, registered as version 1."""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    state = inventory(uri)
    [model_id] = state.ready_models
    assert f"Logged `training` as models:/{model_id}" in proc.stdout + proc.stderr
    assert (REGISTERED, "1") in state.versions


def no_local_store(*folders: Path) -> list[Path]:
    """MLflow's local defaults that a failed attempt must not have created."""
    names = ("mlruns", "mlartifacts", "mlflow.db")
    return [folder / name for folder in folders for name in names if (folder / name).exists()]


# --------------------------------------------------------------------------- 1. unreachable


def test_unreachable_tracking_server(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "project")
    cwd = tmp_path / "cwd"
    port = free_port()  # bound, then released: nothing listens there

    started = time.monotonic()
    # MLflow's own retry defaults (minutes of backoff): the check before logging must not wait.
    defaults = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "7", "MLFLOW_HTTP_REQUEST_TIMEOUT": "120"}
    proc = check_log(project, f"http://127.0.0.1:{port}", cwd, env=defaults)
    elapsed = time.monotonic() - started

    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    message = error_message(proc)
    assert proc.stderr.strip() == message  # nothing else on stderr
    assert f"127.0.0.1:{port}" in message
    assert "Connection refused" in message
    assert "unreachable" in message and "nothing was logged" in message
    assert "Logged" not in proc.stdout
    assert no_local_store(cwd, project) == []
    assert elapsed < 60  # no retry storm: the server is looked at once, before logging
    assert_one_line(message)


# --------------------------------------------------------------------------- 2. server dies


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1, in a process group of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.database = root / "mlflow.db"
        self.artifacts = root / "artifacts"
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    f"sqlite:///{self.database}",
                    "--artifacts-destination",
                    str(self.artifacts),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                ],
                cwd=self.root,
                # No background job runner (huey consumers): faster start, fewer processes.
                env={**KEDRO_ENV, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.log()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise AssertionError(f"mlflow server not ready in {SERVER_READY_TIMEOUT}s\n{self.log()}")

    def kill(self, signal: int = SIGKILL) -> None:
        """Signal the whole process group (the server and its uvicorn worker)."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None:
            return
        self.kill(SIGTERM)
        with suppress(ProcessLookupError):  # a worker that outlived its parent
            os.killpg(self.process.pid, SIGKILL)
        self.process = None

    def log(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")

    def uploaded(self) -> list[Path]:
        return [p for p in self.artifacts.glob("*/models/*/artifacts/**/*") if p.is_file()]


@dataclass
class ServerDeath:
    """What happened when the server died during ``check --log``, then came back."""

    server: MlflowServer
    killed_after: int  # model files already uploaded when the server was killed
    failed: subprocess.CompletedProcess
    after_restart: Inventory
    leftover_files: list[Path]
    retry: subprocess.CompletedProcess
    after_retry: Inventory


@pytest.fixture(scope="module")
def server_death(churn: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerDeath]:
    root = tmp_path_factory.mktemp("server-death")
    project = copy_project(churn, root / "project")
    server = MlflowServer(root / "server")
    killed: list[int] = []
    done = threading.Event()

    def kill_during_upload() -> None:
        while not done.is_set():
            uploaded = server.uploaded()
            if len(uploaded) >= UPLOADED_BEFORE_KILL:
                server.kill()
                killed.append(len(uploaded))
                return
            time.sleep(0.01)

    try:
        server.start()
        watcher = threading.Thread(target=kill_during_upload, daemon=True)
        watcher.start()
        try:
            failed = check_log(project, server.uri, root / "cwd")
        finally:
            done.set()
            watcher.join(timeout=30)
        assert killed, "the upload finished before the server could be killed: " + (
            failed.stdout[-2000:] + failed.stderr[-2000:]
        )
        server.start()  # same database, same artifacts, same port
        after_restart = inventory(server.uri)
        leftover_files = files_under(server.artifacts)
        retry = check_log(project, server.uri, root / "cwd")
        after_retry = inventory(server.uri)
        yield ServerDeath(
            server, killed[0], failed, after_restart, leftover_files, retry, after_retry
        )
    finally:
        server.stop()


def test_server_dying_mid_upload_is_reported(server_death: ServerDeath) -> None:
    failed = server_death.failed
    assert failed.returncode == 2, failed.stdout[-3000:] + failed.stderr[-3000:]
    message = error_message(failed)
    assert "logging the model failed" in message
    assert f"127.0.0.1:{server_death.server.port}" in message
    assert any(symptom in message for symptom in CONNECTION_ERRORS), message
    # The roll-back could not reach the server either: the message says so, and names
    # the run it could not remove.
    assert "cleaning up failed" in message
    [run_id] = [run_id for run_id, _, _ in server_death.after_restart.runs]
    assert run_id in message
    assert_one_line(message)


def test_server_dying_mid_upload_leaves_no_ready_model_or_version(
    server_death: ServerDeath,
) -> None:
    state = server_death.after_restart
    assert state.ready_models == [], state
    assert state.versions == [], state
    with_models = {run_id for _, _, run_id in state.models}
    finished = [r for r in state.live_runs if r[1] == "FINISHED" and r[0] in with_models]
    assert finished == [], state


def test_retry_after_the_server_came_back(server_death: ServerDeath) -> None:
    assert_logged_once(server_death.retry, server_death.server.uri)


def test_server_death_leftovers_are_rolled_back_once_the_server_is_back(
    server_death: ServerDeath,
) -> None:
    """A failed attempt leaves no half-logged model: what the roll-back could not remove
    while the server was down (the run, RUNNING; the model, PENDING, with the files
    already uploaded) must be removed when the store is reachable again — at the latest
    by the next ``check --log`` to the same store."""
    state = server_death.after_retry
    left = (
        f"left by the failed attempt, after the restart: {server_death.after_restart} and "
        f"{len(server_death.leftover_files)} uploaded files; after the retry: {state}"
    )
    assert [m for m in state.models if m[1] != "READY"] == [], left
    assert [r for r in state.live_runs if r[1] != "FINISHED"] == [], left
    assert len(state.live_runs) == 1, left


# --------------------------------------------------------------------------- 3. artifact deleted


def test_artifact_deleted_between_check_and_log(
    churn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(churn, tmp_path / "project")
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is ./mlruns
    uri = tracking_uri(tmp_path / "store")
    result = lint(project)
    assert result.violations == []

    (project / "data/06_models/model.pkl").unlink()
    with pytest.raises(PublishError) as raised:
        log_models(result, tracking_uri=uri, registered_model_name=REGISTERED)

    message = str(raised.value)
    assert "`model`" in message and "model.pkl" in message
    assert "not on disk" in message and "nothing was logged" in message
    inventory(uri).assert_nothing_kept()
    assert files_under(tmp_path / "mlruns") == []

    shutil.copy2(churn / "data/06_models/model.pkl", project / "data/06_models/model.pkl")
    [published] = log_models(lint(project), tracking_uri=uri, registered_model_name=REGISTERED)
    state = inventory(uri)
    assert state.ready_models == [published.model_id]
    assert state.versions == [(REGISTERED, "1")]
    assert_one_line(message)


def test_artifact_deleted_while_uploading(
    churn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file goes after the model was built and checked, before MLflow copies it:
    MLflow fails inside the run, and the roll-back removes the run and the model."""
    project = copy_project(churn, tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    uri = tracking_uri(tmp_path / "store")
    result = lint(project)
    assert result.violations == []
    artifact = project / "data/06_models/model.pkl"
    log_all = transaction_module.log_all

    def delete_then_log(*args: Any, **kwargs: Any) -> Any:
        artifact.unlink()
        return log_all(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(transaction_module, "log_all", delete_then_log)
        with pytest.raises(PublishError) as raised:
            log_models(result, tracking_uri=uri, registered_model_name=REGISTERED)

    message = str(raised.value)
    assert "model.pkl" in message
    assert "nothing was kept" in message
    inventory(uri).assert_nothing_kept()
    assert files_under(tmp_path / "mlruns") == []

    shutil.copy2(churn / "data/06_models/model.pkl", artifact)
    [published] = log_models(lint(project), tracking_uri=uri, registered_model_name=REGISTERED)
    state = inventory(uri)
    assert state.ready_models == [published.model_id]
    assert state.versions == [(REGISTERED, "1")]
    assert_one_line(message)


# --------------------------------------------------------------------------- 4. disk full


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real, tiny filesystem for the temporary folder (root and mount permission only)."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, check=False)


@pytest.mark.parametrize(
    ("mechanism", "symptom"),
    [("rlimit", "File too large"), ("tmpfs", "No space left")],
)
def test_disk_full_in_the_temporary_folder(
    churn: Path, tmp_path: Path, request: pytest.FixtureRequest, mechanism: str, symptom: str
) -> None:
    project = copy_project(churn, tmp_path / "project")
    with open(project / "data/06_models/model.pkl", "ab") as model:
        model.write(b"\0" * BIG)
    uri = tracking_uri(tmp_path / "store")  # created by the first `check --log`
    cwd = tmp_path / "cwd"
    if mechanism == "tmpfs":
        temporary = request.getfixturevalue("small_tmpfs")
        limit = None
    else:
        temporary = tmp_path / "tmp"
        temporary.mkdir()
        limit = LIMIT

    proc = check_log(project, uri, cwd, env={"TMPDIR": str(temporary)}, max_file_size=limit)

    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    message = error_message(proc)
    assert symptom in message and "model.pkl" in message
    assert "nothing was kept" in message
    inventory(uri).assert_nothing_kept()
    assert files_under(cwd / "mlruns") == []
    assert list(temporary.iterdir()) == []  # no temporary folder left behind either

    retry = check_log(project, uri, cwd, env={"TMPDIR": str(tmp_path)})
    assert_logged_once(retry, uri)
    assert_one_line(message)


# --------------------------------------------------------------------------- 5. the hook


def test_hook_with_an_unreachable_tracking_server(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "project")
    port = free_port()
    enable_hook(
        project,
        f'tracking_uri="http://127.0.0.1:{port}", registered_model_name="{REGISTERED}"',
    )

    proc = kedro(project, "run", "--pipelines", "training", env=FAST_FAIL)

    output = " ".join((proc.stdout + proc.stderr).split())  # rich wraps Kedro's traceback
    assert proc.returncode != 0, output[-3000:]
    assert "PublishError" in output and "unreachable" in output
    assert f"127.0.0.1:{port}" in output and "Connection refused" in output
    assert "Pipeline execution completed" in output  # every node ran, then the hook failed
    assert "after_pipeline_run" in output
    for name in ARTIFACTS:  # training's outputs were written before the hook failed
        assert (project / "data/06_models" / name).is_file()
    assert no_local_store(project) == []

    uri = tracking_uri(tmp_path / "store")
    enable_hook(project, f'tracking_uri="{uri}", registered_model_name="{REGISTERED}"')
    retry = kedro(project, "run", "--pipelines", "training")
    assert retry.returncode == 0, retry.stdout[-3000:] + retry.stderr[-3000:]
    state = inventory(uri)
    assert len(state.ready_models) == 1 and state.versions == [(REGISTERED, "1")]
    assert f"Logged `training` as models:/{state.ready_models[0]}" in retry.stdout
