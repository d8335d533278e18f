"""The snapshot cache: a hit gives the uncached verdict, and every recorded input invalidates.

docs/design.md §13. Most tests run ``lint_project(..., cache=True)`` or the CLI in-process
(click's ``CliRunner``) on a project written to ``tmp_path``; the concurrent-runs test starts
real processes and is marked ``integration``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import examples, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import CATALOG, REGISTRY, write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.cache import recording as recording_module
from kedro_ml_lint.cache import store as store_module
from kedro_ml_lint.cache.recording import environment_digest
from kedro_ml_lint.cache.seal import opened, sealed, user_key
from kedro_ml_lint.cache.store import NO_CACHE_ENV
from kedro_ml_lint.cli import main
from kedro_ml_lint.reading.codec import CodecError, decode, encode, schema_fingerprint
from kedro_ml_lint.reading.snapshot import ProjectSnapshot
from kedro_ml_lint.vocabulary import CACHE_DIR

# Nearly every test here loads real Kedro projects several times (cold, warm, edited): about
# 45 s in all, which the fast lane's budget (docs/design.md §11: under a minute) cannot hold.
pytestmark = pytest.mark.integration

FORMATS = ("text", "json", "sarif", "github", "markdown")
CLEAN_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The suite runs uncached (tests/conftest.py); these tests are about the cache.

    The environment is set here, not per invocation: the environment is an input, so the
    CLI and ``lint_project`` calls must see the same one to share an entry. The seal's key
    lives in a folder of the test's own, outside every project and repository.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)


def verdict(result) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (v.code, v.pair, v.subject, v.location and f"{v.location.path}:{v.location.line}")
        for v in result.violations
    ]


def cached(root: Path, **options):
    return lint_project(root, cache=True, **options)


def entry_of(root: Path) -> Path:
    (entry,) = (root / CACHE_DIR).glob("*.json")
    return entry


def reseal(root: Path, text: str) -> str:
    """``text`` sealed with this user's key, as the cache seals its entries."""
    return sealed(text, user_key(root))


def unseal(root: Path) -> str:
    return opened(entry_of(root).read_text(), user_key(root)) or ""


# A registry whose pipelines depend on a data file and an environment variable read at
# import, and which counts its imports in a file outside the project.
READING_REGISTRY = """
import os
from pathlib import Path

from kedro_ml_lint import pipeline_ml_factory

from {package}.pipelines import inference, training

with open("data/input_name.txt", encoding="utf-8") as stream:
    INPUT_NAME = stream.read().strip()
THRESHOLD = os.environ.get("KML_TEST_PARAMETER", "threshold")
with open(os.environ["KML_TEST_COUNTER"], "a", encoding="utf-8") as counter:
    counter.write("imported\\n")


def register_pipelines():
    from kedro.pipeline import Pipeline, node
    from {package}.nodes import predict

    serve = Pipeline([node(predict, ["instances", "scaler", "model", "params:" + THRESHOLD],
                           "predictions", name="predict")])
    pair = pipeline_ml_factory(training(), serve, input_name=INPUT_NAME)
    return {{"training": pair, "inference": serve, "__default__": pair}}
"""


@pytest.fixture
def reading_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    counter = tmp_path / "imports.log"
    counter.write_text("")
    monkeypatch.setenv("KML_TEST_COUNTER", str(counter))
    monkeypatch.delenv("KML_TEST_PARAMETER", raising=False)
    root = write_project(tmp_path / "project", registry=READING_REGISTRY)
    (root / "data").mkdir()
    (root / "data" / "input_name.txt").write_text("instances\n")
    return root


def imports(root: Path) -> int:
    return (root.parent / "imports.log").read_text().count("imported")


# -- a hit is the uncached run ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hit_prints_byte_for_byte_what_the_uncached_run_prints(example, fmt: str) -> None:
    project = example("churn-broken")
    runner = CliRunner()
    args = ["check", str(project), "--format", fmt, "--show-unused-noqa"]
    uncached = runner.invoke(main, [*args, "--no-cache"], env=CLEAN_ENV)
    assert not (project / CACHE_DIR).exists()
    cold = runner.invoke(main, args, env=CLEAN_ENV)
    warm = runner.invoke(main, args, env=CLEAN_ENV)
    assert (uncached.exit_code, cold.exit_code, warm.exit_code) == (1, 1, 1)
    assert uncached.stdout == cold.stdout == warm.stdout
    assert uncached.stderr == cold.stderr == warm.stderr
    assert lint_project(project, cache=True).cache == "hit"


def test_graph_and_statistics_are_the_same_from_the_cache(example) -> None:
    project = example("churn-broken")
    runner = CliRunner()
    for args in (["graph", str(project)], ["check", str(project), "--statistics"]):
        uncached = runner.invoke(main, [*args, "--no-cache"], env=CLEAN_ENV)
        cold = runner.invoke(main, args, env=CLEAN_ENV)
        warm = runner.invoke(main, args, env=CLEAN_ENV)
        assert uncached.stdout == cold.stdout == warm.stdout
        assert uncached.exit_code == cold.exit_code == warm.exit_code


def test_a_hit_does_not_import_the_project(reading_project: Path) -> None:
    first = cached(reading_project)
    assert (first.cache, imports(reading_project)) == ("miss", 1)
    second = cached(reading_project)
    assert (second.cache, imports(reading_project)) == ("hit", 1)  # no import on a hit
    assert verdict(second) == verdict(first)
    assert second.loaded is None and second.declarations == []


@pytest.mark.integration
def test_a_cli_hit_never_imports_kedro_nor_the_project(example) -> None:
    """In a fresh interpreter: the warm path imports neither Kedro nor the registry.

    Nor any module that reads or imports a project: only ``reading.snapshot`` and what it
    needs (no ``importing``, ``eras`` or ``seams``, no ``reading.project`` or ``pairs``, and no
    ``reading.conf_archive`` when ``--conf-source`` names no archive).
    """
    project = example("churn")
    code = textwrap.dedent(
        f"""
        import sys
        from kedro_ml_lint.api import lint_project
        result = lint_project({str(project)!r}, cache=True)
        loaders = [
            m for m in sys.modules
            if m.startswith(("kedro_ml_lint.importing", "kedro_ml_lint.eras",
                             "kedro_ml_lint.seams", "kedro_ml_lint.reading.project",
                             "kedro_ml_lint.reading.pairs",
                             "kedro_ml_lint.reading.conf_archive"))
        ]
        print(result.cache, "kedro" in sys.modules, "churn" in sys.modules, loaders)
        """
    )
    first = _python(code)  # a fresh interpreter: its own key (sys.path)
    assert first.startswith("miss True True") and "kedro_ml_lint.reading.project" in first
    assert _python(code) == "hit False False []"


def _python(code: str) -> str:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != NO_CACHE_ENV}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip().splitlines()[-1]  # after Kedro's own log lines


# -- every recorded input invalidates -------------------------------------------------------


def test_a_data_file_read_at_import_invalidates(reading_project: Path) -> None:
    assert verdict(cached(reading_project)) == []
    assert cached(reading_project).cache == "hit"
    (reading_project / "data" / "input_name.txt").write_text("instance\n")
    result = cached(reading_project)
    assert result.cache == "miss"
    assert "KML005" in {code for code, *_ in verdict(result)}
    assert verdict(result) == verdict(lint_project(reading_project))


def test_an_environment_variable_read_at_import_invalidates(
    reading_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert verdict(cached(reading_project)) == []
    monkeypatch.setenv("KML_TEST_PARAMETER", "treshold")
    result = cached(reading_project)
    assert result.cache == "miss"
    assert [code for code, *_ in verdict(result)] == ["KML006"]
    assert cached(reading_project).cache == "hit"
    monkeypatch.delenv("KML_TEST_PARAMETER")
    back = cached(reading_project)  # one entry per key: it holds the last load's inputs
    assert (back.cache, verdict(back)) == ("miss", [])


def test_the_value_of_an_environment_variable_is_never_stored(reading_project: Path) -> None:
    cached(reading_project)
    text = entry_of(reading_project).read_text()
    assert json.loads(unseal(reading_project))["inputs"]["environment"] == environment_digest()
    assert os.environ["KML_TEST_COUNTER"] not in text  # one hash of the environment
    assert "KML_TEST_COUNTER" not in text


def test_a_source_edit_invalidates(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    before = cached(root)
    pipelines = root / "src" / "demo" / "pipelines.py"
    pipelines.write_text(pipelines.read_text().replace('"params:threshold"', '"params:tresh"'))
    after = cached(root)
    assert after.cache == "miss"
    assert verdict(after) != verdict(before)
    assert verdict(after) == verdict(lint_project(root))


def test_a_new_configuration_file_invalidates(tmp_path: Path) -> None:
    without_model = CATALOG.split("model:  # the fitted model")[0]
    root = write_project(tmp_path / "p", catalog=without_model)
    assert ("KML001", "training", "model") in [v[:3] for v in verdict(cached(root))]
    assert cached(root).cache == "hit"
    (root / "conf" / "base" / "catalog_models.yml").write_text(
        "model:\n  type: pickle.PickleDataset\n  filepath: data/06_models/model.pkl\n"
    )
    result = cached(root)
    assert result.cache == "miss"
    assert ("KML001", "training", "model") not in [v[:3] for v in verdict(result)]


def test_a_new_pipeline_folder_invalidates(tmp_path: Path) -> None:
    """A registry that lists a folder (as ``find_pipelines`` does) sees a new one."""
    registry = REGISTRY.replace(
        "def register_pipelines():",
        "import os\n\n\ndef register_pipelines():\n    extra = sorted(os.listdir('plugins'))\n",
    ).replace(
        'input_name="instances")',
        'input_name="instances" if not extra else extra[0])',
    )
    root = write_project(tmp_path / "p", registry=registry)
    (root / "plugins").mkdir()
    assert verdict(cached(root)) == []
    (root / "plugins" / "instance").mkdir()
    result = cached(root)
    assert result.cache == "miss"
    assert "KML005" in {v[0] for v in verdict(result)}


def test_pyproject_settings_invalidate(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", catalog=CATALOG.split("model:  # the fitted")[0])
    assert verdict(cached(root))
    with (root / "pyproject.toml").open("a") as stream:
        stream.write('\n[tool.kedro-ml-lint]\nignore = ["KML001"]\n')
    result = cached(root)
    assert (result.cache, verdict(result)) == ("miss", [])


def test_every_imported_module_file_is_an_input(example) -> None:
    """Kedro's own modules count one by one (a reinstall at the same version is a miss)."""
    project = example("churn")
    cached(project)
    document = json.loads(unseal(project))
    kedro_init = next(p for p in document["inputs"]["files"] if p.endswith("kedro/__init__.py"))
    full, content, racy = document["inputs"]["files"][kedro_init]
    assert content is None or racy  # an installed file: its stat must match exactly
    document["inputs"]["files"][kedro_init] = [[*full[:1], full[1] + 1, *full[2:]], None, False]
    entry_of(project).write_text(reseal(project, json.dumps(document)))
    assert cached(project).cache == "miss"  # as if reinstalled: another inode


def test_env_conf_source_and_selection_are_separate_entries(example) -> None:
    project = example("churn-broken")
    (project / "conf" / "staging").mkdir()
    plain = cached(project)
    staging = cached(project, env="staging")
    legacy = cached(project, pipelines=("legacy",))
    assert (plain.cache, staging.cache, legacy.cache) == ("miss", "miss", "miss")
    assert len(list((project / CACHE_DIR).glob("*.json"))) == 3
    assert cached(project, pipelines=("legacy",)).cache == "hit"
    assert {v.pair for v in legacy.violations} == {"legacy"}
    assert verdict(cached(project, env="staging")) == verdict(staging)


def test_select_and_ignore_apply_to_a_hit(example) -> None:
    project = example("churn-broken")
    cached(project)
    result = cached(project, select=["KML001"])
    assert result.cache == "hit"
    assert verdict(result) == verdict(lint_project(project, select=["KML001"]))


def test_an_error_is_never_cached(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", registry="def register_pipelines(:\n")
    for _ in range(2):
        with pytest.raises(Exception, match="syntax"):
            cached(root)
    assert not list((root / CACHE_DIR).glob("*.json"))


# -- a bad cache is never trusted, never fatal --------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "garbage \x00\x01",
        lambda text: text[: len(text) // 2],  # a torn write
        lambda text: "",
        lambda text: "[]",
        lambda text: text.replace("kedro-ml-lint-cache/2/", "kedro-ml-lint-cache/0/"),
        lambda text: text.replace('"source":"pipeline_ml"', '"source":"elsewhere"'),
        lambda text: text.replace('"name":"training"', '"name":["training"]', 1),
    ],
    ids=["garbage", "torn", "empty", "not-an-object", "foreign", "bad-enum", "bad-type"],
)
def test_a_damaged_entry_is_ignored_and_rewritten(example, damage) -> None:
    """Damaged content is refused even under our own seal."""
    project = example("churn-broken")
    expected = verdict(cached(project))
    entry = entry_of(project)
    entry.write_text(reseal(project, damage(unseal(project))))
    result = cached(project)
    assert (result.cache, verdict(result)) == ("miss", expected)
    assert cached(project).cache == "hit"  # rewritten


@pytest.mark.parametrize("seal", ["none", "another-key"])
def test_an_entry_sealed_by_someone_else_is_never_trusted(example, seal: str) -> None:
    """A planted entry (a clean verdict, no inputs to invalidate it) is ignored."""
    project = example("churn-broken")
    expected = verdict(cached(project))
    entry = entry_of(project)
    document = json.loads(unseal(project))
    document["inputs"] = {"files": {}, "stats": {}, "lstats": {}, "dirs": {}}
    document["inputs"]["environment"] = environment_digest()
    document["payload"]["pairs"] = []
    text = json.dumps(document)
    key = os.urandom(32)
    mac = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    entry.write_text(text if seal == "none" else mac + "\n" + text)
    result = cached(project)
    assert (result.cache, verdict(result)) == ("miss", expected)


def test_a_tampered_snapshot_with_unknown_fields_is_refused() -> None:
    data = {"root": "/x", "evil": 1}
    with pytest.raises(CodecError):
        decode(ProjectSnapshot, data)


def test_an_unwritable_cache_never_fails_the_check(example) -> None:
    project = example("churn-broken")
    (project / CACHE_DIR).write_text("a file where the folder should be")
    expected = verdict(lint_project(project))
    result = cached(project)
    assert (result.cache, verdict(result)) == ("miss", expected)
    assert result.cache_problem is not None
    run = CliRunner().invoke(main, ["check", str(project), "-v"], env=CLEAN_ENV)
    assert run.exit_code == 1
    assert sum("cache not used" in line for line in run.stderr.splitlines()) == 1
    quiet = CliRunner().invoke(main, ["check", str(project)], env=CLEAN_ENV)
    assert "cache" not in quiet.stderr


def test_a_full_disk_never_fails_the_check(example, monkeypatch: pytest.MonkeyPatch) -> None:
    project = example("churn-broken")
    expected = verdict(lint_project(project))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.os, "replace", full)
    result = cached(project)
    assert (result.cache, verdict(result)) == ("miss", expected)
    assert "No space left" in (result.cache_problem or "")
    assert not [p for p in (project / CACHE_DIR).iterdir() if p.name.startswith(".tmp")]


def test_an_unreadable_entry_is_loaded_around(example, monkeypatch: pytest.MonkeyPatch) -> None:
    project = example("churn")
    cached(project)

    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store_module, "read_entry", unreadable)
    result = cached(project)
    assert result.cache == "miss" and "Permission denied" in (result.cache_problem or "")


# -- turning it off, cleaning it --------------------------------------------------------------


def test_no_cache_flag_and_variable_leave_no_folder(
    example, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = example("churn")
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(project), "--no-cache"], env=CLEAN_ENV).exit_code == 0
    assert not (project / CACHE_DIR).exists()
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    assert runner.invoke(main, ["check", str(project)], env=CLEAN_ENV).exit_code == 0
    assert not (project / CACHE_DIR).exists()
    monkeypatch.setenv(NO_CACHE_ENV, "0")
    assert runner.invoke(main, ["check", str(project)], env=CLEAN_ENV).exit_code == 0
    assert (project / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"


def test_fix_diff_and_log_bypass_the_cache(example) -> None:
    project = example("churn-broken")
    runner = CliRunner()
    runner.invoke(main, ["check", str(project), "--diff"], env=CLEAN_ENV)
    runner.invoke(main, ["check", str(project), "--fix"], env=CLEAN_ENV)
    assert not (project / CACHE_DIR).exists()


def test_clean_removes_the_folder(example) -> None:
    project = example("churn")
    cached(project)
    assert (project / CACHE_DIR).is_dir()
    run = CliRunner().invoke(main, ["clean", str(project / "src")])
    assert run.exit_code == 0 and "Removed" in run.stderr
    assert not (project / CACHE_DIR).exists()
    again = CliRunner().invoke(main, ["clean", str(project)])
    assert again.exit_code == 0 and "No cache" in again.stderr
    outside = CliRunner().invoke(main, ["clean", str(project.parent)])
    assert outside.exit_code == 2
    (project / CACHE_DIR).write_text("not a folder")
    assert CliRunner().invoke(main, ["clean", str(project)]).exit_code == 0
    assert not (project / CACHE_DIR).exists()


def test_a_recording_that_fails_is_not_stored(example, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error inside the audit hook never reaches the project's code; nothing is stored."""
    project = example("churn")

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(recording_module, "_opened_for_reading", broken)
    result = cached(project)
    assert result.violations == [] and result.cache == "miss"
    assert not list((project / CACHE_DIR).glob("*.json"))


@pytest.mark.integration
def test_concurrent_runs_agree_and_leave_a_valid_entry(example) -> None:
    project = example("churn-broken")
    env = {NO_CACHE_ENV: "0"}
    expected = run_cli("check", project, "--no-cache", env=env, process=True)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: run_cli("check", project, env=env, process=True), range(8)))
    assert {(r.code, r.stdout) for r in runs} == {(expected.code, expected.stdout)}
    assert run_cli("check", project, env=env, process=True).stdout == expected.stdout
    run_cli("check", project, "-v", env=env, process=True)  # -v lets Kedro log: another environment
    again = run_cli("check", project, "-v", env=env, process=True)
    assert "(from the cache)" in again.stderr


# -- the codec ------------------------------------------------------------------------------


def test_a_snapshot_round_trips(example) -> None:
    from kedro_ml_lint.reading.pairs import declared_pairs
    from kedro_ml_lint.reading.project import load_project
    from kedro_ml_lint.reading.snapshot import take_snapshot

    project = load_project(example("churn-broken"))
    snapshot = take_snapshot(project, declared_pairs(project))
    assert decode(ProjectSnapshot, json.loads(json.dumps(encode(snapshot)))) == snapshot


def test_a_new_field_changes_the_format() -> None:
    @dataclass(frozen=True)
    class Wiring:
        hooks: tuple[str, ...] = ()

    Base = make_dataclass("Pair", [("name", str)], frozen=True)
    Grown = make_dataclass(
        "Pair", [("name", str), ("wiring", Wiring, field(default=Wiring()))], frozen=True
    )
    assert schema_fingerprint(Base) != schema_fingerprint(Grown)
    value = Grown("p", Wiring(("a",)))
    assert decode(Grown, encode(value)) == value


# -- the property: whatever is edited, the warm verdict is the uncached one ---------------------

EDITS = st.lists(
    st.sampled_from(
        [
            ("conf/base/catalog.yml", "model:  # the fitted model", "modle:"),
            ("conf/base/catalog.yml", "data/06_models/scaler.pkl", "s3://b/scaler.pkl"),
            ("conf/base/parameters.yml", "threshold: 0.5", "treshold: 0.5"),
            ("src/demo/pipelines.py", '"scaler", "model", "params', '"scaler", "modle", "params'),
            ("data/input_name.txt", "instances", "instance"),
            ("data/input_name.txt", "instance\n", "instances\n"),
        ]
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=examples(ci=20, slow=100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=EDITS)
def test_after_any_edits_the_warm_verdict_is_the_uncached_one(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, edits
) -> None:
    base = tmp_path_factory.mktemp("edits")
    counter = base / "imports.log"
    monkeypatch.setenv("KML_TEST_COUNTER", str(counter))
    root = write_project(base / "project", registry=READING_REGISTRY)
    (root / "data").mkdir()
    (root / "data" / "input_name.txt").write_text("instances\n")
    cached(root)
    for path, old, new in edits:
        target = root / path
        target.write_text(target.read_text().replace(old, new))
        warm = cached(root)
        assert verdict(warm) == verdict(lint_project(root))
        assert verdict(cached(root)) == verdict(warm)


# -- the command line ends without interpreter teardown ------------------------------------


@pytest.mark.integration
def test_the_fast_exit_keeps_output_exit_code_and_atexit_handlers(tmp_path: Path) -> None:
    """``os._exit`` after the report: every byte out, the exit code kept, atexit run."""
    marker = tmp_path / "atexit-ran"
    registry = REGISTRY.replace(
        "def register_pipelines():",
        "import atexit\nfrom pathlib import Path\n"
        f"atexit.register(lambda: Path({str(marker)!r}).write_text('yes'))\n\n\n"
        "def register_pipelines():",
    ).replace('input_name="instances"', 'input_name="instance"')
    root = write_project(tmp_path / "p", registry=registry)
    report = tmp_path / "report.json"
    run = run_cli("check", root, "--format", "json", "--output", report, "--no-cache", process=True)
    assert run.code == 1
    assert json.loads(report.read_text())["summary"]["violations"] >= 1
    assert marker.read_text() == "yes"
    piped = run_cli("check", root, "--no-cache", process=True)
    assert piped.code == 1 and piped.stdout.rstrip().splitlines()[-1].startswith("Found ")


def test_the_wiring_is_cached_and_a_settings_edit_invalidates(tmp_path: Path) -> None:
    """KML2xx read `settings.py` (its hooks) and the factory's arguments: both are inputs."""
    registry = REGISTRY.replace(
        'input_name="instances")',
        'input_name="instances", kpm_kwargs={{"copy_mode": "deepcopy"}})',
    )
    root = write_project(tmp_path / "wired", package="wired", registry=registry)
    first = cached(root, select=["KML2"])
    assert [v.code for v in first.violations] == ["KML206"]
    assert cached(root, select=["KML2"]).cache == "hit"
    assert verdict(cached(root, select=["KML2"])) == verdict(first)
    (root / "src/wired/settings.py").write_text("", encoding="utf-8")  # the hook is gone
    after = cached(root, select=["KML2"])
    assert after.cache == "miss"
    assert sorted(v.code for v in after.violations) == ["KML201", "KML206"]
