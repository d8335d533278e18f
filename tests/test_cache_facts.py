"""Sealed facts about the environment (import records), on their own: no project, no process.

docs/design.md §4 and §13. tests/test_import_health.py proves the same end to end on real
projects; these pin the cache package's side in the fast lane.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from kedro_ml_lint.cache import recording as recording_module
from kedro_ml_lint.cache.facts import Facts
from kedro_ml_lint.cache.recording import recorded

ABOUT = {"import": "xgboost", "from": [], "sys_path": ["/somewhere"]}


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file here was just written: validate by ``stat`` (tests/test_cache_recording.py)."""
    monkeypatch.setattr(recording_module, "_RACY_NS", 0)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """An installed library's file, and a project folder apart from it."""
    (tmp_path / "site").mkdir()
    (tmp_path / "project").mkdir()
    path = tmp_path / "site" / "core.py"
    path.write_text("class Booster: ...\n")
    return path


def _learn(facts: Facts, library: Path, about: dict = ABOUT) -> bool:
    with recorded(str(library.parent.parent / "project"), project_modules=False) as recording:
        library.read_text()
    return facts.store(about, recording)


def test_a_stored_fact_holds_until_what_it_read_changes(library: Path) -> None:
    facts = Facts("imports", library.parent.parent / "project")
    assert facts.usable and not facts.holds(ABOUT)
    assert _learn(facts, library)
    assert facts.holds(ABOUT)
    assert not facts.holds({**ABOUT, "import": "lightgbm"})  # another fact
    before = library.stat()
    library.write_text("raise ImportError".ljust(before.st_size - 1) + "\n")  # broken since
    os.utime(library, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = library.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert not Facts("imports", library.parent.parent / "project").holds(ABOUT)


def test_a_fact_s_inputs_join_every_active_recording(library: Path) -> None:
    root = library.parent.parent / "project"
    assert _learn(Facts("imports", root), library)
    with recorded(str(root)) as outer:
        assert Facts("imports", root).holds(ABOUT)
    assert str(library) in outer.files  # a snapshot taken through the fact falls with it


def test_facts_live_beside_the_key_and_a_forged_one_is_ignored(library: Path) -> None:
    root = library.parent.parent / "project"
    facts = Facts("imports", root)
    assert _learn(facts, library)
    [stored] = list(facts.folder.glob("*.json"))
    assert facts.folder.parent.name == "kedro-ml-lint" and (facts.folder.parent / "key").is_file()
    assert oct(facts.folder.stat().st_mode & 0o777) == "0o700"
    seal, _, text = stored.read_text().partition("\n")
    stored.write_text("f" * len(seal) + "\n" + text)  # another key's seal
    assert not Facts("imports", root).holds(ABOUT)


def test_a_refused_key_means_no_fact(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = library.parent.parent / "project"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))  # inside the project
    facts = Facts("imports", root)
    assert not facts.usable and "inside the project" in (facts.problem or "")
    assert not _learn(facts, library) and not facts.holds(ABOUT)
    assert not (root / ".cache").exists()


def test_an_uncacheable_recording_is_never_stored(library: Path) -> None:
    root = library.parent.parent / "project"
    facts = Facts("imports", root)
    with recorded(str(root), project_modules=False) as recording:
        library.read_text()
        recording.refuse("the load ran a subprocess (`git`)")
    assert not facts.store(ABOUT, recording) and not facts.holds(ABOUT)


def test_an_environment_fact_does_not_depend_on_the_project_s_modules(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = library.parent.parent / "project"
    (root / "projmod_facts.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(root))
    importlib.import_module("projmod_facts")  # a project module loaded before the block
    try:
        with recorded(str(root), project_modules=False) as fact:
            library.read_text()
        with recorded(str(root)) as snapshot:
            library.read_text()
    finally:
        del sys.modules["projmod_facts"]
    assert str(root / "projmod_facts.py") not in fact.files
    assert str(root / "projmod_facts.py") in snapshot.files


def _maps() -> set[str]:
    with open("/proc/self/maps") as maps:
        return {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="no /proc/self/maps here")
def test_the_native_libraries_an_import_maps_are_inputs(tmp_path: Path) -> None:
    """An extension module's own native dependency (libncursesw for ``_curses``, libffi for
    ``_ctypes``…) is loaded with no audit event: a fact about the import depends on it."""
    candidates = ("_curses", "_dbm", "_gdbm", "_ctypes", "_lzma", "_bz2", "_uuid", "readline")
    fresh = [name for name in candidates if name not in sys.modules]
    for name in fresh:
        before = _maps()
        with recorded(str(tmp_path), project_modules=False, shared_objects=True) as fact:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        native = {
            path
            for path in _maps() - before
            if path.startswith("/") and path != getattr(module, "__file__", None)
        }
        if native:
            assert native <= set(fact.files), sorted(native - set(fact.files))
            return
    pytest.skip(f"no extension module with a native dependency left to import ({fresh})")
