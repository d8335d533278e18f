"""A corpus of odd and broken projects.

Each gives a correct verdict or a clean exit 2, never a traceback, and leaves every file
as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli, tree_digest
from project_factory import CATALOG, NODES, PIPELINES, REGISTRY, write_project


@dataclass(frozen=True)
class Case:
    """One corpus project: how to build it and what ``check`` must say."""

    build: Callable[[Path], Path]
    exit_code: int
    where: str | None = None  # "path" or "path:line" the exit-2 message must name
    pairs: frozenset[tuple[str, str | None]] | None = None  # (code, subject) for exit 0/1


def _append(relative: str, text: str | bytes) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        write_project(root)
        path = root / relative
        if isinstance(text, bytes):
            path.write_bytes(path.read_bytes() + text)
        else:
            path.write_text(path.read_text() + text)
        return root

    return build


def _project(**kwargs: str) -> Callable[[Path], Path]:
    return lambda root: write_project(root, **kwargs)


def _then(build: Callable[[Path], Path], change: Callable[[Path], None]) -> Callable[[Path], Path]:
    def both(root: Path) -> Path:
        build(root)
        change(root)
        return root

    return both


def _symlinked_conf(root: Path) -> None:
    real = root.parent / f"{root.name}-conf"
    shutil.move(str(root / "conf"), str(real))
    os.symlink(real, root / "conf")


def _pyproject_replace(old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / "pyproject.toml"
        path.write_text(path.read_text().replace(old, new))

    return change


ANCHORS = """
_pickle: &pickle
  type: pickle.PickleDataset
instances:
  type: pandas.CSVDataset
  filepath: data/01_raw/instances.csv
scaler:
  <<: *pickle
  filepath: data/06_models/scaler.pkl
model:
  <<: *pickle
  filepath: data/06_models/model.pkl
"""
EMPTY_PIPELINES = (
    "from kedro.pipeline import Pipeline\n\n\ndef training():\n    return Pipeline([])\n\n\n"
    "def inference():\n    return Pipeline([])\n"
)
HUGE = "x" * 5000
DUCK_REGISTRY = (
    "from {package}.pipelines import training\n\n\ndef register_pipelines():\n"
    "    t = training()\n    t.inference = None\n    t.input_name = 'x'\n"
    "    return {{'training': t}}\n"
)
NO_PIPELINES_REGISTRY = "def register_pipelines():\n    return {{'a': 3, '__default__': None}}\n"

CORPUS: dict[str, Case] = {
    "duplicate-catalog-key": Case(
        _append("conf/base/catalog.yml", "model:\n  type: MemoryDataset\n"),
        2,
        "conf/base/catalog.yml:13",
    ),
    "yaml-anchors-and-merge-keys": Case(_project(catalog=ANCHORS), 0, pairs=frozenset()),
    "unknown-dataset-type": Case(
        _project(catalog=CATALOG.replace("pickle.PickleDataset", "nowhere.FancyDataset")),
        0,
        pairs=frozenset(),
    ),
    "entry-without-type": Case(
        _project(
            catalog=CATALOG.replace(
                "  type: pickle.PickleDataset\n  filepath: data/06_models/model.pkl",
                "  filepath: data/06_models/model.pkl",
            )
        ),
        0,
        pairs=frozenset(),
    ),
    "registry-returns-non-pipelines": Case(_project(registry=NO_PIPELINES_REGISTRY), 2),
    "circular-import": Case(
        _project(nodes="from demo.pipelines import training\n" + NODES), 2, "src/demo/nodes.py:1"
    ),
    "input-name-of-wrong-type": Case(
        _project(registry=REGISTRY.replace('input_name="instances"', 'input_name=["instances"]')),
        2,
        "src/demo/pipeline_registry.py:7",
    ),
    "empty-pipelines": Case(
        _project(pipelines=EMPTY_PIPELINES),
        1,
        pairs=frozenset({("KML004", None), ("KML005", None)}),
    ),
    "huge-dataset-name": Case(
        _project(pipelines=PIPELINES.replace('"model"', f'"{HUGE}"')),
        1,
        pairs=frozenset({("KML001", HUGE)}),
    ),
    "non-utf8-catalog": Case(
        _append("conf/base/catalog.yml", b"\nbad:\n  filepath: \xff\xfe.csv\n"),
        2,
        "conf/base/catalog.yml:15",
    ),
    "non-utf8-pyproject": Case(_append("pyproject.toml", b"\n# \xff\n"), 2, "pyproject.toml"),
    "symlinked-conf-dir": Case(_then(_project(), _symlinked_conf), 0, pairs=frozenset()),
    "two-catch-all-patterns": Case(
        _append(
            "conf/base/catalog.yml",
            '"{a}":\n  type: MemoryDataset\n"{b}":\n  type: MemoryDataset\n',
        ),
        2,
        "conf/base/catalog.yml:13",
    ),
    "pattern-with-unknown-placeholder": Case(
        _append(
            "conf/base/catalog.yml",
            '"{a}_x":\n  type: pickle.PickleDataset\n  filepath: "{b}.pkl"\n',
        ),
        2,
        "conf/base/catalog.yml:13",
    ),
    "settings-syntax-error": Case(
        _then(_project(), lambda r: (r / "src/demo/settings.py").write_text("HOOKS = (\n")),
        2,
        "src/demo/settings.py:1",
    ),
    "registry-without-register-pipelines": Case(
        _project(registry="X = 1\n"), 2, "src/demo/pipeline_registry.py"
    ),
    "no-registry-file": Case(
        _then(_project(), lambda r: (r / "src/demo/pipeline_registry.py").unlink()),
        2,
        "src/demo/pipeline_registry.py",
    ),
    "catalog-is-a-list": Case(_project(catalog="- a\n- b\n"), 2, "conf/base/catalog.yml:1"),
    "parameters-is-a-scalar": Case(_project(parameters="3\n"), 2, "conf/base/parameters.yml"),
    "missing-globals-interpolation": Case(
        _project(catalog=CATALOG.replace("data/06_models/model.pkl", "${globals:nope}/model.pkl")),
        2,
        "conf/base/catalog.yml:12",
    ),
    "pairs-not-an-array": Case(
        _project(pyproject_extra='[tool.kedro-ml-lint]\npairs = "x"\n'), 2, "pyproject.toml"
    ),
    "pair-table-without-inference": Case(
        _project(pyproject_extra='[[tool.kedro-ml-lint.pairs]]\ntraining = "training"\n'),
        2,
        "pyproject.toml:10",
    ),
    # Kedro needs the base environment's folder: `kedro run` raises MissingConfigException.
    "no-conf-base": Case(
        _then(_project(), lambda r: shutil.rmtree(r / "conf" / "base")), 2, "conf/base"
    ),
    "pipeline-ml-with-non-pipeline-inference": Case(
        _project(registry=DUCK_REGISTRY), 2, "src/demo/pipeline_registry.py"
    ),
    "source-dir-missing": Case(
        _then(_project(), _pyproject_replace('source_dir = "src"', 'source_dir = "source"')),
        2,
        "pyproject.toml",
    ),
    "empty-catalog-file": Case(
        _project(catalog=""), 1, pairs=frozenset({("KML001", "scaler"), ("KML001", "model")})
    ),
    "catalog-in-subfolder-and-local-env": Case(
        _then(
            _project(catalog=""),
            lambda r: (
                (r / "conf/base/catalog").mkdir(),
                (r / "conf/base/catalog/models.yml").write_text(
                    "scaler:\n  type: pickle.PickleDataset\n  filepath: s.pkl\n"
                ),
                (r / "conf/local/catalog.yml").write_text(
                    "model:\n  type: pickle.PickleDataset\n  filepath: s3://b/m.pkl\n"
                ),
            ),
        ),
        1,
        pairs=frozenset({("KML002", "model")}),
    ),
    "registry-imports-missing-package-lite": Case(
        _project(registry="import xgboost_not_installed\n" + REGISTRY), 0, pairs=frozenset()
    ),
    # A project made with Kedro 0.19 is read as Kedro 0.19 read it (this one is clean).
    "kedro-0.19-project": Case(_project(kedro_version="0.19.12"), 0, pairs=frozenset()),
    "kedro-0.16-project": Case(_project(kedro_version="0.16.6"), 2, "pyproject.toml"),
    "pyproject-is-a-directory": Case(
        lambda root: (root.mkdir(parents=True), (root / "pyproject.toml").mkdir(), root)[-1], 2
    ),
    "input-name-is-produced-by-inference": Case(
        _project(registry=REGISTRY.replace('input_name="instances"', 'input_name="predictions"')),
        1,
        pairs=frozenset({("KML005", None), ("KML003", "instances")}),
    ),
    "parameters-reading-nested-key": Case(
        _project(pipelines=PIPELINES.replace("params:threshold", "params:model_options.C")),
        0,
        pairs=frozenset(),
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.integration
def test_corpus(name: str, tmp_path: Path) -> None:
    case = CORPUS[name]
    root = case.build(tmp_path / "project")
    before = tree_digest(tmp_path)
    run = run_cli("check", root, "--format", "json")
    assert tree_digest(tmp_path) == before, "check modified a file"
    assert "Traceback" not in run.stderr
    assert run.code == case.exit_code, run.stdout + run.stderr
    if case.exit_code == 2:
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("kedro-ml-lint: error: ")
        if case.where:
            assert f"error: {case.where}:" in line, line
        assert run.stdout == ""
    else:
        found = {(v["code"], v["subject"]) for v in run.json["violations"]}
        assert found == case.pairs


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
