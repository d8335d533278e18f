"""``kedro ml-lint …``: the same commands as a Kedro project command, through the real kedro."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BROKEN_EXPECTED, CliRun

pytestmark = pytest.mark.integration


def kedro(*args: str | Path, cwd: Path) -> CliRun:
    """``python -m kedro ARGS`` in ``cwd``, offline, like a user in their project."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE")},
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "kedro", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def test_clean_project_exits_zero(example) -> None:
    run = kedro("ml-lint", "check", cwd=example("churn"))
    assert run.code == 0, run.stdout + run.stderr


def test_broken_project_from_a_sub_folder_reports_every_violation(example) -> None:
    root = example("churn-broken")
    # kedro logs its own start-up to stdout: machine-readable reports go to a file.
    report = root / "report.json"
    run = kedro("ml-lint", "check", "--format", "json", "--output", report, cwd=root / "src")
    assert run.code == 1, run.stdout + run.stderr
    document = json.loads(report.read_text())
    assert {
        (v["pipeline"], v["code"], v["subject"]) for v in document["violations"]
    } == BROKEN_EXPECTED
    assert Path(document["project"]["root"]) == root.resolve()
    assert "supersecret" not in run.stdout + run.stderr + report.read_text()


def test_errors_exit_two(example) -> None:
    run = kedro("ml-lint", "check", "--pipeline", "nope", cwd=example("churn"))
    assert run.code == 2
    assert "kedro-ml-lint: error:" in run.stderr


def test_fix_and_graph_work_as_project_commands(example) -> None:
    root = example("churn-broken")
    before = (root / "conf/base/catalog.yml").read_bytes()
    fixed = kedro("ml-lint", "check", "--fix", "--select", "KML001", cwd=root)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert (root / "conf/base/catalog.yml").read_bytes().startswith(before)
    picture = root / "graph.json"
    drawn = kedro("ml-lint", "graph", "--format", "json", "-o", picture, cwd=root)
    assert drawn.code == 0, drawn.stderr
    pairs = {p["pipeline"]: p for p in json.loads(picture.read_text())["pairs"]}
    assert "KML001" not in pairs["training"]["codes"]
    assert "KML002" in pairs["training"]["codes"]
