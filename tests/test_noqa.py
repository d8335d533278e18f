"""``# noqa`` on catalog key lines: parsing, silencing, and ``--show-unused-noqa``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli
from project_factory import CATALOG, write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.diagnostics import Location
from kedro_ml_lint.engine import UnusedNoqa, unused_noqa
from kedro_ml_lint.reading.catalog import CatalogIndex

UNUSED_LINE = re.compile(r"^kedro-ml-lint: warning: (?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): ")


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        ("model:", None),
        ("model:  # the fitted model", None),
        ("model:  # noqa", frozenset()),
        ("model: #noqa", frozenset()),
        ("model:  # NOQA", frozenset()),
        ("model:  # noqa: KML002", frozenset({"KML002"})),
        ("model:  # noqa:KML002", frozenset({"KML002"})),
        ("model:  # noqa: kml001", frozenset({"KML001"})),
        ("model:  # NoQA: KML001,KML002", frozenset({"KML001", "KML002"})),
        ("model:  # noqa: KML001 , kml002,KML003", frozenset({"KML001", "KML002", "KML003"})),
        ("model:  # noqa: KML001 KML002", frozenset({"KML001", "KML002"})),
        ("model:  # noqa: KML001 because the bucket is mounted", frozenset({"KML001"})),
        ("model:  # the model, see docs # noqa: KML002", frozenset({"KML002"})),
        ('"model":  # noqa: KML003', frozenset({"KML003"})),
        ("'model':  # noqa: KML003", frozenset({"KML003"})),
        ("model: {type: MemoryDataset}  # noqa: KML001", frozenset({"KML001"})),
    ],
)
def test_noqa_parsing(tmp_path: Path, line: str, codes: frozenset[str] | None) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(f"# header\n{line}\n  type: pickle.PickleDataset\n")
    position = CatalogIndex(tmp_path, [path]).position("model")
    assert position is not None
    assert (position.path, position.line, position.noqa) == ("catalog.yml", 2, codes)


def test_noqa_on_a_nested_line_is_not_a_directive(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text("model:\n  filepath: s3://b/m.pkl  # noqa: KML002\n")
    index = CatalogIndex(tmp_path, [path])
    assert index.position("model").noqa is None
    assert index.directives() == []


def test_unused_noqa_judges_only_codes_of_rules_that_ran() -> None:
    here, there, bare = Location("c.yml", 1), Location("c.yml", 5), Location("c.yml", 9)
    directives = [
        (here, frozenset({"KML001", "KML002", "KML999"})),
        (there, frozenset({"KML101"})),
        (bare, frozenset()),
    ]
    found = unused_noqa(directives, {(here, "KML001")}, {"KML001", "KML002"})
    assert found == [
        UnusedNoqa(here, unused=("KML002",), unknown=("KML999",)),
        UnusedNoqa(bare, bare=True),
    ]
    assert unused_noqa(directives[2:], {(bare, "KML003")}, {"KML003"}) == []


def remote(catalog: str) -> str:
    return catalog.replace("data/06_models/scaler.pkl", "s3://bucket/scaler.pkl").replace(
        "data/06_models/model.pkl", "s3://bucket/model.pkl"
    )


@pytest.mark.integration
def test_noqa_silences_named_codes_and_reports_the_idle_ones(tmp_path: Path) -> None:
    catalog = (
        remote(CATALOG)
        .replace("model:  # the fitted model", "model:  # noqa: KML002, KML001")
        .replace("scaler:", "scaler:  # noqa: KML003")
        .replace("instances:", "instances:  # noqa")
    )
    root = write_project(tmp_path, catalog=catalog)
    result = lint_project(root)
    assert {(v.code, v.subject) for v in result.violations} == {("KML002", "scaler")}
    lines = (root / "conf/base/catalog.yml").read_text().splitlines()
    by_key = {lines[u.location.line - 1].split(":")[0]: u for u in result.unused_noqa}
    assert by_key == {
        "model": UnusedNoqa(by_key["model"].location, unused=("KML001",)),
        "scaler": UnusedNoqa(by_key["scaler"].location, unused=("KML003",)),
        "instances": UnusedNoqa(by_key["instances"].location, bare=True),
    }
    run = run_cli("check", root, "--show-unused-noqa", "-q")
    assert run.code == 1
    warned = [UNUSED_LINE.match(line) for line in run.stderr.splitlines()]
    assert sorted(int(m["line"]) for m in warned if m) == sorted(
        u.location.line for u in result.unused_noqa
    )
    assert "KML001" in run.stderr and "KML003" in run.stderr
    assert run_cli("check", root, "-q").stderr == ""  # only when asked


def test_deselected_rule_codes_are_not_reported_unused(tmp_path: Path) -> None:
    catalog = remote(CATALOG).replace("model:  # the fitted model", "model:  # noqa: KML002")
    root = write_project(tmp_path, catalog=catalog)
    assert lint_project(root, ignore=["KML002"]).unused_noqa == []
    assert [u.unused for u in lint_project(root, select=["KML002"]).unused_noqa] == []
