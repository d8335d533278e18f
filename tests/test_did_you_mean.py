"""A misspelt catalog key: KML001 names it, and ``--fix`` adds no second entry for its file.

The broken example with ``encodr:`` configured for the artifact ``encoder``, on the file
``encoder`` would get. What users read is pinned in ``tests/golden/check-did-you-mean.txt``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, tree_digest
from test_golden import GOLDEN, UPDATE, normalise

from kedro_ml_lint.cli import main

MISSPELT = "\nencodr:\n  type: pickle.PickleDataset\n  filepath: data/06_models/encoder.pkl\n"
ENV = {"NO_COLOR": "1", "GITHUB_ACTIONS": None, "GITHUB_WORKSPACE": None}


@pytest.mark.integration  # loads the project twice (check, then --fix)
@pytest.mark.usefixtures("_cli_side_effects_undone")
def test_a_misspelt_key_is_suggested_and_not_duplicated_by_fix(tmp_path: Path) -> None:
    root = tmp_path / "churn-broken"
    shutil.copytree(EXAMPLES / "churn-broken", root, ignore=shutil.ignore_patterns("__pycache__"))
    with (root / "conf" / "base" / "catalog.yml").open("a", encoding="utf-8") as handle:
        handle.write(MISSPELT)
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(root), "--select", "KML001"], env=ENV)
    assert checked.exit_code == 1, checked.stderr
    before = tree_digest(root)
    fixed = runner.invoke(main, ["check", str(root), "--select", "KML001", "--fix"], env=ENV)
    assert fixed.exit_code == 1, fixed.stderr  # nothing fixed: the violation remains
    assert tree_digest(root) == before  # no second entry for data/06_models/encoder.pkl
    actual = normalise(
        f"$ check --select KML001\n{checked.stdout}"
        f"$ check --select KML001 --fix (stderr)\n{fixed.stderr}",
        root,
    )
    golden = GOLDEN / "check-did-you-mean.txt"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="")
    assert actual == golden.read_text(encoding="utf-8")
