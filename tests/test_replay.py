"""Replay: an unchanged read-only command line prints what it printed, byte for byte.

Every test runs the real command line in a fresh process (a replay happens before click is
imported, so only a real process shows it) and compares with ``--no-cache``: the uncached
verdict is the truth. That a replay served a run is proven by a record this test rewrote
and sealed with the same user key: the run prints the rewritten text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRun, examples, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import CATALOG, write_project

from kedro_ml_lint.loader.seal import opened, sealed
from kedro_ml_lint.vocabulary import CACHE_DIR

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A user key of the test's own, for this process and every run it starts."""
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("KEDRO_ML_LINT_NO_CACHE", raising=False)
    monkeypatch.setattr("kedro_ml_lint.loader.seal._key", None)
    return {"XDG_CACHE_HOME": str(home)}


@pytest.fixture
def churn_broken(example) -> Path:
    """A copy of the broken example, without a cache a developer's runs left in it."""
    project = example("churn-broken")
    shutil.rmtree(project / CACHE_DIR, ignore_errors=True)
    return project


def _records(project: Path) -> list[Path]:
    return sorted((project / CACHE_DIR).glob("replay-*.json"))


def _same(run: CliRun, truth: CliRun) -> None:
    assert (run.code, run.stdout, run.stderr) == (truth.code, truth.stdout, truth.stderr)


def _rewrite(record: Path, stdout: str, **changes: object) -> None:
    """Rewrite a record's output (and any field), sealed with the test's user key."""
    document = json.loads(opened(record.read_text(encoding="utf-8")) or "null")
    document.update(output=[[1, stdout]], **changes)
    record.write_text(sealed(json.dumps(document)), encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("check", "--format", "json"),
        ("check", "--format", "sarif"),
        ("check", "--statistics", "-q"),
        ("graph",),
    ],
    ids=lambda args: "-".join(a.strip("-") for a in args),
)
def test_a_replay_prints_what_the_uncached_run_prints(
    churn_broken: Path, args: tuple[str, ...]
) -> None:
    project = churn_broken
    truth = run_cli(*args, project, "--no-cache")
    assert truth.code in (0, 1) and truth.stdout
    runs = [run_cli(*args, project) for _ in range(4)]  # miss, hit, then replays
    for run in runs:
        _same(run, truth)
    assert len(_records(project)) == 1


def _recorded(project: Path) -> tuple[CliRun, Path]:
    """The uncached verdict of ``check PROJECT`` and the replay record three runs leave."""
    truth = run_cli("check", project, "--no-cache")
    for _ in range(3):  # the load, the snapshot (which records), a replay
        run_cli("check", project)
    [record] = _records(project)
    return truth, record


def test_a_record_is_what_serves_the_run_and_an_edit_ends_it(churn_broken: Path) -> None:
    project = churn_broken
    truth, record = _recorded(project)
    _rewrite(record, "REPLAYED\n")
    assert run_cli("check", project).stdout == "REPLAYED\n"
    catalog = project / "conf/base/catalog.yml"
    catalog.write_text(catalog.read_text() + "\n# an edit\n")
    edited = run_cli("check", project)
    assert edited.stdout != truth.stdout  # KML001 points at the catalog's (new) last line
    _same(edited, run_cli("check", project, "--no-cache"))


def test_a_record_sealed_by_someone_else_is_never_trusted(churn_broken: Path) -> None:
    """A forged record (no inputs, a clean verdict) in the cache folder is ignored."""
    project = churn_broken
    truth, record = _recorded(project)
    document = json.loads(opened(record.read_text()) or "null")
    forged = dict(document, output=[[1, "All checks passed!\n"]], code=0)
    forged["inputs"] = {k: {} for k in ("files", "dirs", "env", "env_set")}
    forged["inputs"].update(env_names=None, distributions={})
    text = json.dumps(forged)
    other_key = os.urandom(32)
    record.write_text(hmac.new(other_key, text.encode(), hashlib.sha256).hexdigest() + "\n" + text)
    _same(run_cli("check", project), truth)
    record.write_text(text)  # unsealed
    _same(run_cli("check", project), truth)
    record.write_text(sealed('{"key": {"truncated'))  # ours, but garbage
    _same(run_cli("check", project), truth)


@pytest.mark.parametrize(
    "change",
    ["source", "conf", "new_conf_file", "env_read_by_cli", "working_directory", "no_cache_var"],
)
def test_every_input_kind_ends_a_replay(churn_broken: Path, change: str) -> None:
    project = churn_broken
    _, record = _recorded(project)
    _rewrite(record, "STALE\n")
    env: dict[str, str] = {}
    cwd = None
    target: Path | str = project
    if change == "source":
        nodes = project / "src/churn_broken/pipelines/training/nodes.py"
        nodes.write_text(nodes.read_text() + "\n# an edit\n")
    elif change == "conf":
        parameters = project / "conf/base/parameters.yml"
        parameters.write_text(parameters.read_text() + "\nextra: 1\n")
    elif change == "new_conf_file":
        (project / "conf/base/catalog_more.yml").write_text("more:\n  type: MemoryDataset\n")
    elif change == "env_read_by_cli":
        env = {"GITHUB_ACTIONS": "true"}  # the default format becomes `github`
    elif change == "working_directory":
        cwd, target = project.parent, project.name
    else:
        env = {"KEDRO_ML_LINT_NO_CACHE": "1"}
    run = run_cli("check", target, cwd=cwd, env=env)
    truth = run_cli("check", target, "--no-cache", cwd=cwd, env=env)
    assert run.stdout != "STALE\n"
    _same(run, truth)


@pytest.mark.parametrize(
    "args", [("-v",), ("--output", "report.txt"), ("--exit-zero", "--fix"), ("--diff",)]
)
def test_runs_that_write_or_explain_are_never_recorded(
    churn_broken: Path, args: tuple[str, ...]
) -> None:
    project = churn_broken
    for _ in range(3):
        run_cli("check", project, *args, cwd=project.parent)
    assert _records(project) == []


def test_a_replay_interleaves_stdout_and_stderr_as_the_run_did(tmp_path: Path) -> None:
    """One stream for both (a terminal, ``2>&1``): the note comes before the report."""
    catalog = CATALOG.replace("instances:\n", "instances:  # noqa: KML002\n")
    root = write_project(tmp_path / "project", catalog=catalog)
    command = [sys.executable, "-m", "kedro_ml_lint", "check", str(root), "--show-unused-noqa"]

    def merged(*extra: str) -> str:
        return subprocess.run(
            [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ).stdout

    truth = merged("--no-cache")
    assert "unused" in truth.splitlines()[0]  # stderr's note first, then stdout's summary
    assert [merged() for _ in range(4)] == [truth] * 4


EDITS = st.lists(
    st.sampled_from(
        [
            ("conf/base/catalog.yml", "filepath: data/06_models/model.pkl", "filepath: s3://b/m"),
            ("conf/base/catalog.yml", "filepath: s3://b/m", "filepath: data/06_models/model.pkl"),
            ("conf/base/parameters.yml", "threshold: 0.5", "treshold: 0.5"),
            ("conf/base/parameters.yml", "treshold: 0.5", "threshold: 0.5"),
            ("src/demo/pipelines.py", '"scaler", "model", "params', '"scaler", "modle", "params'),
            ("src/demo/pipelines.py", '"scaler", "modle", "params', '"scaler", "model", "params'),
        ]
    ),
    min_size=1,
    max_size=2,
)


@settings(
    max_examples=examples(ci=4, slow=30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=EDITS)
def test_after_any_edits_a_replayed_verdict_is_the_uncached_one(
    tmp_path_factory: pytest.TempPathFactory, edits
) -> None:
    root = write_project(tmp_path_factory.mktemp("replay") / "project")
    for _ in range(3):
        run_cli("check", root, "--format", "json")
    for path, old, new in edits:
        target = root / path
        target.write_text(target.read_text().replace(old, new))
        truth = run_cli("check", root, "--format", "json", "--no-cache")
        for _ in range(3):  # the load, the snapshot, the replay
            _same(run_cli("check", root, "--format", "json"), truth)
