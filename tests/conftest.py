"""Shared fixtures: real Kedro projects on disk and the real CLI, in this process or another.

Two lanes (docs/design.md §11): tests marked ``integration`` start processes, servers, real
training or a real MLflow store; ``python -m pytest -m "not integration"`` runs the rest, the inner
loop. An unmarked test that starts a process fails, so no subprocess creeps into the fast lane.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# No network here: Kedro's telemetry must not try to phone home.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
# `check` keeps a cache in the project folder; the suite runs on the repository's examples
# too (D18), so it runs uncached unless a test asks for the cache (tests/test_cache.py).
os.environ["KEDRO_ML_LINT_NO_CACHE"] = "1"
# The user's cache folder, read before the tests point XDG_CACHE_HOME elsewhere: the lean
# environment is built there once, not once per session.
USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")

REPO = Path(__file__).resolve().parents[1]
# When the suite itself runs in GitHub Actions, `check` would switch to `--format github`
# and make paths relative to the workspace: tests opt in to those explicitly.
_CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_WORKSPACE")
# The loggers whose levels a command line run sets (``cli._quiet_kedro``).
_LOGGERS = ("kedro",)
EXAMPLES = REPO / "examples"
# examples/churn-broken: (pipeline, code, subject) of every violation (see its README).
BROKEN_EXPECTED = frozenset(
    {
        ("training", "KML001", "encoder"),
        ("training", "KML002", "scaler"),
        ("training", "KML003", "reference_stats"),
        ("training", "KML006", "params:treshold"),
        ("legacy", "KML003", "instances"),
        ("legacy", "KML004", None),
        ("legacy", "KML005", None),
        ("legacy", "KML007", "parameters"),
    }
)


# The modules that take a minute or more, longest first (measured: docs/design.md §11).
# Under `pytest -n 2 --dist loadfile --no-loadscope-reorder` (.ci/run) a worker takes whole
# modules in this order as it runs short of work: the long ones start first, so that neither
# worker is left running one alone at the end while the other core idles.
LONGEST_FIRST = (  # from .ci/run's --durations (cispeed2's clean-clone run), longest first
    "tests/publishing/test_fault_enumeration.py",  # two set-ups: 200 s and 150 s
    "tests/publishing/test_mlserver.py",  # MLServer's venv, a real MLServer and mlflow serve
    "tests/publishing/test_verify_env.py",  # fresh uv environments: about 100 s
    "tests/publishing/test_faults.py",
    "tests/test_precommit.py",  # five real pre-commit runs, two building a hook venv
    "tests/test_install.py",  # a wheel, a fresh venv and every install line: about 2 min
    "tests/publishing/test_hook_front_end.py",
    "tests/test_cache.py",  # its edit property: 100 s
    "tests/test_cache_soundness.py",
    "tests/test_secrets.py",
    "tests/publishing/test_mlflow_publish.py",
    "tests/publishing/test_mlflow_hook.py",
    "tests/test_watch.py",
    "tests/publishing/test_spark.py",
    "tests/test_kedro_plugin.py",
    "tests/publishing/test_seed_api.py",
    "tests/publishing/test_mlflow_serve.py",
    "tests/test_differential.py",
    "tests/publishing/test_publishing_paths.py",  # about a minute: two real runs, two --log
    "tests/publishing/test_gate.py",
    "tests/publishing/test_input_example.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker, put the longest modules first (a stable sort: the order
    within a module, and of the other modules, is pytest's)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _untraced_if_integration(item), _processes_refused_unless_integration(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _untraced_if_integration(item), _processes_refused_unless_integration(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    with _untraced_if_integration(item):
        yield


@contextmanager
def _untraced_if_integration(item: pytest.Item) -> Iterator[None]:
    """Run an integration test outside branch coverage (``--cov``, as .ci/run measures it).

    Coverage is the unit tests' measure (the fast lane, which covers the core: rules, model
    and engine): tracing the integration tests' in-process work (MLflow, pandas, Kedro
    sessions) costs half as much CPU again for lines the unit tests already reach
    (docs/design.md §11). ``KML_COVERAGE=all`` traces them too.
    """
    coverage = sys.modules.get("coverage")  # not installed in the Kedro 0.19 lane
    current = coverage.Coverage.current() if coverage is not None else None
    if (
        current is None
        or item.get_closest_marker("integration") is None
        or os.environ.get("KML_COVERAGE") == "all"
    ):
        yield
        return
    current.stop()
    try:
        yield
    finally:
        current.start()


@contextmanager
def _processes_refused_unless_integration(item: pytest.Item) -> Iterator[None]:
    """Make an unmarked test that starts a process fail (teardown is left alone: a module
    fixture of an integration test may stop its server after an unmarked test)."""
    if item.get_closest_marker("integration") is not None:
        yield
        return

    def refuse(self: subprocess.Popen, args: object, *_: object, **__: object) -> None:
        raise RuntimeError(
            f"{item.nodeid} starts a process ({args!r}): mark it `@pytest.mark.integration`"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", refuse)
        yield


def examples(ci: int, slow: int) -> int:
    """How many examples a hypothesis property runs.

    ``ci`` under CI (``CI=true``, as ``.ci/run`` runs), ``slow`` with
    ``HYPOTHESIS_PROFILE=slow``, and a quarter of ``ci`` otherwise: the inner loop
    (``-m "not integration"``) stays fast while CI keeps every property at full strength.
    """
    if os.environ.get("HYPOTHESIS_PROFILE") == "slow":
        return slow
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return ci
    return max(10, ci // 4)


@dataclass
class CliRun:
    """A finished ``kedro-ml-lint`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)

    @property
    def pairs(self) -> set[tuple[str, str, str | None]]:
        """(pipeline, code, subject) of every violation in a JSON report."""
        return {(v["pipeline"], v["code"], v["subject"]) for v in self.json["violations"]}


@pytest.fixture
def _cli_side_effects_undone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI quietens Kedro for the rest of its process; in-process, only for this test."""
    monkeypatch.delenv("KEDRO_LOGGING_CONFIG", raising=False)
    kedro_logger = logging.getLogger("kedro")
    level = kedro_logger.level
    yield
    kedro_logger.setLevel(level)


def separate_streams_runner() -> Any:
    """click's ``CliRunner`` with stdout and stderr apart, as a process has them.

    click 8.2 always keeps them apart (and dropped ``mix_stderr``); click 8.1, which Kedro
    0.19 installs (the 0.19 lane of .ci/run), mixes them unless told not to.
    """
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click >= 8.2
        return CliRunner()


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict | None = None,
    python: str | Path = sys.executable,
    process: bool = False,
) -> CliRun:
    """Run ``kedro-ml-lint ARGS`` and capture everything.

    In this process, through click's ``CliRunner`` (the command line the console script
    runs, with the same environment, working folder and streams), unless a process is the
    subject: ``process=True`` (exit statuses, signals, the entry point, what a fresh
    interpreter imports or prints), another environment's interpreter ``python``, or an
    ``env`` that only a new interpreter reads (``PYTHON*``). Then ``python -m kedro_ml_lint
    ARGS`` runs for real.

    ``python`` may be another environment's interpreter (the lean one, Kedro 0.19's): the
    suite's own ``PYTHONPATH`` is then replaced by this checkout's package alone, so that
    environment sees what it installed plus the kedro_ml_lint under test (the same code as its
    editable install in CI; in a git work tree, the work tree's rather than another
    checkout's). A folder holding only a link to the package, not the repository root, whose
    ``tools/``, ``rules/``, ``tests/``… would shadow a project's missing modules.
    """
    env = env or {}
    if process or str(python) != sys.executable or any(k.startswith("PYTHON") for k in env):
        return _run_process(args, cwd, env, python)
    return _run_in_process(args, cwd, env)


def _run_process(args: tuple, cwd: Path | None, env: dict, python: str | Path) -> CliRun:
    inherited = {k: v for k, v in os.environ.items() if k not in _CI_VARIABLES}
    if str(python) != sys.executable:
        inherited["PYTHONPATH"] = str(_this_package_alone())
    proc = subprocess.run(
        [str(python), "-m", "kedro_ml_lint", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**inherited, "NO_COLOR": "1", **env},
        timeout=300,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def _run_in_process(args: tuple, cwd: Path | None, env: dict) -> CliRun:
    """The command line in this process; an exception it lets out is printed on stderr with
    exit 1, as the interpreter does for a process."""
    import traceback

    from kedro_ml_lint.cli import main

    environment: dict[str, str | None] = dict.fromkeys(_CI_VARIABLES)
    environment.update({"NO_COLOR": "1", **env})
    # What a run leaves in the process (the variables and logger levels it sets to quiet
    # Kedro) is put back, so that each run starts as a new process would.
    variables = dict(os.environ)
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    # A new process logs as kedro_ml_lint/logging.yml says (the CLI points Kedro at it before
    # Kedro's import): errors only, on stderr. An earlier test may have let Kedro configure
    # this process's logging its own way (a rich handler on stdout, which would mix its
    # warnings into a JSON report): the run gets the new process's root logger instead.
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    root.handlers[:] = [_CurrentStderr(logging.ERROR)]
    root.setLevel(logging.ERROR)
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = separate_streams_runner().invoke(
            main, [str(a) for a in args], env=environment, prog_name="python -m kedro_ml_lint"
        )
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(variables)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        root.handlers[:] = handlers
        root.setLevel(root_level)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return CliRun(result.exit_code, result.stdout, stderr)


class RecordingHandler(logging.Handler):
    """Keeps every record it is given, at every level (``.records``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _CurrentStderr(logging.Handler):
    """Log records to whatever ``sys.stderr`` is when they are emitted (``CliRunner``'s)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


_PACKAGE_ALONE: list[Path] = []


def _this_package_alone() -> Path:
    """A folder holding only a link to this checkout's package: a ``PYTHONPATH`` entry that
    shadows no project module (the repository root also has ``tools/``, ``rules/``…)."""
    if not _PACKAGE_ALONE:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="kml-package-"))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "kedro_ml_lint").symlink_to(REPO / "kedro_ml_lint", target_is_directory=True)
        _PACKAGE_ALONE.append(folder)
    return _PACKAGE_ALONE[0]


def tree_digest(root: Path) -> dict[str, str]:
    """Content hash of every file under ``root``, to prove nothing was modified."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="session", autouse=True)
def _session_in_tmp_path(tmp_path_factory: pytest.TempPathFactory):
    """Module-scoped fixtures run before any per-test folder exists: give them one too."""
    previous = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    # The user's cache folder holds the key, the import records (docs/design.md §4) and the
    # `--log` journals: never the user's own, and each test starts without records (see
    # below). KEDRO_ML_LINT_CACHE_DIR would win over XDG_CACHE_HOME (kedro_ml_lint.files).
    os.environ.pop("KEDRO_ML_LINT_CACHE_DIR", None)
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg"))
    yield
    os.chdir(previous)


@pytest.fixture(autouse=True)
def _work_in_tmp_path(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test runs in its own folder: nothing it writes by default (MLflow's ``./mlruns``
    artifact root, say) lands in the repository. And with its own user cache folder, empty:
    no import record (deferral) carries over from another test, whatever their order."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))


@pytest.fixture
def example(tmp_path: Path):
    """Copy a bundled example project to ``tmp_path`` and return its root."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(
            EXAMPLES / name,
            target,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".kedro-ml-lint-cache"),
        )
        return target

    return copy


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (created if need be) across processes:
    under ``pytest -n 2`` (as ``.ci/run`` runs the suite) two workers may build one shared
    thing at once. Without ``fcntl`` (Windows) the lock is a no-op."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_venv(kind: str, variable: str, stamp: str, install: Callable[[Path], None]) -> Path:
    """The interpreter of a virtual environment the tests need, built once.

    ``variable`` names one when set (``.ci/run`` builds them); otherwise it is built once
    under the user's cache folder as ``<kind>-<stamp>`` by ``install(python)`` after
    ``python -m venv``, and rebuilt when ``stamp`` changes.
    """
    given = os.environ.get(variable)
    if given:
        return Path(given)
    venv = USER_CACHE / "kedro-ml-lint-tests" / f"{kind}-{stamp}"
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Under `pytest -n 2` both workers ask at once: one builds, the other waits for it.
    with exclusive(venv.parent / f"{kind}-{stamp}.lock"):
        if not (venv / "ready").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            install(python)
            (venv / "ready").write_text(f"{kind}\n")
    return python


def _lean_venv() -> Path:
    """A virtual environment with kedro-ml-lint alone, as the pre-commit hook has it.

    ``KML_LEAN_PYTHON`` names one (``.ci/run`` builds it); otherwise it is built once
    under the user's cache folder and rebuilt when ``pyproject.toml`` changes. The
    package is installed editable, so the tests always run the working tree's code.
    """

    def install(python: Path) -> None:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", str(REPO)],
            check=True,
            capture_output=True,
        )

    stamp = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return cached_venv("lean", "KML_LEAN_PYTHON", stamp, install)


@pytest.fixture(scope="session")
def lean_python() -> Path:
    """The interpreter of an environment holding kedro-ml-lint and its dependencies only."""
    python = _lean_venv()
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pandas') is None)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "True", f"{python} is not lean: pandas is installed"
    return python
