"""MLServer's own environment for the serving tests: built as a deployment builds it.

MLServer, its MLflow runtime (kedro-ml-lint's ``[mlserver]`` extra) and the pins it needs
(``seams.serving.MLSERVER_PINS``), plus kedro-ml-lint's core dependencies so that ``export``
runs there from the checkout (``PYTHONPATH``); never kedro-ml-lint itself, so that the
served model runs the code it shipped. The model's own ``requirements.txt`` is added once
it is exported (:func:`add_requirements`), as a deployment installs it.

``KML_MLSERVER_PYTHON`` names one (``.ci/run`` builds it in the background with
``python tests/publishing/mlserver_venv.py .venv-mlserver``); otherwise it is built once under
the user's cache folder (``conftest.cached_venv``, the lean environment's builder).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import tomllib  # noqa: E402
from conftest import REPO, cached_venv  # noqa: E402

from kedro_ml_lint.seams.serving import MLSERVER_EXTRA, MLSERVER_PINS  # noqa: E402

VARIABLE = "KML_MLSERVER_PYTHON"


def base_requirements() -> list[str]:
    """What the environment holds before a model's requirements are added."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*MLSERVER_EXTRA, *MLSERVER_PINS, *project["dependencies"]]


def install(python: Path, *arguments: str) -> None:
    """``pip install`` into ``python``'s environment: with uv when it is there (seconds)."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    command = (
        # Compiled at install, as pip does: under PYTHONDONTWRITEBYTECODE nothing else would,
        # and each MLServer start would compile MLflow, pandas and scikit-learn again.
        [uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(python), *arguments]
        if uv
        else [str(python), "-m", "pip", "install", "-q", *arguments]
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]


def mlserver_python() -> Path:
    """The interpreter of the MLServer environment (built once, then reused)."""
    stamp = hashlib.sha256("\n".join(base_requirements()).encode()).hexdigest()[:16]
    return cached_venv(
        "mlserver", VARIABLE, stamp, lambda python: install(python, *base_requirements())
    )


def add_requirements(python: Path, requirements: Path) -> None:
    """Install a model's logged ``requirements.txt`` (nothing to do when it already is)."""
    install(python, "-r", str(requirements), *MLSERVER_PINS)


if __name__ == "__main__":  # .ci/run: build it at the folder given
    venv = Path(sys.argv[1]).absolute()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install(venv / "bin" / "python", *base_requirements())
