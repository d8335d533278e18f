"""A cached verdict is never a stale one (issue 19, docs/design.md §13).

Every class of edit that made a shortcut serve a broken pair as clean is tried on a copy of
``examples/churn`` whose registry reads its served input from a data file (a symlink), an
environment variable, a path it only looks at, an installed library and an editable
checkout: the verdict through the cache must be the ``--exact`` one after each edit. Then
every refusal: planted keys, foreign entries, a cache folder that is a link. Loads run
in-process where that is faithful, and in a fresh interpreter where the class needs one (a
library reinstalled: a process imports a module once).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_cli, tree_digest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.cache.recording import environment_digest
from kedro_ml_lint.cache.seal import user_key
from kedro_ml_lint.cache.store import NO_CACHE_ENV
from kedro_ml_lint.cli import main
from kedro_ml_lint.vocabulary import CACHE_DIR

# Every test loads real projects several times, some in fresh interpreters.
pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "churn"
SITE = ".venv/lib/site-packages"  # a venv inside the project root (common)

# The registry as a user writes it after `kedro new`, reading its served input at import.
REGISTRY = '''"""Project pipelines."""

import os
{imports}
from typing import Dict

from kedro.pipeline import Pipeline

from kedro_ml_lint import pipeline_ml_factory

from churn.pipelines import inference, training

{libraries}


def _served() -> str:
{reader}
    if os.environ.get("KML_SERVED"):
        name = os.environ["KML_SERVED"]
    if os.path.exists("data/flag"):
        name += "_flagged"
    return name + SUFFIX.strip() + EXTRA.strip()


def register_pipelines() -> Dict[str, Pipeline]:
    inference_pipeline = inference.create_pipeline()
    training_pipeline = pipeline_ml_factory(
        training=training.create_pipeline(),
        inference=inference_pipeline,
        input_name=_served(),
    )
    return {{
        "training": training_pipeline,
        "inference": inference_pipeline,
        "__default__": training_pipeline,
    }}
'''
READERS = {
    "open": (
        "",
        '    with open("data/served.txt", encoding="utf-8") as stream:\n'
        "        name = stream.read().strip()",
    ),
    "subprocess": (
        "import subprocess",
        '    name = subprocess.run(["cat", "data/served.txt"], capture_output=True, text=True,\n'
        "                          check=True).stdout.strip()",
    ),
}
# An installed helper (in a venv inside the project) and an editable checkout.
LIBRARIES = "from kml_checkout import EXTRA\nfrom kml_helper import SUFFIX\n"
NO_LIBRARIES = 'EXTRA = SUFFIX = ""\n'
# Same length, so that a copy keeps the size: only the content tells them apart.
SERVED = ("instances", "instanceZ")


def write_registry(root: Path, reader: str, libraries: bool = False) -> None:
    imports, body = READERS[reader]
    path = root / "src" / "churn" / "pipeline_registry.py"
    uses = LIBRARIES if libraries else NO_LIBRARIES
    path.write_text(REGISTRY.format(imports=imports, reader=body, libraries=uses), "utf-8")


def make_project(base: Path, libraries: bool = False) -> Path:
    """A copy of examples/churn whose registry reads its input; ``libraries``: and imports
    ``kml_helper`` (install it) and ``kml_checkout`` (put it on ``PYTHONPATH``)."""
    root = base / "churn"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", CACHE_DIR))
    write_registry(root, "open", libraries)
    for name, value in (("a.txt", SERVED[0]), ("b.txt", SERVED[1])):
        (root / "data" / name).write_text(value + "\n")
    os.symlink("a.txt", root / "data" / "served.txt")
    same_mtime(root / "data" / "b.txt", root / "data" / "a.txt")
    return root


def settle() -> None:
    """Let every file age past the racy window (2 s): a later store records them by
    ``stat`` alone, so that the next edit is judged by its ``stat``, not by a re-hash."""
    time.sleep(2.1)


def same_mtime(path: Path, like: Path) -> None:
    """``cp -p``, ``tar -x``, ``rsync -t``: the times of another file."""
    info = like.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def install_helper(root: Path, suffix: str) -> None:
    """(Re)install ``kml_helper`` 1.0 into the project's venv, as pip does: new files."""
    site = root / SITE
    package = site / "kml_helper"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f'SUFFIX = "{suffix:<2}"\n')
    info = site / "kml_helper-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kml-helper\nVersion: 1.0\n")


def edit_checkout(checkout: Path, extra: str) -> None:
    """Edit an editable checkout in place, keeping its size and times."""
    source = checkout / "kml_checkout" / "__init__.py"
    before = source.stat()
    source.write_text(f'EXTRA = "{extra:<2}"\n')
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    shutil.rmtree(source.parent / "__pycache__", ignore_errors=True)


def verdict_of(run) -> tuple[int, frozenset]:
    assert run.code in (0, 1), run.stderr
    return run.code, frozenset(run.pairs)


@pytest.fixture(autouse=True)
def _own_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    monkeypatch.delenv("KML_SERVED", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def codes(result) -> list[tuple[str, str | None]]:
    return sorted((v.code, v.subject) for v in result.violations)


def exact(root: Path) -> list[tuple[str, str | None]]:
    return codes(lint_project(root, exact=True))


# -- edits that keep the mtime, paths only looked at ------------------------------------------


def test_a_copy_that_keeps_size_and_mtime_is_a_miss(project: Path) -> None:
    target = project / "data" / "a.txt"
    settle()
    assert codes(lint_project(project, cache=True)) == []
    assert lint_project(project, cache=True).cache == "hit"
    shutil.copy2(project / "data" / "b.txt", target)  # cp -p: same size, same mtime
    assert target.stat().st_mtime_ns == (project / "data" / "b.txt").stat().st_mtime_ns
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and codes(result) == exact(project) != []


def test_a_retargeted_symlink_is_a_miss(project: Path) -> None:
    link = project / "data" / "served.txt"
    settle()
    lint_project(project, cache=True)
    link.unlink()
    os.symlink("b.txt", link)  # a same-size file with the same mtime
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and codes(result) == exact(project) != []


def test_a_path_only_looked_at_is_an_input(project: Path) -> None:
    lint_project(project, cache=True)
    (project / "data" / "flag").write_text("")  # os.path.exists: no audit event
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and codes(result) == exact(project) != []
    (project / "data" / "flag").unlink()
    assert codes(lint_project(project, cache=True)) == exact(project) == []


def test_an_environment_variable_is_an_input(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lint_project(project, cache=True)
    monkeypatch.setenv("KML_SERVED", "instanceZ")
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and codes(result) == exact(project) != []


# -- what the recorder cannot see is never cached ---------------------------------------------

UNCACHEABLE = {
    "subprocess": ("import subprocess", "subprocess.run(['true'])", "ran a subprocess (`true`)"),
    "sqlite": ("import sqlite3", "sqlite3.connect(':memory:')", "opened an SQLite database"),
    "clock": ("import time", "time.time()", "read the clock (`time.time`)"),
    "datetime": ("from datetime import datetime", "datetime.now()", "`now` (the clock)"),
    "parquet": ("", "pd = None\nif pd:\n    pd.read_parquet('x')", "`read_parquet` (a native"),
    "hostname": ("import socket", "socket.gethostname()", "the host"),
}


@pytest.mark.parametrize("case", sorted(UNCACHEABLE))
def test_what_the_recorder_cannot_see_is_never_cached(project: Path, case: str) -> None:
    imports, statement, reason = UNCACHEABLE[case]
    registry = project / "src" / "churn" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + f"\n{imports}\n{statement}\n")
    for _ in range(2):
        result = lint_project(project, cache=True)
        assert result.cache == "miss" and reason in (result.cache_problem or "")
        assert result.cache_problem.startswith("not cached: ")
    assert not list((project / CACHE_DIR).glob("*.json"))
    run = CliRunner().invoke(main, ["check", str(project), "-v"])
    lines = [line for line in run.stderr.splitlines() if "not cached" in line]
    assert len(lines) == 1 and reason in lines[0]


CLOCK_LIBRARY = """
import time

STAMP = time.time()  # read while the module body runs, as numpy.f2py does


def stamp():
    return time.time()
"""


@pytest.mark.parametrize(
    ("use", "cached"),
    [("import kml_clock  # noqa: F401", True), ("import kml_clock\nkml_clock.stamp()", False)],
    ids=["library-import-time", "project-calls-the-clock"],
)
def test_a_clock_read_refuses_only_when_the_project_reaches_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use: str, cached: bool
) -> None:
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "kml_clock.py").write_text(CLOCK_LIBRARY)
    monkeypatch.syspath_prepend(str(site))
    registry = project / "src" / "churn" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + f"\n{use}\n")
    first = lint_project(project, cache=True)
    assert ("read the clock" in (first.cache_problem or "")) is not cached
    sys.modules.pop("kml_clock", None)  # a fresh interpreter would import it again
    assert (lint_project(project, cache=True).cache == "hit") is cached


@pytest.mark.parametrize(
    "fixture", ["kedro017-spam-filter", "kedro018-house-prices", "kedro019-fraud-detection"]
)
def test_projects_of_every_era_are_served_and_exact(tmp_path: Path, fixture: str) -> None:
    """The older eras' config loaders and libraries (dateutil, threadpoolctl) keep a load
    cacheable: what they read at import is harmless, and the verdict is the exact one."""
    root = tmp_path / fixture
    source = Path(__file__).parent / "fixtures" / fixture
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("__pycache__", CACHE_DIR))
    first = lint_project(root, cache=True)
    assert first.cache_problem is None
    # scikit-learn's import sets KMP_* variables: in this process, the environment the next
    # load starts from is another one (a fresh interpreter's is not); then it is served.
    second = [lint_project(root, cache=True) for _ in range(2)][-1]
    assert second.cache == "hit", second.cache_stale
    assert codes(second) == codes(first) == codes(lint_project(root))


def test_a_subprocess_read_file_is_never_served_stale(project: Path) -> None:
    write_registry(project, "subprocess")
    assert codes(lint_project(project, cache=True)) == []
    (project / "data" / "a.txt").write_text("instanceZ\n")
    assert codes(lint_project(project, cache=True)) == exact(project) != []


# -- a fresh interpreter: installed libraries, editable checkouts -----------------------------


def make_checkout(folder: Path) -> Path:
    (folder / "kml_checkout").mkdir(parents=True)
    (folder / "kml_checkout" / "__init__.py").write_text('EXTRA = "  "\n')
    return folder


def test_a_library_reinstalled_at_the_same_version_is_a_miss(tmp_path: Path) -> None:
    project = make_project(tmp_path, libraries=True)
    checkout = make_checkout(tmp_path / "checkout")
    install_helper(project, "")
    settle()
    paths = [str(project / SITE), str(checkout), os.environ.get("PYTHONPATH", "")]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    env[NO_CACHE_ENV] = "0"
    assert verdict_of(run_cli("check", project, "--format", "json", env=env))[0] == 0
    served = [run_cli("check", project, "-v", env=env) for _ in range(2)][-1]
    assert "(from the cache)" in served.stderr  # (-v is another environment: it loads once)
    install_helper(project, "x")  # same name, same version, other code
    cached = verdict_of(run_cli("check", project, "--format", "json", env=env))
    assert cached == verdict_of(run_cli("check", project, "--exact", "--format", "json", env=env))
    assert cached[0] == 1


def test_an_edited_editable_checkout_is_a_miss(tmp_path: Path) -> None:
    project = make_project(tmp_path, libraries=True)
    checkout = make_checkout(tmp_path / "checkout")
    install_helper(project, "")
    settle()
    paths = [str(project / SITE), str(checkout), os.environ.get("PYTHONPATH", "")]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    env[NO_CACHE_ENV] = "0"
    assert verdict_of(run_cli("check", project, "--format", "json", env=env))[0] == 0
    edit_checkout(checkout, "y")  # same size, same mtime
    cached = verdict_of(run_cli("check", project, "--format", "json", env=env))
    assert cached == verdict_of(run_cli("check", project, "--exact", "--format", "json", env=env))
    assert cached[0] == 1


# -- trusting planted material: never ---------------------------------------------------------


def plant_key(folder: Path) -> bytes:
    """An attacker's key, as a checkout could hold it."""
    key = os.urandom(32)
    (folder / "kedro-ml-lint").mkdir(parents=True, exist_ok=True)
    path = folder / "kedro-ml-lint" / "key"
    path.write_bytes(key)
    path.chmod(0o600)
    return key


def refused(project: Path, fragment: str) -> None:
    """The cache is refused with one warning naming ``fragment``; the verdict is exact."""
    result = lint_project(project, cache=True)
    assert result.cache == "off"
    assert result.cache_warning is not None and fragment in result.cache_warning
    assert codes(result) == exact(project)
    assert not list((project / CACHE_DIR).glob("*.json"))
    run = CliRunner().invoke(main, ["check", str(project)])
    warnings = [line for line in run.stderr.splitlines() if "cache" in line]
    assert len(warnings) == 1 and fragment in warnings[0]
    assert run.exit_code == 0  # a cache problem never fails a gate


def test_a_key_inside_the_project_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_key(project / ".cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / ".cache"))  # a common CI setup
    refused(project, "inside the project")


def test_a_key_inside_a_git_work_tree_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    plant_key(tmp_path / "repo" / "ci-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "repo" / "ci-cache"))
    refused(project, "git work tree")


@pytest.mark.parametrize("problem", ["mode-0644", "other-owner", "symlink", "open-folder"])
def test_a_key_that_is_not_the_users_alone_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    folder = tmp_path / "xdg-planted"
    plant_key(folder)
    key = folder / "kedro-ml-lint" / "key"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    if problem == "mode-0644":
        key.chmod(0o644)
        fragment = "readable or writable by others"
    elif problem == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("chown to another user needs root")
        import pwd

        os.chown(key, pwd.getpwnam("nobody").pw_uid, -1)
        fragment = "owned by another user"
    elif problem == "symlink":
        elsewhere = tmp_path / "elsewhere-key"
        key.rename(elsewhere)
        key.symlink_to(elsewhere)
        fragment = "symbolic link"
    else:
        key.parent.chmod(0o777)
        fragment = "others can write it"
    refused(project, fragment)


def test_a_cache_folder_that_is_a_link_into_conf_is_never_written(project: Path) -> None:
    conf = project / "conf" / "base"
    (project / CACHE_DIR).symlink_to(conf, target_is_directory=True)
    before = tree_digest(conf)
    result = lint_project(project, cache=True)
    assert codes(result) == exact(project) == []
    assert "symbolic link" in (result.cache_problem or "")
    assert tree_digest(conf) == before and sorted(p.name for p in conf.iterdir()) == [
        "catalog.yml",
        "parameters.yml",
    ]
    for _ in range(2):  # every later run works too
        assert CliRunner().invoke(main, ["check", str(project)]).exit_code == 0


def test_a_cache_folder_of_another_user_is_never_read(project: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    import pwd

    lint_project(project, cache=True)
    os.chown(project / CACHE_DIR, pwd.getpwnam("nobody").pw_uid, -1)
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and "another user" in (result.cache_problem or "")


@pytest.mark.parametrize("kind", ["link", "other-owner", "foreign-seal"])
def test_an_entry_that_is_not_ours_is_ignored(project: Path, tmp_path: Path, kind: str) -> None:
    """A forged entry claims a clean verdict with no inputs; it is never served."""
    (project / "data" / "a.txt").write_text("instanceZ\n")  # a broken pair
    expected = exact(project)
    assert expected != []
    lint_project(project, cache=True)
    (entry,) = (project / CACHE_DIR).glob("*.json")
    text = entry.read_text().split("\n", 1)[1]
    document = json.loads(text)
    document["payload"]["pairs"] = []
    document["inputs"] = {"files": {}, "stats": {}, "lstats": {}, "dirs": {}}
    document["inputs"]["environment"] = environment_digest()
    forged = json.dumps(document)
    if kind == "foreign-seal":
        other = os.urandom(32)
        entry.write_text(
            hmac.new(other, forged.encode(), hashlib.sha256).hexdigest() + "\n" + forged
        )
    else:
        own = hmac.new(user_key(project), forged.encode(), hashlib.sha256).hexdigest()
        if kind == "link":  # even sealed with our key, a link is never followed
            outside = tmp_path / "outside.json"
            outside.write_text(own + "\n" + forged)
            entry.unlink()
            entry.symlink_to(outside)
        else:
            if os.geteuid() != 0:
                pytest.skip("chown to another user needs root")
            import pwd

            entry.write_text(own + "\n" + forged)
            os.chown(entry, pwd.getpwnam("nobody").pw_uid, -1)
    result = lint_project(project, cache=True)
    assert result.cache == "miss" and codes(result) == expected
    if kind == "link":
        assert outside.read_text().startswith(own)  # the link was replaced, not followed


def test_exact_takes_no_shortcut(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def plain_reader_used(config_loader):
        raise AssertionError("--exact must read the catalog with the config loader")

    monkeypatch.setattr("kedro_ml_lint.reading.project.read_plain_catalog", plain_reader_used)
    result = lint_project(project, exact=True, cache=True)
    assert result.cache == "off" and codes(result) == []
    run = CliRunner().invoke(main, ["check", str(project), "--exact"])
    assert run.exit_code == 0 and not (project / CACHE_DIR).exists()


# -- the property: whatever is edited, in any order, cached == exact ---------------------------


class EditSequences(RuleBasedStateMachine):
    """Edits of every class above, in any order; after each, cached == ``--exact``."""

    base: Path

    @initialize()
    def start(self) -> None:
        import tempfile

        self.base = Path(tempfile.mkdtemp(prefix="kml-edits-"))
        self.root = make_project(self.base, libraries=True)
        self.checkout = make_checkout(self.base / "checkout")
        install_helper(self.root, "")
        self.user_cache = self.base / "xdg"
        self.env = {
            NO_CACHE_ENV: "0",
            "KML_SERVED": "",
            "XDG_CACHE_HOME": str(self.user_cache),
            "PYTHONPATH": os.pathsep.join(
                [str(self.root / SITE), str(self.checkout), os.environ.get("PYTHONPATH", "")]
            ),
        }
        self.conf_before = tree_digest(self.root / "conf")

    def teardown(self) -> None:
        shutil.rmtree(getattr(self, "base", "/nonexistent"), ignore_errors=True)

    def _other(self, path: Path) -> str:
        """The served value ``path`` does not hold: every edit flips the verdict."""
        return SERVED[1] if path.read_text().strip() == SERVED[0] else SERVED[0]

    @rule()
    def write_content(self) -> None:
        target = (self.root / "data" / "served.txt").resolve()
        target.write_text(self._other(target) + "\n")

    @rule()
    def copy_keeping_times(self) -> None:
        target = (self.root / "data" / "served.txt").resolve()
        scratch = self.root / "data" / "incoming.txt"
        scratch.write_text(self._other(target) + "\n")
        same_mtime(scratch, target)
        shutil.copy2(scratch, target)  # cp -p over the current target: same size and mtime
        scratch.unlink()

    @rule()
    def retarget_symlink(self) -> None:
        link = self.root / "data" / "served.txt"
        current = link.resolve()
        other = current.with_name("b.txt" if current.name == "a.txt" else "a.txt")
        other.write_text(self._other(current) + "\n")
        same_mtime(other, current)  # the unlucky case: a same-size file, same mtime
        link.unlink()
        link.symlink_to(other.name)

    @rule(value=st.sampled_from(["", "", "instances", "instanceZ"]))
    def set_variable(self, value: str) -> None:
        self.env["KML_SERVED"] = value

    @rule(on=st.booleans())
    def flag(self, on: bool) -> None:
        flag = self.root / "data" / "flag"
        if on:
            flag.write_text("")
        elif flag.exists():
            flag.unlink()

    @rule(suffix=st.sampled_from(["", "x"]))
    def reinstall_library(self, suffix: str) -> None:
        install_helper(self.root, suffix)

    @rule(extra=st.sampled_from(["", "y"]))
    def edit_editable_checkout(self, extra: str) -> None:
        edit_checkout(self.checkout, extra)

    @rule(reader=st.sampled_from(sorted(READERS)))
    def switch_reader(self, reader: str) -> None:
        write_registry(self.root, reader, libraries=True)

    @rule(kind=st.sampled_from(["entry", "key", "folder-link", "restore"]))
    def plant(self, kind: str) -> None:
        folder = self.root / CACHE_DIR
        if kind == "entry":  # a clean verdict with no inputs under every entry's name
            for entry in folder.glob("*.json") if folder.is_dir() else ():
                document = json.loads(entry.read_text().split("\n", 1)[1])
                document["payload"]["pairs"] = []
                document["inputs"] = {"files": {}, "stats": {}, "lstats": {}, "dirs": {}}
                forged = json.dumps(document)
                mac = hmac.new(os.urandom(32), forged.encode(), hashlib.sha256).hexdigest()
                entry.write_text(mac + "\n" + forged)
        elif kind == "key":  # XDG_CACHE_HOME inside the checkout, with a known key
            plant_key(self.root / ".ci-cache")
            self.env["XDG_CACHE_HOME"] = str(self.root / ".ci-cache")
        elif kind == "folder-link":
            if folder.is_symlink() or not folder.exists():
                folder.unlink(missing_ok=True)
            else:
                shutil.rmtree(folder)
            folder.symlink_to(self.root / "conf" / "base", target_is_directory=True)
        else:
            self.env["XDG_CACHE_HOME"] = str(self.user_cache)
            if folder.is_symlink():
                folder.unlink()

    def _exact(self):
        """The oracle, ``check --exact``, in this process as a fresh interpreter runs it: this
        environment, the folders its ``PYTHONPATH`` names first on ``sys.path``, and the
        libraries the steps edit imported anew (a fresh interpreter costs a second of CPU a
        step; the cached run, the subject, still gets one)."""
        libraries = ("kml_helper", "kml_checkout")
        env = {k: v for k, v in self.env.items() if k != "PYTHONPATH"}
        path = sys.path[:]
        sys.path[:0] = [str(self.root / SITE), str(self.checkout)]
        for name in libraries:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        try:
            return run_cli("check", self.root, "--exact", "--format", "json", env=env)
        finally:
            sys.path[:] = path
            for name in libraries:
                sys.modules.pop(name, None)

    @invariant()
    def cached_is_exact(self) -> None:
        if not hasattr(self, "root"):
            return
        started = time.monotonic()
        reference = self._exact()
        # Let the files age past the racy window before the store, so that the entry the
        # next step meets holds them by stat alone (the path an edit could slip through).
        time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
        cached = run_cli("check", self.root, "--format", "json", env=self.env)
        assert verdict_of(cached) == verdict_of(reference), (cached.stderr, reference.stderr)
        assert tree_digest(self.root / "conf") == self.conf_before


TestEditSequences = EditSequences.TestCase
TestEditSequences.settings = settings(
    max_examples=3,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_the_property_s_project_is_served_from_the_cache(tmp_path: Path) -> None:
    """A cache that never served anything would pass the property: this one does serve."""
    root = make_project(tmp_path)
    env = {NO_CACHE_ENV: "0"}
    runs = [
        run_cli("check", root, "-v", env=env, process=True) for _ in range(2)
    ]  # as the property runs
    assert "(from the cache)" not in runs[0].stderr
    assert "(from the cache)" in runs[1].stderr
