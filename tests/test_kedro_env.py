"""``KEDRO_ENV``: ``check`` reads the environment ``kedro run`` would read (issue 18, item 6).

``kedro run`` takes its environment from ``--env``, else ``KEDRO_ENV``, else the config
loader's default (``local``). The project here persists its model in ``base`` and forgets it
in ``staging``, so each environment has its own verdict; the cache must keep them apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from project_factory import write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.cache.store import NO_CACHE_ENV

# `staging` turns the model into a MemoryDataset: KML001 there, clean elsewhere.
STAGING_CATALOG = "model:\n  type: MemoryDataset\n"
STAGING = {("KML001", "model")}


def _verdict(result) -> set[tuple[str, str | None]]:
    return {(v.code, v.subject) for v in result.violations}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    root = write_project(tmp_path / "envs", package="envs")
    (root / "conf" / "staging").mkdir()
    (root / "conf" / "staging" / "catalog.yml").write_text(STAGING_CATALOG)
    return root


def test_kedro_env_picks_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _verdict(lint_project(project)) == set()
    monkeypatch.setenv("KEDRO_ENV", "staging")
    assert _verdict(lint_project(project)) == STAGING


def test_env_wins_over_kedro_env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDRO_ENV", "staging")
    assert _verdict(lint_project(project, env="local")) == set()
    monkeypatch.setenv("KEDRO_ENV", "local")
    assert _verdict(lint_project(project, env="staging")) == STAGING


def test_an_empty_kedro_env_is_unset(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Kedro's ``env or os.getenv("KEDRO_ENV")``: an empty value is no environment."""
    monkeypatch.setenv("KEDRO_ENV", "")
    assert _verdict(lint_project(project)) == set()


def test_an_unknown_kedro_env_fails_as_kedro_run_does(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kedro_ml_lint.errors import KedroMlLintError

    monkeypatch.setenv("KEDRO_ENV", "prdo")
    with pytest.raises(KedroMlLintError, match="`KEDRO_ENV=prdo` needs it") as raised:
        lint_project(project)
    assert raised.value.path == "conf/prdo"


@pytest.mark.integration  # loads the project four times
def test_the_cache_keys_on_kedro_env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    assert _verdict(lint_project(project, cache=True)) == set()
    assert lint_project(project, cache=True).cache == "hit"
    monkeypatch.setenv("KEDRO_ENV", "staging")
    staging = lint_project(project, cache=True)
    assert (staging.cache, _verdict(staging)) == ("miss", STAGING)
    monkeypatch.delenv("KEDRO_ENV")
    back = lint_project(project, cache=True)
    assert (back.cache, _verdict(back)) == ("hit", set())


@pytest.mark.integration  # the real command line, served from its cache
def test_a_cached_command_line_sees_a_new_kedro_env(project: Path) -> None:
    """Repeated identical runs are served from the cache (docs/design.md §13): a changed
    ``KEDRO_ENV`` must still give the new environment's verdict."""
    cached = {NO_CACHE_ENV: ""}
    args = ("check", project, "--format", "json")
    for _ in range(3):
        run = run_cli(*args, env=cached)
        assert (run.code, run.json["violations"]) == (0, []), run.stderr
    staging = run_cli(*args, env={**cached, "KEDRO_ENV": "staging"})
    assert staging.code == 1, staging.stderr
    assert {(v["code"], v["subject"]) for v in staging.json["violations"]} == STAGING
    explicit = run_cli(*args, "--env", "local", env={**cached, "KEDRO_ENV": "staging"})
    assert (explicit.code, explicit.json["violations"]) == (0, []), explicit.stderr


def test_an_unknown_kedro_env_is_one_exit_2_line(project: Path) -> None:
    from click.testing import CliRunner

    from kedro_ml_lint.cli import main

    run = CliRunner().invoke(main, ["check", str(project)], env={"KEDRO_ENV": "prdo"})
    assert run.exit_code == 2
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("kedro-ml-lint: error: conf/prdo:")
    assert "`KEDRO_ENV=prdo`" in line and "Traceback" not in run.stderr
