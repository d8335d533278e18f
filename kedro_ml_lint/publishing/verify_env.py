"""``--verify-env``: a logged model predicts where nothing but its requirements is installed.

After a model is logged and before it is kept (registered, committed), MLflow's own
``mlflow.models.predict(model_uri, input_path=<its serving_input_example.json>,
env_manager="uv" or "virtualenv")`` builds a new environment from the model's logged
requirements alone and predicts the logged input example there. It runs in a process of its
own (its output, uv's or pip's and the prediction's, is read here, not printed), in a new
process group, so an interrupted ``--log`` stops it and what it started. A failure raises
:class:`PublishError` with one line naming the module the model could not import or the
requirement that could not be resolved; the transaction then removes everything it logged.

The model's own code (the project's package, kedro-ml-lint's model) travels in its
``code_paths``: it is not a requirement, and the new environment does not need kedro-ml-lint.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.model.redact import redact_text
from kedro_ml_lint.progress import NO_PROGRESS, Progress
from kedro_ml_lint.publishing.errors import PublishError, one_line
from kedro_ml_lint.publishing.store import TRACKING_URI_ENV

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.prepare import Prepared

# MLflow's environment managers that build an environment from the model's requirements
# (`conda` needs a conda the [mlflow] extra cannot install; `local` builds nothing).
ENV_MANAGERS = ("uv", "virtualenv")
DEFAULT_ENV_MANAGER = "uv"
SERVING_INPUT_EXAMPLE = "serving_input_example.json"  # the file MLflow writes (log_model)
# The child's last line when mlflow.models.predict raised, before its exception's first line.
_FAILED = "kedro-ml-lint-verify-env: failed: "
# The child: fetch the model as the store holds it, predict its own example in a new env.
_CHILD = f"""
import os
import sys
from pathlib import Path

try:
    import mlflow

    # Nothing but the requirements: no module reaches the new environment through a path.
    os.environ.pop("PYTHONPATH", None)
    model_uri, output, manager = sys.argv[1:4]
    local = Path(mlflow.artifacts.download_artifacts(model_uri))
    mlflow.models.predict(
        model_uri=str(local),
        input_path=str(local / {SERVING_INPUT_EXAMPLE!r}),
        output_path=output,
        env_manager=manager,
    )
except Exception as exc:
    first = (str(exc).strip().splitlines() or [""])[0]
    print({_FAILED!r} + type(exc).__name__ + ": " + first, file=sys.stderr, flush=True)
    sys.exit(3)
"""

# What names the cause in the output of uv, pip and the prediction, most telling first.
_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
_UNRESOLVABLE = re.compile(r"Because (.+?)(?:, we can conclude that|\.?\s*$)", re.MULTILINE)
_NO_DISTRIBUTION = re.compile(r"No matching distribution found for (\S+)")
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement (\S+)")
_EXCEPTION_LINE = re.compile(r"^\s*((?:[A-Za-z_][\w.]*)?(?:Error|Exception)\b[^:]*: .+)$")
_TOOL_ERROR_LINE = re.compile(r"^\s*(?:error|ERROR|\N{MULTIPLICATION SIGN})[: ]\s*(.+)$")
# MLflow's wrapper of a failed command: says only where to look, never what went wrong.
_WRAPPER = ("Non-zero exit code", "ShellCommandException", "An exception occurred while")


def require_env_manager(env_manager: str) -> None:
    """Raise one line when ``env_manager`` cannot build an environment here.

    Checked before the tracking store is touched: the tools MLflow will call are on this
    machine (``uv``: the [mlflow] extra installs it; ``virtualenv``: also ``pyenv``).

    Raises:
        PublishError: An unknown manager, or its tool is missing.
    """
    if env_manager not in ENV_MANAGERS:
        raise PublishError(
            f"`--verify-env-manager {env_manager}` is not one of {', '.join(ENV_MANAGERS)}"
        )
    if env_manager == "uv" and _uv_folder() is None:
        raise PublishError(
            '`--verify-env` builds the model\'s environment with uv: pip install "uv>=0.6.10" '
            "(part of kedro-ml-lint's [mlflow] extra); nothing was logged"
        )
    if env_manager == "virtualenv" and shutil.which("pyenv") is None:
        raise PublishError(
            "`--verify-env-manager virtualenv` needs pyenv (MLflow installs the model's "
            "Python with it) and virtualenv; or use uv; nothing was logged"
        )


def require_input_examples(prepared: list[Prepared]) -> None:
    """Raise one line when a model has no input example to predict.

    Raises:
        PublishError: A prepared model logs no input example.
    """
    for item in prepared:
        if item.log_kwargs.get("input_example") is None:
            raise PublishError(
                f"`--verify-env` predicts the input example of `{item.pair.name}`, which has "
                f"none (`{item.pair.input_name}` could not be loaded, or log_model_kwargs "
                "set `input_example` to None); nothing was logged"
            )


def verifier(env_manager: str, progress: Progress = NO_PROGRESS) -> Callable[[Prepared, Any], None]:
    """The hook the transaction calls between logging a model and keeping it.

    Args:
        env_manager: ``"uv"`` or ``"virtualenv"`` (MLflow's ``env_manager``).
        progress: Where to say that an environment is being built.

    Returns:
        ``verify(prepared, model_info)``, raising :class:`PublishError` when the model does
        not predict its example in a new environment.
    """

    def verify(item: Prepared, info: Any) -> None:
        with progress.step(
            f"building a fresh {env_manager} environment for the model of `{item.pair.name}` "
            "from its requirements, and predicting its input example there"
        ):
            verify_model(item.pair.name, info.model_uri, env_manager)

    return verify


def verify_model(pair: str, model_uri: str, env_manager: str) -> int:
    """Predict the logged input example of ``model_uri`` in a new ``env_manager`` environment.

    The tracking store is the one MLflow uses now (the transaction's).

    Args:
        pair: The pair's name, for the message.
        model_uri: The logged model (``models:/<id>``).
        env_manager: ``"uv"`` or ``"virtualenv"``.

    Returns:
        How many predictions the new environment made.

    Raises:
        PublishError: The environment could not be built or the prediction failed; the
            message names the missing module or unresolvable requirement when it can.
    """
    import mlflow

    environment = {**os.environ, TRACKING_URI_ENV: mlflow.get_tracking_uri()}
    uv = _uv_folder()
    if uv is not None:  # MLflow calls `uv` by name: the one installed with MLflow first
        environment["PATH"] = os.pathsep.join([uv, environment.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="kedro-ml-lint-verify-") as work:
        # MLflow builds the environment in a temporary folder it removes at exit: under this
        # one, it goes even when the child is killed (an interrupted --log).
        environment["TMPDIR"] = work
        output = Path(work) / "predictions.json"
        command = [sys.executable, "-c", _CHILD, model_uri, str(output), env_manager]
        status, log = _run(command, environment, work)
        if status == 0 and output.is_file():
            predictions = json.loads(output.read_text(encoding="utf-8"))
            found = predictions.get("predictions", predictions)
            return len(found) if hasattr(found, "__len__") else 1
    raise PublishError(
        one_line(
            redact_text(
                f"`--verify-env`: the model of `{pair}` does not run in a fresh {env_manager} "
                f"environment built from its requirements: {failure_reason(log)}"
            ),
            600,
        )
    )


def _run(command: list[str], environment: dict[str, str], cwd: str) -> tuple[int, str]:
    """Run ``command`` in a process group of its own; its exit status and output."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # a Ctrl-C is ours to hand on: the group is stopped below
    )
    try:
        log, _ = process.communicate()
    except BaseException:  # SIGINT/SIGTERM unwinding into the roll-back: stop uv, pip, python
        _stop_group(process)
        raise
    return process.returncode, log


def _stop_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _uv_folder() -> str | None:
    """The folder of the ``uv`` command: the one the ``uv`` package installed, else PATH's."""
    try:
        from uv import find_uv_bin  # the uv package, a dependency of the [mlflow] extra

        return str(Path(find_uv_bin()).parent)
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        return str(Path(found).parent) if found else None


def failure_reason(log: str) -> str:
    """What went wrong, in one line, from the output of uv or pip and of the prediction.

    A module the prediction could not import, then a requirement the resolver could not
    satisfy, then the last error line of the output (not MLflow's wrapper of a failed
    command), then the child's own last word.
    """
    modules = _MISSING_MODULE.findall(log)
    if modules:
        module = modules[-1]
        return (
            f"ModuleNotFoundError: No module named '{module}': none of its requirements "
            f"installs `{module.split('.')[0]}`; add the distribution that provides it to the "
            "project's requirements or to `extra_pip_requirements` in log_model_kwargs"
        )
    for pattern in (_NO_DISTRIBUTION, _NO_VERSION):
        found = pattern.findall(log)
        if found:
            return f"requirement `{found[-1]}` cannot be resolved (pip: {_last_error(log)})"
    because = _UNRESOLVABLE.findall(log)
    if because:
        return f"its requirements cannot be resolved (uv: because {because[-1].strip()})"
    return _last_error(log) or "the prediction failed with no message"


def _last_error(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    meaningful = [
        match.group(1).strip()
        for line in lines
        if not line.startswith(_FAILED) and not any(part in line for part in _WRAPPER)
        for match in [_EXCEPTION_LINE.match(line) or _TOOL_ERROR_LINE.match(line)]
        if match
    ]
    if meaningful:
        return meaningful[-1]
    last = [line[len(_FAILED) :] for line in lines if line.startswith(_FAILED)]
    if last:
        return last[-1]
    return lines[-1].strip() if lines else ""
