"""Import records: a heavy library is deferred only where its real import is known to succeed.

Issue 19's last gap (docs/design.md §4): a library on the deferral list whose import fails
(a broken install), imported plainly by the project and only named while the registry
loads, failed the load for real and passed it deferred. Each test writes a fake ``xgboost``
(on the deferral list, not installed here) to a folder on ``PYTHONPATH`` and runs the
checker in real processes, each test with its own empty user cache folder (conftest).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRun, run_cli, tree_digest
from project_factory import NODES, write_project

pytestmark = pytest.mark.integration

# Written as Kedro's templates generate a node module: typed signatures with `typing`
# generics, no `from __future__ import annotations`; `xgb.Booster` is only named.
XGB_NODES = (
    """
from typing import Any, Dict

import xgboost as xgb


def train(features: Dict[str, Any], parameters: Dict[str, Any]) -> xgb.Booster:
    return xgb.Booster()
"""
    + NODES
)

# As a real package is laid out: its `__init__` binds `Booster` (so the name is proven to
# exist from source, docs/design.md §4) from a module that loads the native library.
INIT = "from .core import Booster\n"
BROKEN = 'raise ImportError("libxgboost.so: cannot open shared object file")\n'
# The same size as BROKEN: with its mtime put back, only the ctime tells the edit.
WORKING = "class Booster:\n    pass\n"
WORKING += "#" * (len(BROKEN) - len(WORKING) - 1) + "\n"

PROBE = """
import json, sys
from kedro_ml_lint.api import lint_project
result = lint_project(sys.argv[1])
print(json.dumps({
    "deferred": list(result.loaded.deferred),
    "recorded": list(result.loaded.import_recorded),
    "imported": "xgboost" in sys.modules,
    "violations": sorted((v.code, v.subject or "") for v in result.violations),
}))
"""


@pytest.fixture
def xgboost_site(tmp_path: Path) -> Path:
    """A folder holding a working fake ``xgboost``; put first on ``PYTHONPATH`` by ``env``."""
    assert importlib.util.find_spec("xgboost") is None, "xgboost is installed: pick another"
    site = tmp_path / "site"
    (site / "xgboost").mkdir(parents=True)
    (site / "xgboost" / "__init__.py").write_text(INIT)
    (site / "xgboost" / "core.py").write_text(WORKING)
    return site


def _env(site: Path) -> dict[str, str]:
    # No bytecode: an edit that keeps size and mtime would be served from a stale .pyc by
    # Python itself, for real as well as deferred.
    return {
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _probe(project: Path, site: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, **_env(site)},
        check=True,
    )
    return json.loads(proc.stdout.splitlines()[-1])


def _check(project: Path, site: Path, *flags: str, cached: bool = False) -> CliRun:
    env = _env(site)
    if not cached:
        flags = ("--no-cache", *flags)
    env["KEDRO_ML_LINT_NO_CACHE"] = "0"  # one environment for every run: records key on it
    return run_cli("check", project, *flags, env=env)


def _break(site: Path) -> None:
    """Make the library's import fail, keeping its file's size and mtime (not its ctime)."""
    init = site / "xgboost" / "core.py"
    before = init.stat()
    init.write_text(BROKEN)
    os.utime(init, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = init.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _records() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "kedro-ml-lint" / "imports"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_broken_library_only_named_fails_the_load_as_for_real(
    tmp_path: Path, xgboost_site: Path
) -> None:
    (xgboost_site / "xgboost" / "core.py").write_text(BROKEN)
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    deferred_run = _check(project, xgboost_site)
    real_run = _check(project, xgboost_site, "--no-defer")
    assert real_run.code == 2 and "libxgboost.so" in real_run.stderr, real_run.stderr
    assert (deferred_run.code, deferred_run.stderr) == (real_run.code, real_run.stderr)
    assert _records() == []  # a failed import is never recorded


def test_a_working_library_is_recorded_then_deferred_with_the_same_verdict(
    tmp_path: Path, xgboost_site: Path
) -> None:
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    learning = _probe(project, xgboost_site)
    assert learning["recorded"] == ["xgboost"] and learning["imported"], learning
    assert learning["deferred"] == []
    assert len(_records()) == 1
    deferring = _probe(project, xgboost_site)
    assert deferring["deferred"] == ["xgboost"] and not deferring["imported"], deferring
    assert deferring["recorded"] == []
    assert deferring["violations"] == learning["violations"]
    # -v says which libraries were imported for real to be recorded (another environment
    # than the API's: it learns once too).
    said = _check(project, xgboost_site, "-v")
    assert "deferred import: xgboost imported for real, no valid import record" in said.stderr
    assert "imported for real" not in _check(project, xgboost_site, "-v").stderr


def test_a_library_broken_since_its_record_fails_the_load_again(
    tmp_path: Path, xgboost_site: Path
) -> None:
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    assert _check(project, xgboost_site).code == 0  # learns: xgboost imports
    assert _probe(project, xgboost_site)["deferred"] == []  # (the API's environment: learns)
    assert _probe(project, xgboost_site)["deferred"] == ["xgboost"]
    _break(xgboost_site)
    deferred_run = _check(project, xgboost_site)
    real_run = _check(project, xgboost_site, "--no-defer")
    assert real_run.code == 2, real_run.stderr
    assert (deferred_run.code, deferred_run.stderr) == (real_run.code, real_run.stderr)


def test_a_cached_verdict_reached_by_deferring_falls_with_its_record(
    tmp_path: Path, xgboost_site: Path
) -> None:
    """The snapshot of a deferring load depends on the record's inputs: no stale hit."""
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    assert _check(project, xgboost_site).code == 0  # learns the record, uncached
    assert _check(project, xgboost_site, cached=True).code == 0  # defers; stores the snapshot
    _break(xgboost_site)
    # Without the record's inputs in the snapshot, this run would be a hit: exit 0.
    after = _check(project, xgboost_site, cached=True)
    assert after.code == 2, after.stderr
    assert after.stderr == _check(project, xgboost_site, "--no-defer").stderr


def _forge(record: Path, key: bytes | None) -> None:
    """Reseal ``record`` under ``key`` (another user's), or strip its seal (``None``)."""
    _, _, text = record.read_text().partition("\n")
    if key is None:
        record.write_text("0" * 64 + "\n" + text)
    else:
        mac = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        record.write_text(mac + "\n" + text)


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["unsealed", "other-key"])
def test_a_forged_record_is_never_trusted(
    tmp_path: Path, xgboost_site: Path, key: bytes | None
) -> None:
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    _probe(project, xgboost_site)
    [record] = _records()
    _forge(record, key)
    again = _probe(project, xgboost_site)
    assert again["recorded"] == ["xgboost"] and again["deferred"] == [], again  # real import
    assert _probe(project, xgboost_site)["deferred"] == ["xgboost"]  # rewritten, ours again


def test_a_refused_key_means_nothing_is_deferred(tmp_path: Path, xgboost_site: Path) -> None:
    """The key's refusals apply: a cache folder inside the project holds no secret."""
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    inside = {**_env(xgboost_site), "XDG_CACHE_HOME": str(project / ".cache")}
    for _ in range(2):
        run = run_cli("check", project, "--no-cache", "-v", env=inside)
        assert run.code == 0, run.stderr
    assert "deferred import off: cannot use the cache key" in run.stderr
    assert "inside the project" in run.stderr
    assert not (project / ".cache" / "kedro-ml-lint" / "imports").exists()


def test_records_are_never_written_in_the_project(tmp_path: Path, xgboost_site: Path) -> None:
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    before = tree_digest(project)
    for _ in range(2):
        assert _check(project, xgboost_site).code == 0
    assert tree_digest(project) == before
    assert len(_records()) == 1
    assert all(not str(r).startswith(str(project)) for r in _records())


def test_an_import_no_record_can_hold_is_never_deferred(tmp_path: Path, xgboost_site: Path) -> None:
    """A library whose import runs a subprocess: what it learns there cannot be recorded."""
    (xgboost_site / "xgboost" / "__init__.py").write_text(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'pass'], check=True)\n"
        "from .core import Booster\n"
    )
    project = write_project(tmp_path / "p", nodes=XGB_NODES)
    for _ in range(2):
        probed = _probe(project, xgboost_site)
        assert probed["imported"] and probed["deferred"] == probed["recorded"] == [], probed
    assert _records() == []
