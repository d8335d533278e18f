"""``settings.HOOKS`` and ``DISABLE_HOOKS_FOR_PLUGINS`` read as Kedro reads them (issue 18, item 5).

The oracle is Kedro itself: for each way a project can write its settings, a real
``KedroSession`` of the installed Kedro (1.x, with kedro-mlflow 2.x) is created in a process
and the hooks it registers are listed. kedro-ml-lint's ``Wiring`` must say the same of both
loggers, in this environment and in the lean one (kedro-mlflow and MLflow missing, their
hooks stood in for), and the wiring rules must give the verdict those loggers imply. Lists
and tuples are the forms every other test writes; here, every other form.

The project binds two pairs, one from each factory: ours is logged only by our hook, and
with kedro-mlflow's hook the project logs by hook (KML201 when ours is missing);
kedro-mlflow's is logged twice (KML202) with both hooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from project_factory import write_project

from kedro_ml_lint.api import lint_project

# Each case starts a process (a real KedroSession) and loads the project twice.
pytestmark = pytest.mark.integration

TWO_PAIRS = """
from kedro_mlflow.pipeline import pipeline_ml_factory as theirs_factory

from kedro_ml_lint import pipeline_ml_factory

from {package}.pipelines import inference, training


def register_pipelines():
    ours = pipeline_ml_factory(training(), inference(), input_name="instances")
    theirs = theirs_factory(training(), inference(), input_name="instances")
    return {{"ours": ours, "theirs": theirs, "__default__": ours}}
"""

OURS = "from kedro_ml_lint.hooks import MlflowPipelineHook\n"
THEIRS = "from kedro_mlflow.framework.hooks import MlflowHook\n"
SETTINGS = {
    "nothing": "",
    "hooks-tuple": OURS + "HOOKS = (MlflowPipelineHook(),)\n",
    "hooks-set": OURS + "HOOKS = {MlflowPipelineHook()}\n",
    "hooks-frozenset": OURS + "HOOKS = frozenset({MlflowPipelineHook()})\n",
    "hooks-generator": OURS + "HOOKS = (hook for hook in [MlflowPipelineHook()])\n",
    "hooks-set-not-logging": OURS + "HOOKS = {MlflowPipelineHook(log_model=False)}\n",
    "disable-tuple": 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)\n',
    "disable-frozenset": 'DISABLE_HOOKS_FOR_PLUGINS = frozenset({"kedro_mlflow"})\n',
    "disable-generator": 'DISABLE_HOOKS_FOR_PLUGINS = (n for n in ["kedro_mlflow"])\n',
    "disable-dict-keys": 'DISABLE_HOOKS_FOR_PLUGINS = {"kedro_mlflow": True}.keys()\n',
    # A string is iterated character by character: it disables nothing.
    "disable-a-string": 'DISABLE_HOOKS_FOR_PLUGINS = "kedro_mlflow"\n',
    "disable-misspelt": 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow",)\n',
    "disable-and-ours-in-a-set": OURS
    + "HOOKS = {MlflowPipelineHook()}\n"
    + 'DISABLE_HOOKS_FOR_PLUGINS = frozenset({"kedro_mlflow"})\n',
    # kedro-mlflow's hook listed explicitly: registered whatever DISABLE_HOOKS_FOR_PLUGINS says.
    "theirs-listed": THEIRS + "HOOKS = [MlflowHook()]\n",
    "theirs-listed-and-disabled": THEIRS
    + "HOOKS = (MlflowHook(),)\n"
    + 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)\n',
    "both-listed-in-a-set-and-disabled": OURS
    + THEIRS
    + "HOOKS = {MlflowHook(), MlflowPipelineHook()}\n"
    + 'DISABLE_HOOKS_FOR_PLUGINS = {"kedro_mlflow"}\n',
}

# What a real KedroSession registers: (our logging hook, kedro-mlflow's hook).
ORACLE = """
import json, sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro_ml_lint.seams.kedro_private import session_hooks

root = Path(sys.argv[1])
bootstrap_project(root)
with KedroSession.create(root) as session:
    hooks = session_hooks(session)
ours = any(
    type(h).__module__ == "kedro_ml_lint.hooks" and getattr(h, "log_model", False) for h in hooks
)
theirs = any(type(h).__module__.startswith("kedro_mlflow.") for h in hooks)
print(json.dumps([ours, theirs]))
"""


def _registered(root: Path, python: Path | str = sys.executable) -> tuple[bool, bool]:
    proc = subprocess.run(
        [str(python), "-c", ORACLE, str(root)],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    ours, theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    return ours, theirs


def _verdict(ours: bool, theirs: bool) -> set[tuple[str, str]]:
    """The KML201/KML202 verdict of the two-pair project, given which loggers run."""
    found = set()
    if theirs and not ours:
        found.add(("ours", "KML201"))  # kedro-mlflow's hook ignores our PipelineML
    if ours and theirs:
        found.add(("theirs", "KML202"))
    return found


# What kedro-ml-lint's loader reads, in whichever environment runs this.
OURS = """
import json, sys
from kedro_ml_lint.api import lint_project

result = lint_project(sys.argv[1], select=["KML201", "KML202"])
read = {(d.wiring.our_hook, d.wiring.kedro_mlflow_hook) for d in result.declarations}
print(json.dumps(sorted(read)))
"""


def _read_by_us(root: Path, python: Path) -> list[list[bool]]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [str(python), "-c", OURS, str(root)],
        capture_output=True,
        text=True,
        cwd=root,
        env=environment,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(SETTINGS))
def test_wiring_is_what_a_real_session_registers(
    case: str, tmp_path: Path, lean_python: Path
) -> None:
    package = "wired_" + case.replace("-", "_")
    root = write_project(
        tmp_path / package, package=package, registry=TWO_PAIRS, settings=SETTINGS[case]
    )
    registered = _registered(root)

    result = lint_project(root, select=["KML201", "KML202"])
    wirings = {d.name: d.wiring for d in result.declarations}
    assert {(w.our_hook, w.kedro_mlflow_hook) for w in wirings.values()} == {registered}
    assert {(v.pair, v.code) for v in result.violations} == _verdict(*registered)

    # The pre-commit case: kedro-mlflow and MLflow are missing, their hooks stood in for.
    assert _read_by_us(root, lean_python) == [list(registered)]


# Our factory alone: the project never names kedro-mlflow, or declares it only.
OURS_ONLY = """
from kedro_ml_lint import pipeline_ml_factory

from {package}.pipelines import inference, training


def register_pipelines():
    pair = pipeline_ml_factory(training(), inference(), input_name="instances")
    return {{"ours": pair, "__default__": pair}}
"""


@pytest.mark.parametrize("declared", [False, True])
def test_kedro_mlflow_counts_only_where_the_project_runs_with_it(
    declared: bool, tmp_path: Path, lean_python: Path
) -> None:
    """A project that publishes with ``check --log`` and never uses kedro-mlflow gets no
    KML201 in the pre-commit environment, where kedro-mlflow is missing: a real session
    there registers no hook, and neither does the project's own environment. One that
    declares kedro-mlflow runs with its hook: the lean environment reads the trap as the
    project's environment (here, the full one) has it."""
    package = "declared" if declared else "undeclared"
    root = write_project(tmp_path / package, package=package, registry=OURS_ONLY, settings="")
    if declared:
        (root / "requirements.txt").write_text("kedro-mlflow>=2.0,<3\n", encoding="utf-8")
    lean_session = _registered(root, lean_python)
    assert lean_session == (False, False)  # the plugin is not installed there
    full_session = _registered(root)  # kedro-mlflow installed: its entry point registers it
    assert full_session == (False, True)
    expected = full_session if declared else lean_session
    assert _read_by_us(root, lean_python) == [list(expected)]
    run = run_cli("check", root, "--format", "json", "--select", "KML2", python=lean_python)
    assert run.code == (1 if declared else 0), run.stderr
    found = {(v["pipeline"], v["code"]) for v in json.loads(run.stdout)["violations"]}
    assert found == ({("ours", "KML201")} if declared else set())
