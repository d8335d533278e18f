"""A project deployed as `kedro package` makes it, run with the hook: checked, logged, served.

The example is packaged by the real ``kedro package`` (a wheel and
``dist/conf-<package>.tar.gz``), the wheel installed into a fresh virtual environment, and
the package run there as production runs it: ``python -m churn --conf-source <archive>``
from a folder holding the data and no ``pyproject.toml``. The fresh environment finds the
dependencies (Kedro, MLflow, pandas…) through a ``.pth`` to this suite's environment rather
than a download; its own site-packages holds the project's wheel alone, and kedro-ml-lint
is this checkout's (``PYTHONPATH``), as an editable install would give it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import _this_package_alone
from mlflow_support import BIN, EXAMPLES, KEDRO_ENV, copy_project, enable_hook

pytestmark = pytest.mark.integration


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**KEDRO_ENV, "PYTHONPATH": str(_this_package_alone()), **env},
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(python of the fresh venv, deployment folder)`` with churn's wheel installed."""
    root = tmp_path_factory.mktemp("packaged")
    project = copy_project(EXAMPLES / "churn", root / "churn")
    enable_hook(project)
    built = _run([str(BIN / "kedro"), "package"], cwd=project)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((project / "dist").glob("churn-*.whl"))
    archive = project / "dist" / "conf-churn.tar.gz"
    assert archive.is_file()

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "_suite_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
         "--no-deps", "--no-index", str(wheel)],
        cwd=root,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    folder = root / "deploy"  # what a deployment holds: the data and the archive
    shutil.copytree(project / "data", folder / "data")
    shutil.copy(archive, folder)
    return python, folder


def test_the_packaged_project_runs_with_the_hook_logs_and_serves(
    deployment: tuple[Path, Path],
) -> None:
    python, folder = deployment
    assert not (folder / "pyproject.toml").exists()
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    run = _run(
        [str(python), "-m", "churn", "--conf-source", "conf-churn.tar.gz"],
        cwd=folder,
        MLFLOW_TRACKING_URI=uri,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output  # was: exit 2, "not in a Kedro project"
    assert "packaged deployment" in output and "checked `training`" in output
    assert "Logged `training` as models:/" in output
    model_uri = output.split("Logged `training` as ", 1)[1].split()[0]

    # Serve it once: load the logged model in the deployment's environment and predict.
    served = _run(
        [
            str(python),
            "-c",
            "import sys, mlflow, pandas as pd\n"
            "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
            "out = model.predict(pd.read_csv('data/01_raw/instances.csv'))\n"
            "print('ROWS', len(out), sorted(out.columns))\n",
            model_uri,
        ],
        cwd=folder,
        MLFLOW_TRACKING_URI=uri,
    )
    assert served.returncode == 0, served.stdout + served.stderr
    rows = len((folder / "data/01_raw/instances.csv").read_text().splitlines()) - 1
    assert f"ROWS {rows} " in served.stdout
    assert "churn" in served.stdout.split("ROWS", 1)[1]
