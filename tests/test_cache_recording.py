"""The cache's leaf package on its own: recording, validation and the key's checks.

docs/design.md §13. No project is loaded and no process started: the fast lane's proof that
each input class is recorded and each refusal made; tests/test_cache_soundness.py proves the
same on real projects end to end.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from kedro_ml_lint.cache import recording as recording_module
from kedro_ml_lint.cache.recording import inputs_of, recorded, stale_input, suspect_names
from kedro_ml_lint.cache.seal import KeyRefused, user_key


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files here were all just written: without this, every one would be re-hashed as
    "changed within 2 s of the store", hiding the stat path under test (the window itself is
    proven end to end in tests/test_cache_soundness.py, which waits it out)."""
    monkeypatch.setattr(recording_module, "_RACY_NS", 0)


@pytest.fixture
def settled(tmp_path: Path) -> Path:
    """Two same-size files with the same mtime."""
    (tmp_path / "a.txt").write_text("instances\n")
    (tmp_path / "b.txt").write_text("instanceZ\n")
    shutil.copystat(tmp_path / "a.txt", tmp_path / "b.txt")
    return tmp_path


def record(action, root: Path | None = None):
    with recorded(str(root) if root else None) as recording:
        action()
    return recording, inputs_of(recording)


def test_a_copy_keeping_size_and_mtime_is_stale(settled: Path) -> None:
    _, inputs = record(lambda: (settled / "a.txt").read_text())
    assert inputs is not None and stale_input(inputs) is None
    before = (settled / "a.txt").stat()
    shutil.copy2(settled / "b.txt", settled / "a.txt")  # cp -p: same size, same mtime
    after = (settled / "a.txt").stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert stale_input(inputs) == f"file {settled / 'a.txt'}"


def test_a_touched_file_with_the_same_content_is_still_valid(settled: Path) -> None:
    _, inputs = record(lambda: (settled / "a.txt").read_text())
    (settled / "a.txt").touch()
    assert stale_input(inputs) is None  # the content decides, for the project's files


def test_an_installed_file_must_keep_its_stat(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    module = site / "helper.py"
    module.write_text("X = 1\n")
    _, inputs = record(module.read_text)
    assert inputs is not None and inputs["files"][str(module)][1] is None  # stat only
    module.write_text("X = 1\n")  # reinstalled, same content: stat changed, a miss
    assert stale_input(inputs) == f"file {module}"


def test_a_path_only_looked_at_is_an_input(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    recording, inputs = record(lambda: os.path.exists(flag))
    assert recording.stats[str(flag)] is None and inputs is not None
    flag.write_text("")
    assert stale_input(inputs) == f"path {flag}"


def test_a_folder_looked_at_counts_by_identity_not_times(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    _, inputs = record(folder.is_dir)
    (folder / "new").write_text("")  # its times change, what is_dir tells does not
    assert inputs is not None and stale_input(inputs) is None
    folder.rename(tmp_path / "moved")
    folder.mkdir()  # another folder of that name (the old one still holds its inode)
    assert stale_input(inputs) == f"path {folder}"


def test_a_listed_folder_counts_by_its_names(tmp_path: Path) -> None:
    _, inputs = record(lambda: list(tmp_path.glob("*.yml")))
    assert inputs is not None
    (tmp_path / "catalog_more.yml").write_text("")
    assert stale_input(inputs) == f"folder {tmp_path}"


def test_a_module_installed_after_a_failed_optional_import_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import system lists a folder once per process, then answers from memory: a
    failed ``try: import x`` inside the load leaves no event. The folder's names count."""
    import importlib

    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def optional() -> None:
        with pytest.raises(ImportError):
            importlib.import_module("kml_not_installed_yet")

    optional()  # before the recording: the finder has listed the folder already
    _, inputs = record(optional)
    assert inputs is not None and stale_input(inputs) is None
    (site / "kml_not_installed_yet.py").write_text("")
    assert stale_input(inputs) == f"folder {site}"


def test_the_environment_is_one_input(monkeypatch: pytest.MonkeyPatch) -> None:
    _, inputs = record(lambda: None)
    assert inputs is not None and stale_input(inputs) is None
    monkeypatch.setenv("KML_NEVER_READ_IN_PYTHON", "1")  # native getenv is unseen
    assert stale_input(inputs) == "the environment"


def test_the_project_reading_the_clock_refuses(tmp_path: Path) -> None:
    source = tmp_path / "registry.py"
    code = compile("import time\nSTAMP = time.time()\n", str(source), "exec")
    recording, _ = record(lambda: exec(code, {}), root=tmp_path)
    assert recording.uncacheable == "the load read the clock (`time.time`)"


def test_a_library_module_body_reading_the_clock_is_harmless(tmp_path: Path) -> None:
    library = tmp_path / "site-packages" / "lib.py"
    code = compile("import time\nSTAMP = time.time()\n", str(library), "exec")
    recording, _ = record(lambda: exec(code, {}), root=tmp_path / "project")
    assert recording.uncacheable is None
    formatted, _ = record(lambda: time.strftime("%Y", time.gmtime(0)), root=tmp_path)
    assert formatted.uncacheable is None  # given a time, these are pure functions


def test_reading_a_file_descriptor_refuses(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    fd = os.open(tmp_path / "x", os.O_RDONLY)
    recording, _ = record(lambda: os.fdopen(fd).read())
    assert recording.uncacheable == "the load read from a file descriptor"


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from datetime import datetime\nX = datetime.now()\n", "`now` (the clock)"),
        ("import uuid\nX = uuid.uuid4().hex\n", "`uuid4` (randomness)"),
        ("import platform\nX = platform.node()\n", "`platform` (the host)"),
        ("def f(pd):\n    return pd.read_parquet('x')\n", "`read_parquet` (a native reader)"),
        ("from kedro.pipeline import node\nX = node\n", None),
    ],
)
def test_project_sources_are_scanned_for_names(
    tmp_path: Path, source: str, found: str | None
) -> None:
    path = tmp_path / "nodes.py"
    path.write_text(source)
    hit = suspect_names([str(path)])
    assert hit == (f"{found} in {path}" if found else None)


# -- the key ------------------------------------------------------------------------------


@pytest.fixture
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_a_key_is_made_for_the_user_alone(key_home: Path, tmp_path: Path) -> None:
    key = user_key(tmp_path / "project")
    path = key_home / "kedro-ml-lint" / "key"
    assert len(key) == 32 and path.read_bytes() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("spoil", "fragment"),
    [
        (lambda key: key.chmod(0o644), "readable or writable by others"),
        (lambda key: key.parent.chmod(0o775), "others can write it"),
        (lambda key: key.write_bytes(b"short"), "not a kedro-ml-lint key"),
        (lambda key: (key.unlink(), key.symlink_to("/dev/null")), "symbolic link"),
        (lambda key: (key.parent.parent / ".git").mkdir(), "git work tree"),
    ],
    ids=["mode-0644", "open-folder", "short", "link", "in-a-repository"],
)
def test_a_key_that_could_be_someone_elses_is_refused(
    key_home: Path, tmp_path: Path, spoil, fragment: str
) -> None:
    # A fresh path per case: keys already checked in this process are remembered.
    user_key(tmp_path / "project")
    from kedro_ml_lint.cache import seal

    seal._keys.clear()
    spoil(key_home / "kedro-ml-lint" / "key")
    with pytest.raises(KeyRefused, match=fragment):
        user_key(tmp_path / "project")


def test_a_key_inside_the_project_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "project" / ".cache"))
    with pytest.raises(KeyRefused, match="inside the project"):
        user_key(tmp_path / "project")
    assert not (tmp_path / "project" / ".cache").exists()  # nothing made there


def test_runs_making_the_key_at_once_agree(key_home: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from kedro_ml_lint.cache import seal

    def make(_: int) -> bytes:
        seal._keys.clear()
        return user_key(tmp_path / "project")

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(make, range(16)))
    assert keys == {(key_home / "kedro-ml-lint" / "key").read_bytes()}
    assert [p.name for p in (key_home / "kedro-ml-lint").iterdir()] == ["key"]


def test_what_a_recorded_block_writes_to_the_environment_is_not_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A load that sets a variable (scikit-learn's import sets ``KMP_*``) leaves the digest
    as it started, so a second load in the same process is keyed as the first; the same
    variable changed afterwards by anyone else counts."""
    monkeypatch.delenv("KML_TEST_WRITTEN", raising=False)
    monkeypatch.setattr(recording_module, "_WRITTEN", {})
    before = recording_module.environment_digest()
    with recorded():
        os.environ["KML_TEST_WRITTEN"] = "by the load"
    assert recording_module.environment_digest() == before
    os.environ["KML_TEST_WRITTEN"] = "by the user"
    assert recording_module.environment_digest() != before
    del os.environ["KML_TEST_WRITTEN"]
    assert recording_module.environment_digest() == before
