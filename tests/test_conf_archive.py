"""``check --conf-source`` on an archive (``kedro package``'s ``conf-<package>.tar.gz``)."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli, tree_digest

pytestmark = pytest.mark.integration  # real loads of a project, in a process


def _packaged(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """A copy of churn-broken whose configuration is only in an archive, as deployed."""
    project = tmp_path / "churn-broken"
    shutil.copytree(EXAMPLES / "churn-broken", project)
    conf = project / "conf"
    archive = tmp_path / f"conf-churn_broken.{kind}"
    if kind == "tar.gz":  # what `kedro package` runs: tar -czf … --directory=<root> conf
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(conf, arcname="conf")
    else:
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in sorted(conf.rglob("*")):
                zipped.write(path, path.relative_to(project).as_posix())
    shutil.move(conf, tmp_path / "conf-elsewhere")  # the archive is all there is
    return project, archive


def _report(*args: str | Path) -> tuple[int, dict]:
    run = run_cli("check", *args, "--format", "json", "--no-cache")
    assert run.code in (0, 1), run.stdout + run.stderr
    return run.code, json.loads(run.stdout)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_archive_reads_as_its_folder_and_names_its_members(tmp_path: Path, kind: str) -> None:
    project, archive = _packaged(tmp_path, kind)
    code, from_archive = _report(project, "--conf-source", archive)
    _, from_folder = _report(project, "--conf-source", tmp_path / "conf-elsewhere")
    assert code == 1

    def pairs(report: dict) -> list[tuple[str, str | None]]:
        return sorted((v["code"], v["subject"]) for v in report["violations"])

    assert pairs(from_archive) == pairs(from_folder) != []
    locations = {
        (v["code"], v["subject"]): v["location"]["path"]
        for v in from_archive["violations"]
        if v["location"]
    }
    # A catalog entry's location is the archive's member, named ARCHIVE!MEMBER.
    assert locations[("KML002", "scaler")] == f"{archive}!conf/base/catalog.yml"
    assert not any("kedro-ml-lint-conf-" in path for path in locations.values())


def test_fix_on_an_archive_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    project, archive = _packaged(tmp_path, "tar.gz")
    before = tree_digest(tmp_path)
    run = run_cli("check", project, "--conf-source", archive, "--fix")
    assert run.code == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kedro-ml-lint: error: --fix cannot edit")
    assert str(archive) in lines[0] and "Traceback" not in run.stderr
    assert tree_digest(tmp_path) == before


def test_a_missing_archive_is_one_line(tmp_path: Path) -> None:
    project, _archive = _packaged(tmp_path, "tar.gz")
    run = run_cli("check", project, "--conf-source", tmp_path / "nope.tar.gz")
    assert run.code == 2
    assert run.stderr.strip().splitlines() == [
        f"kedro-ml-lint: error: the configuration archive `{tmp_path / 'nope.tar.gz'}` "
        "does not exist"
    ]
