"""Shared helpers of the MLflow tests: trained example projects, a real tracking store.

Not a ``conftest.py``: ``tests/conftest.py`` is imported as ``conftest`` by the other test
modules, and a second ``conftest`` module would shadow it. No ``__init__.py`` here either:
it would make this folder a package named ``mlflow`` and shadow the real one.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # pytest puts it there already
    sys.path.insert(0, str(TESTS))

from conftest import EXAMPLES  # noqa: E402

BIN = Path(sys.executable).parent
KEDRO_ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "NO_COLOR": "1",
    "PYTHONWARNINGS": "ignore",
    "COLUMNS": "300",  # Kedro's rich log lines, unwrapped
    # `mlflow models serve` starts `uvicorn` from PATH: this venv's, even when not activated.
    "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
}
KEDRO_ENV.pop("MLFLOW_TRACKING_URI", None)
# Not the inherited PYTHONPATH (bootstrap_project exports every project's src there), but
# the folder of the kedro_ml_lint under test: a `kedro run` or `check` in a process runs the
# code this suite imports (a work tree's, not another editable install's).
KEDRO_ENV["PYTHONPATH"] = str(Path(importlib.util.find_spec("kedro_ml_lint").origin).parents[1])
SECRET = "S3CR3T-kml-7f3a9c"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("KML_UPDATE_GOLDEN") == "1"

_TRAINED: dict[str, Path] = {}


def copy_project(source: Path, target: Path) -> Path:
    """Copy an example (or a trained copy of one) without its caches."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def kedro(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``kedro`` CLI in ``project``."""
    return subprocess.run(
        [str(BIN / "kedro"), *args],
        cwd=project,
        env={**KEDRO_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_sessions(project: Path, *runs: dict[str, Any]) -> None:
    """Run several ``KedroSession.run`` calls in ONE subprocess (one interpreter start-up).

    Each item of ``runs`` is ``{"pipeline_names": [...], "runtime_params": {...}}``.
    """
    script = textwrap.dedent(
        f"""
        import json, sys
        from kedro.framework.session import KedroSession
        from kedro.framework.startup import bootstrap_project
        bootstrap_project({str(project)!r})
        for run in json.loads(sys.argv[1]):
            with KedroSession.create(
                project_path={str(project)!r}, runtime_params=run.get("runtime_params")
            ) as session:
                session.run(pipeline_names=run["pipeline_names"])
        """
    )
    import json

    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(list(runs))],
        cwd=project,
        env=KEDRO_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def trained(example: str, root: Path) -> Path:
    """A copy of ``example`` on which training and inference have run, once per session."""
    if example not in _TRAINED:
        project = copy_project(EXAMPLES / example, root / f"{example}-trained")
        run_sessions(project, {"pipeline_names": ["training"]}, {"pipeline_names": ["inference"]})
        assert (project / "data/07_model_output/predictions.csv").is_file()
        _TRAINED[example] = project
    return _TRAINED[example]


def lint(project: Path) -> Any:
    """``lint_project`` as ``check --log`` calls it, importing THIS copy's package.

    Several copies of one example share a package name in this process, and
    ``bootstrap_project`` does not move a ``src`` folder already on ``sys.path`` to the
    front: put this copy's first, or its package would be imported from another copy.
    """
    from kedro_ml_lint.api import lint_project

    source = str((project / "src").resolve())
    while source in sys.path:
        sys.path.remove(source)
    sys.path.insert(0, source)
    return lint_project(project, artifacts_on_disk=True, publishing=True, lite=False, defer=False)


_TEMPLATE: list[Path] = []


def _migrated_template() -> Path:
    """An empty SQLite tracking store whose schema migrations have run, made once per process.

    A new store runs every one of MLflow's schema migrations when it is first opened (seconds
    of CPU each time); a copy of this one is that store as it stands after them. Its default
    experiment is removed: MLflow creates it when a store without one is first opened, with
    the artifact location of *that* process (``./mlruns`` of its working folder), as it does
    for a new store.
    """
    if not _TEMPLATE:
        import atexit
        import sqlite3
        import tempfile

        import mlflow

        folder = Path(tempfile.mkdtemp(prefix="kml-store-template-"))
        atexit.register(shutil.rmtree, folder, True)
        database = folder / "mlflow.db"
        mlflow.MlflowClient(f"sqlite:///{database}").search_experiments()
        with sqlite3.connect(database) as connection:
            deleted = connection.execute("DELETE FROM experiments WHERE experiment_id = 0")
            assert deleted.rowcount == 1, "MLflow made no default experiment"
        connection.close()
        _TEMPLATE.append(database)
    return _TEMPLATE[0]


def migrated_store(database: Path) -> Path:
    """Put a new, empty, already migrated SQLite tracking store at ``database``."""
    database.parent.mkdir(parents=True, exist_ok=True)
    assert not database.exists(), database
    shutil.copyfile(_migrated_template(), database)
    return database


def tracking_uri(folder: Path) -> str:
    """A new, empty SQLite tracking store in ``folder`` (a copy of a migrated template)."""
    return f"sqlite:///{migrated_store(folder / 'mlflow.db')}"


def instances(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "data/01_raw/instances.csv")


def kedro_predictions(project: Path) -> pd.DataFrame:
    """What ``kedro run --pipelines inference`` wrote."""
    return pd.read_csv(project / "data/07_model_output/predictions.csv")


def assert_same_predictions(actual: Any, expected: pd.DataFrame) -> None:
    frame = pd.DataFrame(actual).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        frame[list(expected.columns)], expected, check_dtype=False, rtol=1e-9, atol=1e-12
    )


def store_state(uri: str) -> dict[str, Any]:
    """Everything a logging attempt may have left in a tracking store."""
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    experiments = client.search_experiments(view_type=ViewType.ALL)
    ids = [e.experiment_id for e in experiments]
    models = list(client.search_logged_models(experiment_ids=ids)) if ids else []
    runs = list(client.search_runs(ids, run_view_type=ViewType.ACTIVE_ONLY)) if ids else []
    return {
        "models": [(m.model_id, str(m.status)) for m in models],
        "ready_models": [m.model_id for m in models if "READY" in str(m.status)],
        "active_runs": [(r.info.run_id, r.info.status) for r in runs],
        "registered": [
            (rm.name, [v.version for v in client.search_model_versions(f"name='{rm.name}'")])
            for rm in client.search_registered_models()
        ],
    }


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A local port nothing listens on now, for a server a test starts.

    Under ``pytest -n 2`` (``.ci/run``) each worker draws from its own range, below the
    kernel's ephemeral ports (32768 and up, where ``bind(0)`` picks): two workers never
    hand out the same port between its check here and the server's own bind.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    if not worker.startswith("gw"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    low = 20000 + 1000 * (int(worker[2:]) % 12)
    for port in random.sample(range(low, low + 1000), 1000):
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{low + 999}")


def enable_hook(project: Path, arguments: str = "") -> None:
    """Register ``MlflowPipelineHook`` in a project's ``settings.py``."""
    package = next(p for p in (project / "src").iterdir() if (p / "settings.py").is_file())
    settings = package / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nfrom kedro_ml_lint.hooks import MlflowPipelineHook\n\n"
        + f"HOOKS = (MlflowPipelineHook({arguments}),)\n"
    )


def assert_summary_golden(name: str, text: str, store: Path) -> None:
    """The summary block ``text`` equals ``golden/<name>`` once its ids and store are named.

    Run, model and registered ids differ on every run, the store's folder on every machine:
    each is replaced by a placeholder. ``KML_UPDATE_GOLDEN=1`` rewrites the file.
    """
    normalised = text.replace(str(store), "<store>")
    normalised = re.sub(r"\bm-[0-9a-f]{32}\b", "m-<model-id>", normalised)
    normalised = re.sub(r"\b[0-9a-f]{32}\b", "<run-id>", normalised)
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(normalised, encoding="utf-8")
    assert golden.is_file(), f"no {golden}: run with KML_UPDATE_GOLDEN=1 to create it"
    assert normalised == golden.read_text(encoding="utf-8")
