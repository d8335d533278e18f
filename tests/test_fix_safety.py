"""``--fix`` never damages a project: Kedro's read-back, YAML 1.1 keys, owners, locks, tabs."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import examples, run_cli, tree_digest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from project_factory import write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.diagnostics import Applicability, CatalogEdit, Fix, Severity, Violation
from kedro_ml_lint.fix import ReadBackError, append_entries, check_read_back, plan_fixes

CATALOG_FILE = "conf/base/catalog.yml"
PICKLE = "pickle.PickleDataset"
# The catalog without entries for the two artifacts: KML001 twice, both fixable.
BARE_CATALOG = """
instances:
  type: pandas.CSVDataset
  filepath: data/01_raw/instances.csv
"""


def edit(name: str) -> CatalogEdit:
    return CatalogEdit(name, (("type", PICKLE), ("filepath", f"data/06_models/{name}.pkl")))


def violation(name: str) -> Violation:
    fix = Fix("add an entry", Applicability.SAFE, (edit(name),))
    return Violation(
        "KML001", "inference-input-not-persisted", Severity.ERROR, "m", "p", name, fix=fix
    )


def kedro_reads(text: str) -> dict:
    """One file as Kedro's OmegaConfigLoader reads it (OmegaConf.load on a StringIO)."""
    return OmegaConf.to_container(OmegaConf.load(io.StringIO(text)))


def error_line(run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.startswith("kedro-ml-lint: error")]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


# --- read back through Kedro's loader ------------------------------------------------------


def test_entry_that_another_catalog_file_defines_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    """Kedro refuses a key two files of one environment define: the fix must not create one."""
    root = write_project(tmp_path)  # conf/base/catalog.yml defines `model`
    target = "conf/base/catalog_models.yml"
    (root / target).write_text("# models go here\n", encoding="utf-8")
    result = lint_project(root)
    assert result.loaded is not None
    plan = plan_fixes(root, target, [violation("model")])
    assert plan.changed  # the file alone accepts the entry
    with pytest.raises(ReadBackError) as caught:
        check_read_back(plan, result.loaded.config, root)
    message = str(caught.value)
    assert message.startswith(f"{target}: ")
    assert "Duplicate keys" in message and "model" in message
    assert "kedro-ml-lint-fix-" not in message  # the scratch copy's path is not shown
    assert (root / target).read_text(encoding="utf-8") == "# models go here\n"


def test_read_back_accepts_exactly_the_new_entries(tmp_path: Path) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG)
    result = lint_project(root)
    assert result.loaded is not None
    plan = plan_fixes(root, CATALOG_FILE, result.violations)
    assert {v.subject for v in plan.fixes} == {"model", "scaler"}
    check_read_back(plan, result.loaded.config, root)  # does not raise


@pytest.mark.parametrize(
    ("fix_catalog", "why"),
    [
        # Kedro's default run env is `local`: `prod` is never read.
        ("conf/prod/catalog.yml", "not read: `model`, `scaler`"),
        # Not a `catalog*` file: Kedro's patterns skip it.
        ("conf/base/models.yml", "not read: `model`, `scaler`"),
        ("models/catalog.yml", "outside the configuration folder `conf`"),
    ],
)
@pytest.mark.integration
def test_fix_catalog_kedro_does_not_read_is_exit_2_and_nothing_written(
    tmp_path: Path, fix_catalog: str, why: str
) -> None:
    extra = f'[tool.kedro-ml-lint]\nfix-catalog = "{fix_catalog}"\n'
    root = write_project(tmp_path, catalog=BARE_CATALOG, pyproject_extra=extra)
    digest = tree_digest(root)
    for flag in ("--fix", "--diff"):
        run = run_cli("check", root, flag)
        assert run.code == 2, run.stdout + run.stderr
        line = error_line(run)
        assert line.startswith(f"kedro-ml-lint: error: {fix_catalog}: "), line
        assert why in line
        assert tree_digest(root) == digest  # not even the lock folder


# --- keys Kedro reads as YAML 1.1 ------------------------------------------------------------

YAML_11_TRAPS = [
    "on", "off", "yes", "no", "y", "n", "Y", "N", "true", "False", "TRUE", "null", "Null", "~",
    "12:30", "190:20:30", "1e3", "1E3", "-1e3", "1_000", "0x1F", "0o17", "017", "0b101", ".5",
    "+1", ".inf", "-.Inf", ".nan", "2001-12-14", "=", "<<", "-", "?", "!x", "&a", "*a", "%x",
    "@x", "`x", "#x", "x #y", "x: y", "a b", "'q'", '"d"', "[a]", "{a}", ",", "|", ">",
]  # fmt: skip
NAMES = st.one_of(
    st.sampled_from(YAML_11_TRAPS),
    st.from_regex(r"[a-z0-9_.:+\-~ ]{1,12}", fullmatch=True).filter(lambda s: s.strip() == s),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).filter(
        lambda s: s.strip() == s and "${" not in s
    ),
)


@settings(
    max_examples=examples(ci=300, slow=3000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# A new key, never the one the catalog already has (its entry would be kept, not added).
@given(st.lists(NAMES.filter(lambda s: s != "instances"), min_size=1, max_size=4, unique=True))
def test_new_keys_read_back_as_strings_in_yaml_1_1(names: list[str]) -> None:
    """PyYAML/OmegaConf (Kedro) read `on`, `12:30`, `1e3`… as bool/number: such keys are quoted."""
    existing = "instances:\n  type: pandas.CSVDataset\n"
    insertion = append_entries(existing, [edit(n) for n in names])
    assert insertion.added == tuple(names)
    document = kedro_reads(existing + insertion.suffix)
    assert list(document) == ["instances", *names]  # exactly these keys, all strings
    for name in names:
        assert document[name] == dict(edit(name).entry)


TRAP_PIPELINES = """
from kedro.pipeline import Pipeline, node

from {package}.nodes import fit, predict


def training():
    return Pipeline([
        node(fit, ["features"], "on", name="a"),
        node(fit, ["features"], "12:30", name="b"),
        node(fit, ["features"], "1e3", name="c"),
    ])


def inference():
    return Pipeline([node(predict, ["instances", "on", "12:30", "1e3"], "out", name="predict")])
"""


@pytest.mark.integration
def test_yaml_11_keys_through_the_cli(tmp_path: Path) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG, pipelines=TRAP_PIPELINES)
    first = run_cli("check", root, "--format", "json")
    assert {s for _, c, s in first.pairs if c == "KML001"} == {"on", "12:30", "1e3"}, first.stdout
    run = run_cli("check", root, "--fix", "--format", "json")
    assert run.code == 0, run.stdout + run.stderr
    assert run.json["summary"]["fixed"] == 3
    document = kedro_reads((root / CATALOG_FILE).read_text(encoding="utf-8"))
    assert set(document) == {"instances", "on", "12:30", "1e3"}
    assert run_cli("check", root).code == 0


# --- owner, group and mode -----------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


@pytest.mark.integration
@needs_root
def test_fix_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG)
    catalog = root / CATALOG_FILE
    os.chown(catalog, 12345, 12345)
    catalog.chmod(0o600)
    run = run_cli("check", root, "--fix")
    assert run.code == 0, run.stdout + run.stderr
    status = catalog.stat()
    assert (status.st_uid, status.st_gid) == (12345, 12345)
    assert stat.S_IMODE(status.st_mode) == 0o600
    assert "model:" in catalog.read_text(encoding="utf-8")


@pytest.mark.integration
@pytest.mark.parametrize("mode", [0o444, 0o044, 0o400])
def test_read_only_file_is_refused_even_as_root(tmp_path: Path, mode: int) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG)
    catalog = root / CATALOG_FILE
    catalog.chmod(mode)
    try:
        digest = tree_digest(root)
        run = run_cli("check", root, "--fix")
        assert run.code == 2, run.stdout + run.stderr
        line = error_line(run)
        assert line.startswith(f"kedro-ml-lint: error: {CATALOG_FILE}: ")
        assert "read-only" in line and f"{mode:04o}" in line
        assert stat.S_IMODE(catalog.stat().st_mode) == mode
        assert tree_digest(root) == digest  # not even a lock file
    finally:
        catalog.chmod(0o644)


# --- concurrent writers -------------------------------------------------------------------


def _start_fix(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kedro_ml_lint", "check", str(root), "--fix", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.integration
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_fixes_end_like_sequential_ones(tmp_path: Path, attempt: int) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG)
    processes = [_start_fix(root), _start_fix(root)]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stdout + stderr
        report = json.loads(stdout)
        assert report["summary"]["violations"] == 0  # no stale violation
        assert all(v["fix"]["applied"] for v in report["violations"])
    fixed = [json.loads(stdout)["summary"]["fixed"] for stdout, _ in outputs]
    assert sorted(fixed) == [0, 2]  # one run fixed both, the other found nothing to do
    text = (root / CATALOG_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines.count("model:") == 1 and lines.count("scaler:") == 1
    assert set(kedro_reads(text)) == {"instances", "model", "scaler"}
    # The lock is the user's, not the project's.
    assert not (root / ".kedro-ml-lint").exists()


@pytest.mark.integration
def test_a_fix_writes_only_the_files_it_fixes(tmp_path: Path) -> None:
    root = write_project(tmp_path, catalog=BARE_CATALOG)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "project"], check=True)
    run = run_cli("check", root, "--fix", "--no-cache")
    assert run.code == 0, run.stdout + run.stderr
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all", "--ignored"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status.splitlines() == [f" M {CATALOG_FILE}"]
    assert not (root / ".kedro-ml-lint").exists()


# --- tabs -----------------------------------------------------------------------------------


@pytest.mark.integration
def test_tabs_kedro_accepts_do_not_block_the_fix(tmp_path: Path) -> None:
    """OmegaConf (Kedro) accepts a tab after a value; ruamel.yaml and PyYAML do not."""
    catalog = BARE_CATALOG.replace("pandas.CSVDataset\n", "pandas.CSVDataset\t\n")
    root = write_project(tmp_path, catalog=catalog)
    assert run_cli("check", root, "--format", "json").code == 1
    run = run_cli("check", root, "--fix")
    assert run.code == 0, run.stdout + run.stderr
    text = (root / CATALOG_FILE).read_text(encoding="utf-8")
    assert text.startswith(catalog.lstrip("\n"))
    assert set(kedro_reads(text)) == {"instances", "model", "scaler"}


@pytest.mark.integration
def test_unreadable_fix_catalog_says_what_the_parser_said(tmp_path: Path) -> None:
    """A fix-catalog Kedro does not read (so the lint passed) but cannot parse either."""
    extra = '[tool.kedro-ml-lint]\nfix-catalog = "conf/base/catalog_models.yml"\n'
    root = write_project(tmp_path, catalog=BARE_CATALOG, pyproject_extra=extra)
    (root / "conf/base/catalog_models.yml").write_text("a:\n  type: x\n\t\n", encoding="utf-8")
    run = run_cli("check", root, "--fix")
    # Kedro reads catalog_models.yml too, so the lint itself stops, naming file and line.
    assert run.code == 2
    line = error_line(run)
    assert "conf/base/catalog_models.yml:3" in line and "tab" in line


def test_refusal_names_the_yaml_problem_and_line() -> None:
    insertion = append_entries("a:\n  type: x\n\t\n", [edit("model")])
    assert insertion.added == ()
    assert "tab" in insertion.detail and "(line 3)" in insertion.detail


@pytest.mark.integration
def test_fix_through_a_symlinked_catalog_file_writes_its_target(tmp_path: Path) -> None:
    """Kedro reads a catalog file that is a symlink to a file outside conf/: so does --fix."""
    root = write_project(tmp_path / "project", catalog=BARE_CATALOG)
    shared = tmp_path / "shared-catalog.yml"
    (root / CATALOG_FILE).rename(shared)
    (root / CATALOG_FILE).symlink_to(shared)
    run = run_cli("check", root, "--fix")
    assert run.code == 0, run.stdout + run.stderr
    assert (root / CATALOG_FILE).is_symlink()
    assert set(kedro_reads(shared.read_text(encoding="utf-8"))) == {"instances", "model", "scaler"}


@pytest.mark.parametrize(
    "text",
    ["{a: {type: x}}\n", "# c\n\n%YAML 1.1\n---\n{a: {type: x}}\n", "--- {a: {type: x}}\n"],
)
def test_flow_style_files_are_refused(text: str) -> None:
    assert append_entries(text, [edit("model")]).added == ()


def test_many_blank_lines_are_fast() -> None:
    """The flow-style check is linear (a regex over blank lines once took seconds)."""
    text = "\n" * 5000 + "a:\n  type: x\n"
    assert append_entries(text, [edit("model")]).added == ("model",)


def test_the_fix_lock_is_the_users_and_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from kedro_ml_lint.fix.lock import fix_lock_path

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)  # platformdirs warns then
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = fix_lock_path(tmp_path / "project")
    assert path.parent == tmp_path / "cache" / "kedro-ml-lint" / "locks"
    # Keyed by the real path: a symlink to the project shares its lock.
    (tmp_path / "project").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "project")
    assert fix_lock_path(tmp_path / "link") == path
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)  # XDG: the user's own, private
    assert fix_lock_path(tmp_path / "project").parent == tmp_path / "run" / "kedro-ml-lint"
