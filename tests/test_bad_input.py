"""Anything that stops the analysis: exit 2, one line naming the file, nothing modified."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli, tree_digest
from project_factory import CATALOG, PIPELINES, REGISTRY, write_project

pytestmark = pytest.mark.integration


def _assert_clean_error(run, path: str | None, line: int | None = None) -> None:
    assert run.code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("kedro-ml-lint: error: ")
    if path is not None:
        where = f"{path}:{line}:" if line else f"{path}"
        assert where in lines[0], lines[0]


def _check(root: Path, *args: str):
    before = tree_digest(root)
    run = run_cli("check", root, *args)
    assert tree_digest(root) == before, "check modified the project"
    return run


def test_folder_without_pyproject(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a project")
    run = _check(tmp_path)
    _assert_clean_error(run, None)
    assert "pyproject.toml" in run.stderr


def test_missing_folder(tmp_path: Path) -> None:
    run = run_cli("check", tmp_path / "nowhere")
    assert run.code == 2 and "Traceback" not in run.stderr


def test_pyproject_without_kedro_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    _assert_clean_error(_check(tmp_path), "pyproject.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    write_project(tmp_path)
    path = tmp_path / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.kedro-ml-lint\nselect = 1\n")
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml")
    assert "pyproject.toml:" in run.stderr  # with a line number


def test_missing_kedro_keys(tmp_path: Path) -> None:
    write_project(tmp_path)
    path = tmp_path / "pyproject.toml"
    path.write_text(path.read_text().replace('package_name = "demo"\n', ""))
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml")
    assert "package_name" in run.stderr


@pytest.mark.parametrize("version", ["0.16.5", "0.15.9", "2.0.0"])
def test_unsupported_kedro_version(tmp_path: Path, version: str) -> None:
    write_project(tmp_path, kedro_version=version)
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml")
    assert version in run.stderr
    assert "0.17 to 1.x" in run.stderr


def test_project_without_a_kedro_version(tmp_path: Path) -> None:
    write_project(tmp_path)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        "\n".join(line for line in text.splitlines() if "kedro_init_version" not in line)
    )
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml")
    assert "project_version" in run.stderr and "kedro_init_version" in run.stderr


def test_missing_conf_folder(tmp_path: Path) -> None:
    write_project(tmp_path)
    for path in sorted((tmp_path / "conf").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (tmp_path / "conf").rmdir()
    run = _check(tmp_path)
    _assert_clean_error(run, None)
    assert "conf" in run.stderr


@pytest.mark.parametrize(
    ("broken", "line"),
    [
        ("model:\n  type: pickle.PickleDataset\n  filepath: [unclosed\n", 4),
        ("instances:\n  type: pandas.CSVDataset\n\tfilepath: tab.csv\n", 3),
        ("a: 1\n  b: 2\n", 2),
    ],
    ids=["unclosed-flow", "tab-indent", "bad-indent"],
)
def test_malformed_catalog_yaml(tmp_path: Path, broken: str, line: int) -> None:
    write_project(tmp_path, catalog=broken)
    run = _check(tmp_path)
    _assert_clean_error(run, "conf/base/catalog.yml", line)


def test_malformed_parameters_yaml(tmp_path: Path) -> None:
    write_project(tmp_path, parameters="threshold: [0.5\n")
    _assert_clean_error(_check(tmp_path), "conf/base/parameters.yml")


def test_catalog_entry_that_is_not_a_mapping(tmp_path: Path) -> None:
    write_project(tmp_path, catalog=CATALOG + "\nmodel_path: data/06_models/model.pkl\n")
    run = _check(tmp_path)
    _assert_clean_error(run, "conf/base/catalog.yml")
    assert "model_path" in run.stderr


def test_syntax_error_in_pipeline_module(tmp_path: Path) -> None:
    write_project(tmp_path, pipelines=PIPELINES + "\ndef broken(:\n    pass\n")
    source = (tmp_path / "src/demo/pipelines.py").read_text().splitlines()
    run = _check(tmp_path)
    _assert_clean_error(run, "src/demo/pipelines.py", source.index("def broken(:") + 1)


def test_exception_raised_by_the_registry(tmp_path: Path) -> None:
    registry = REGISTRY.replace(
        "    pair = ", "    raise RuntimeError('no registry today')\n    pair = "
    )
    write_project(tmp_path, registry=registry)
    source = (tmp_path / "src/demo/pipeline_registry.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "no registry today" in text)
    run = _check(tmp_path)
    _assert_clean_error(run, "src/demo/pipeline_registry.py", line)
    assert "no registry today" in run.stderr


def test_registry_returning_a_list(tmp_path: Path) -> None:
    registry = "def register_pipelines():\n    return []\n"
    write_project(tmp_path, registry=registry)
    _assert_clean_error(_check(tmp_path), "src/demo/pipeline_registry.py")


def test_import_error_without_lite(tmp_path: Path) -> None:
    nodes = (
        "import not_a_real_package_xyz\n\n"
        + "def fit(*a):\n    return a[0]\n\n\ndef predict(*a):\n    return a[0]\n"
    )
    write_project(tmp_path, nodes=nodes)
    run = _check(tmp_path, "--no-lite")
    _assert_clean_error(run, "src/demo/nodes.py", 1)
    assert "not_a_real_package_xyz" in run.stderr


def test_unknown_pipeline_in_config_pair(tmp_path: Path) -> None:
    extra = """
    [[tool.kedro-ml-lint.pairs]]
    name = "configured"
    training = "trainnig"
    inference = "inference"
    input_name = "instances"
    """
    write_project(tmp_path, pyproject_extra=extra)
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml", 11)
    assert "`training`" in run.stderr  # did you mean


def test_unknown_pipeline_on_command_line(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = _check(
        tmp_path, "--training", "nope", "--inference", "inference", "--input-name", "instances"
    )
    _assert_clean_error(run, None)
    assert "nope" in run.stderr


def test_unknown_pair_selected(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = _check(tmp_path, "--pipeline", "trainng")
    _assert_clean_error(run, None)
    assert "`training`" in run.stderr


def test_no_pair_found(tmp_path: Path) -> None:
    registry = (
        "from {package}.pipelines import inference\n\n\n"
        "def register_pipelines():\n    return {{'__default__': inference()}}\n"
    )
    write_project(tmp_path, registry=registry)
    run = _check(tmp_path)
    _assert_clean_error(run, None)
    assert "pipeline_ml_factory" in run.stderr and "[[tool.kedro-ml-lint.pairs]]" in run.stderr


def test_unknown_rule_selector(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = _check(tmp_path, "--select", "KML999")
    _assert_clean_error(run, None)


def test_unknown_config_key(tmp_path: Path) -> None:
    write_project(tmp_path, pyproject_extra='[tool.kedro-ml-lint]\nselct = ["KML001"]\n')
    run = _check(tmp_path)
    _assert_clean_error(run, "pyproject.toml")
    assert "`select`" in run.stderr


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    write_project(tmp_path, pipelines=PIPELINES + "\ndef broken(:\n    pass\n")
    run = run_cli("check", tmp_path, "-v")
    assert run.code == 2
    assert "Traceback" in run.stderr


def test_partial_explicit_pair_is_a_usage_error(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = run_cli("check", tmp_path, "--training", "training")
    assert run.code == 2 and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "accepted"),
    [
        (["--output-format", "xml"], "'text', 'json', 'sarif', 'github', 'markdown'"),
        (["--color", "sometimes"], "'auto', 'always', 'never'"),
        (["--config", "lint.toml", "--isolated"], "--config and --isolated"),
    ],
)
def test_a_usage_error_is_one_line_naming_what_is_accepted(
    tmp_path: Path, args: list[str], accepted: str
) -> None:
    write_project(tmp_path)
    run = _check(tmp_path, *args)
    _assert_clean_error(run, None)
    assert accepted in run.stderr
    assert "Usage:" not in run.stderr
