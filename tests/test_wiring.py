"""The wiring rules (KML2xx) on real projects: what the loader reads from ``settings.py``,
the installed plugins and the factory's arguments, and how warnings exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from project_factory import REGISTRY, write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.cli import main

OUR_HOOK = "from kedro_ml_lint.hooks import MlflowPipelineHook\n\nHOOKS = (MlflowPipelineHook(),)\n"
NOT_LOGGING = (
    "from kedro_ml_lint.hooks import MlflowPipelineHook\n\n"
    "HOOKS = (MlflowPipelineHook(log_model=False),)\n"
)
# kedro-mlflow's hook registers itself wherever it is installed; Kedro matches the name exactly.
NO_KEDRO_MLFLOW_HOOK = 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)\n'
KEDRO_MLFLOW_REGISTRY = REGISTRY.replace(
    "from kedro_ml_lint import pipeline_ml_factory",
    "from kedro_mlflow.pipeline import pipeline_ml_factory",
)
# `__default__` a sum that trains the pair: a plain Pipeline, not the pair.
SUM_REGISTRY = KEDRO_MLFLOW_REGISTRY.replace(
    '"__default__": pair}', '"__default__": pair + inference()}'
)


def _wiring(tmp_path: Path, package: str, **options: str) -> set[tuple[str, str | None]]:
    root = write_project(tmp_path / package, package=package, **options)
    result = lint_project(root, select=["KML2"])
    return {(v.code, v.subject) for v in result.violations}


def test_our_pair_with_our_hook_is_clean(tmp_path: Path) -> None:
    assert _wiring(tmp_path, "wired", settings=OUR_HOOK) == set()


@pytest.mark.parametrize("settings", ["", NOT_LOGGING], ids=["no-hook", "hook-without-logging"])
def test_our_pair_with_only_kedro_mlflows_hook_is_never_logged(
    tmp_path: Path, settings: str
) -> None:
    """The import-switch trap: kedro-mlflow's hook (registered by the plugin) is the only
    logging hook, and it ignores kedro-ml-lint's PipelineML; a checking-only hook of ours
    does not log either."""
    package = "unhooked" if not settings else "notlogging"
    root = write_project(tmp_path / package, package=package, settings=settings)
    [violation] = lint_project(root, select=["KML2"]).violations
    assert violation.code == "KML201" and violation.subject is None
    # At the factory call, where the pair is declared.
    assert violation.location is not None
    assert violation.location.path == f"src/{package}/pipeline_registry.py"
    assert "kedro-mlflow's hook ignores it" in violation.message


@pytest.mark.parametrize(
    ("package", "registry", "settings"),
    [
        ("ours_unhooked", REGISTRY, NO_KEDRO_MLFLOW_HOOK),
        ("ours_checking", REGISTRY, NO_KEDRO_MLFLOW_HOOK + NOT_LOGGING),
        ("theirs_unhooked", KEDRO_MLFLOW_REGISTRY, NO_KEDRO_MLFLOW_HOOK),
        ("theirs_checking", KEDRO_MLFLOW_REGISTRY, NO_KEDRO_MLFLOW_HOOK + NOT_LOGGING),
    ],
)
def test_a_project_without_any_logging_hook_publishes_another_way(
    tmp_path: Path, package: str, registry: str, settings: str
) -> None:
    """No hook logs anything: `check --log` or `kedro mlflow modelify` publish; no KML201."""
    root = write_project(tmp_path / package, package=package, registry=registry, settings=settings)
    assert lint_project(root).violations == []
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 0, result.output


def test_check_log_is_the_logger_so_kml201_does_not_run(tmp_path: Path) -> None:
    """The trap's project, linted as `check --log` lints it: KML201 is not even selected."""
    root = write_project(tmp_path / "trap", package="trap", settings="")
    assert {v.code for v in lint_project(root).violations} == {"KML201"}
    publishing = lint_project(root, publishing=True)
    assert publishing.violations == []
    assert "KML201" not in {rule.code for rule in publishing.settings.selection.rules(True, True)}


def test_kedro_mlflows_pair_with_both_hooks_is_logged_twice(tmp_path: Path) -> None:
    found = _wiring(tmp_path, "twice", registry=KEDRO_MLFLOW_REGISTRY, settings=OUR_HOOK)
    assert found == {("KML202", None)}


def test_disabling_kedro_mlflow_uses_its_distribution_name(tmp_path: Path) -> None:
    """Kedro compares ``DISABLE_HOOKS_FOR_PLUGINS`` with the metadata name exactly:
    ``kedro_mlflow`` for kedro-mlflow 2.x, so ``kedro-mlflow`` disables nothing (and its hook
    is then the only logger of our pair: the trap)."""
    disabled = _wiring(tmp_path, "disabled", settings=NO_KEDRO_MLFLOW_HOOK)
    assert disabled == set()
    misspelt = _wiring(
        tmp_path, "misspelt", settings='DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow",)\n'
    )
    assert misspelt == {("KML201", None)}


def test_a_sum_logged_by_kedro_mlflow_is_a_warning_that_exits_0(tmp_path: Path) -> None:
    root = write_project(tmp_path / "summed", package="summed", registry=SUM_REGISTRY, settings="")
    assert {(v.code, v.severity.value) for v in lint_project(root, select=["KML2"]).violations} == {
        ("KML203", "warning")
    }
    runner = CliRunner()
    relaxed = runner.invoke(main, ["check", str(root), "--select", "KML2"])
    strict = runner.invoke(main, ["check", str(root), "--select", "KML2", "--strict"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "KML203" in relaxed.output and "`__default__`" in relaxed.output
    assert strict.exit_code == 1, strict.output


def test_log_model_kwargs_and_copy_mode_are_read_from_the_factory_call(tmp_path: Path) -> None:
    registry = REGISTRY.replace(
        'input_name="instances")',
        'input_name="instances", kpm_kwargs={{"copy_mode": "deepcopy"}},\n'
        '        log_model_kwargs={{"code_path": ["src"], "name": "churn"}})',  # format-escaped
    )
    found = _wiring(tmp_path, "kwargs", registry=registry, settings=OUR_HOOK)
    # Our hook logs the pair, and it needs MLflow 3 (which calls it `code_paths`): so with
    # MLflow installed here or not (the Kedro 0.19 lane), `code_path` is refused.
    assert found == {("KML206", None), ("KML205", "code_path")}


def test_a_logging_hook_never_stops_its_run_for_kml201() -> None:
    """The pre-flight of a hook that logs drops KML201 (it logs the pair itself); a hook
    that only checks keeps it, with every other finding, in order."""
    from kedro_ml_lint.diagnostics import Severity, Violation
    from kedro_ml_lint.hooks import preflight_findings

    def violation(code: str) -> Violation:
        return Violation(code, "name", Severity.ERROR, "message", "training")

    found = [violation("KML001"), violation("KML201"), violation("KML006")]
    assert [v.code for v in preflight_findings(found, logs=True)] == ["KML001", "KML006"]
    assert [v.code for v in preflight_findings(found, logs=False)] == [v.code for v in found]


def test_settings_are_iterated_as_kedro_iterates_them() -> None:
    """Any iterable, once (a generator is kept for later readers); a string by character,
    as Kedro's ``set(DISABLE_HOOKS_FOR_PLUGINS)``; a value that is not iterable is none."""
    from types import ModuleType

    from kedro_ml_lint.reading.plugin_hooks import hook_runs
    from kedro_ml_lint.seams.kedro_settings import settings_items

    settings = ModuleType("settings")
    settings.HOOKS = (hook for hook in ["a", "b"])  # type: ignore[attr-defined]
    assert settings_items(settings, "HOOKS") == ("a", "b")
    assert settings_items(settings, "HOOKS") == ("a", "b")  # read again: the same items
    settings.DISABLE_HOOKS_FOR_PLUGINS = "kedro_mlflow"  # type: ignore[attr-defined]
    assert hook_runs(settings)  # disables `k`, `e`, `d`…: not the plugin
    settings.DISABLE_HOOKS_FOR_PLUGINS = frozenset({"kedro_mlflow"})  # type: ignore[attr-defined]
    assert not hook_runs(settings)
    settings.DISABLE_HOOKS_FOR_PLUGINS = ()  # type: ignore[attr-defined]
    assert hook_runs(settings) and not hook_runs(settings, in_environment=False)  # no plugin
    settings.DISABLE_HOOKS_FOR_PLUGINS = 3  # type: ignore[attr-defined]
    assert settings_items(settings, "DISABLE_HOOKS_FOR_PLUGINS") == ()
    assert settings_items(None, "HOOKS") == ()
